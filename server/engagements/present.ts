/**
 * Pure presentation helpers of the engagement service: short labels of nodes and the lens timeline
 * built from node and edge times. Tested in present.test.ts.
 */
import { NODE_KINDS, type NodeKind, type PropValue } from '../../domain/model';
import type { TimelineEvent } from './types';

export function kindOfLabels(labels: readonly string[]): NodeKind | null {
  for (const l of labels) if ((NODE_KINDS as readonly string[]).includes(l)) return l as NodeKind;
  return null;
}

export function basename(path: string): string {
  const i = Math.max(path.lastIndexOf('\\'), path.lastIndexOf('/'));
  return i >= 0 ? path.slice(i + 1) : path;
}

const s = (v: PropValue | null | undefined): string =>
  typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '';

/** Short display text of a node from its kind and properties; falls back to the key without its kind. */
export function nodeLabel(
  kind: NodeKind | null,
  key: string,
  props: Record<string, PropValue | null | undefined>,
): string {
  const rest = key.slice(key.indexOf(':') + 1);
  switch (kind) {
    case 'Process': {
      const img = s(props.image);
      const pid = s(props.pid);
      if (img) return pid ? `${basename(img)} (${pid})` : basename(img);
      return pid ? `pid ${pid}` : rest;
    }
    case 'File':
    case 'RegistryKey':
      return s(props.path) || rest;
    case 'NetworkEndpoint': {
      const ip = s(props.ip);
      const port = s(props.port);
      return ip ? (port ? `${ip.includes(':') ? `[${ip}]` : ip}:${port}` : ip) : rest;
    }
    case 'IpAddress':
      return s(props.ip) || rest;
    case 'DomainName':
    case 'Pipe':
      return s(props.name) || rest;
    case 'User': {
      const name = s(props.name);
      const domain = s(props.domain);
      return name ? (domain ? `${domain}\\${name}` : name) : rest;
    }
    case 'Asset':
      return s(props.hostname) || rest;
    case 'LogonSession':
      return s(props.logon_id) ? `logon ${s(props.logon_id)}` : rest;
    default:
      return rest;
  }
}

export interface ProcessTimes {
  key: string;
  label: string;
  commandLine: string | null;
  user: string | null;
  createTime: number | null;
  terminateTime: number | null;
}

export interface EdgeTimes {
  kind: string;
  from: string;
  fromLabel: string;
  to: string;
  toLabel: string;
  /** The target is in the lens's scope. */
  toInScope: boolean;
  firstSeen: number | null;
  lastSeen: number | null;
  count: number | null;
}

export interface RiskTimes {
  node: string;
  nodeLabel: string;
  title: string;
  score: number;
  firstSeen: number | null;
  lastSeen: number | null;
  count: number;
}

const VERB: Record<string, string> = {
  PARENT_OF: 'started',
  CREATED: 'created file',
  MODIFIED: 'modified file',
  DELETED: 'deleted file',
  READ: 'read file',
  CONNECTED_TO: 'connected to',
  INJECTED_INTO: 'injected a thread into',
  ACCESSED: 'opened process',
  SET_VALUE: 'set registry value under',
  CREATED_KEY: 'created registry key',
  DELETED_KEY: 'deleted registry key',
  RENAMED_KEY: 'renamed registry key',
  CREATED_PIPE: 'created pipe',
  CONNECTED_PIPE: 'connected to pipe',
  RESOLVED: 'resolved',
  LOGGED_ON: 'logged on to',
};

/** Edge kinds shown on the timeline (image loads and the process's own image are left out: noise). */
export const TIMELINE_EDGE_KINDS = Object.keys(VERB);

const clip = (t: string, n: number) => (t.length > n ? `${t.slice(0, n - 1)}…` : t);

/** Events behind a lens's nodes, oldest first, at most `limit`. */
export function buildTimeline(
  input: { processes: readonly ProcessTimes[]; edges: readonly EdgeTimes[]; risks: readonly RiskTimes[] },
  limit = 1000,
): { events: TimelineEvent[]; truncated: boolean } {
  const out: TimelineEvent[] = [];
  for (const p of input.processes) {
    if (p.createTime !== null) {
      const cmd = p.commandLine ? `: ${clip(p.commandLine, 300)}` : '';
      const user = p.user ? ` as ${p.user}` : '';
      out.push({
        time: p.createTime,
        kind: 'process.created',
        node: p.key,
        target: null,
        text: `${p.label} started${user}${cmd}`,
      });
    }
    if (p.terminateTime !== null) {
      out.push({
        time: p.terminateTime,
        kind: 'process.terminated',
        node: p.key,
        target: null,
        text: `${p.label} exited`,
      });
    }
  }
  for (const e of input.edges) {
    if (e.firstSeen === null) continue;
    // A child in scope has its own "started" event.
    if (e.kind === 'PARENT_OF' && e.toInScope) continue;
    const verb = VERB[e.kind] ?? e.kind.toLowerCase().replace(/_/g, ' ');
    const times =
      e.count !== null && e.count > 1 && e.lastSeen !== null && e.lastSeen !== e.firstSeen
        ? ` (${e.count} times until ${new Date(e.lastSeen).toISOString()})`
        : '';
    out.push({
      time: e.firstSeen,
      kind: e.kind,
      node: e.from,
      target: e.to,
      text: `${e.fromLabel} ${verb} ${e.toLabel}${times}`,
    });
  }
  for (const r of input.risks) {
    if (r.firstSeen === null) continue;
    const times = r.count > 1 ? ` (${r.count} hits)` : '';
    out.push({
      time: r.firstSeen,
      kind: 'detection',
      node: r.node,
      target: null,
      text: `Detection on ${r.nodeLabel}: ${r.title} (score ${r.score})${times}`,
    });
  }
  const rank = (k: string) =>
    k === 'process.created' ? 0 : k === 'detection' ? 2 : k === 'process.terminated' ? 3 : 1;
  out.sort(
    (a, b) =>
      a.time - b.time ||
      rank(a.kind) - rank(b.kind) ||
      (a.node < b.node ? -1 : a.node > b.node ? 1 : 0) ||
      (a.text < b.text ? -1 : 1),
  );
  return { events: out.slice(0, limit), truncated: out.length > limit };
}
