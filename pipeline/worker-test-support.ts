/**
 * Test support for the resilience and isolation tests (pipeline/faults.int.test.ts,
 * pipeline/isolation.int.test.ts): worker processes we can SIGKILL, the sockets a process listens on,
 * and a canonical export of one replay namespace of the graph so two runs can be compared.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { GraphGateway } from '../lib/neo4j';
import { normalizeRecord, readRecords } from './parsers';
import { replayGuid } from './stages/parse/replay';
import { tsxCommand, ROOT } from '../scripts/run-stack';
import { describeExit, spawnOwned, waitUntilReady, type OwnedProcess } from '../scripts/stack/process';

export interface WorkerProcess {
  name: string;
  pid: number;
  proc: OwnedProcess;
  /** Lines it printed (JSON log lines included), for assertions and failure messages. */
  lines: string[];
}

/** The environment of a worker: ours only, nothing inherited that could change its configuration. */
export function workerEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('LENSGRAPH_') || k.startsWith('REDIS_') || k.startsWith('NEO4J_')) continue;
    base[k] = v;
  }
  return { ...base, LENSGRAPH_LOG_LEVEL: 'info', ...env } as unknown as NodeJS.ProcessEnv;
}

/** `node --import tsx pipeline/main.ts` (the PID is node's own: setpriv execs it), ready when it says so. */
export async function startWorkerProcess(
  name: string,
  env: Record<string, string>,
  opts: { readyTimeoutMs?: number; onLine?: (line: string) => void } = {},
): Promise<WorkerProcess> {
  const [command, ...args] = tsxCommand('pipeline/main.ts');
  const lines: string[] = [];
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  const proc = spawnOwned({
    command: command!,
    args,
    cwd: ROOT,
    env: workerEnv(env),
    onLine: (line) => {
      lines.push(line);
      if (lines.length > 5000) lines.splice(0, 1000);
      if (line.startsWith('WORKERS READY')) onReady();
      opts.onLine?.(line);
    },
  });
  await waitUntilReady(proc, ready, opts.readyTimeoutMs ?? 300_000, (reason) => `${name} ${reason}:\n${proc.tail()}`);
  return { name, pid: proc.pid, proc, lines };
}

/** SIGKILL: no handler runs, no lock is released, nothing is flushed. */
export async function killHard(w: WorkerProcess): Promise<string> {
  if (w.proc.hasExited()) return `${w.name} had already ${describeExit(await w.proc.exited)}`;
  w.proc.child.kill('SIGKILL');
  return describeExit(await w.proc.exited);
}

export interface ListeningSocket {
  proto: 'tcp' | 'tcp6' | 'udp' | 'udp6';
  local: string;
  inode: string;
}

/** Inodes of the sockets a process holds open (/proc/<pid>/fd -> socket:[inode]). */
export function socketInodes(pid: number): Set<string> {
  const out = new Set<string>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    let target: string;
    try {
      target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed meanwhile
    }
    const m = /^socket:\[(\d+)\]$/.exec(target);
    if (m) out.add(m[1]!);
  }
  return out;
}

/**
 * Sockets of `pid` that accept traffic: TCP in LISTEN state and every bound UDP socket, read from the
 * kernel's tables (/proc/<pid>/net/*), matched to the process by inode. Also returns how many of its
 * sockets the tables showed at all, so a test can tell "none listening" from "none seen".
 */
export function listeningSockets(pid: number): { listening: ListeningSocket[]; seen: number } {
  const inodes = socketInodes(pid);
  const listening: ListeningSocket[] = [];
  let seen = 0;
  for (const proto of ['tcp', 'tcp6', 'udp', 'udp6'] as const) {
    let text: string;
    try {
      text = fs.readFileSync(`/proc/${pid}/net/${proto}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const [, local, , state] = f;
      const inode = f[9]!;
      if (!inodes.has(inode)) continue;
      seen++;
      // TCP 0A = LISTEN; a UDP socket of ours in the table is bound, i.e. it can receive.
      if (proto.startsWith('udp') || state === '0A') listening.push({ proto, local: local!, inode });
    }
  }
  return { listening, seen };
}

// ---- canonical graph of a replay namespace -------------------------------------------------------------

export interface CanonicalGraph {
  /** canonical key -> labels and properties (sorted; list properties as sorted sets). */
  nodes: Map<string, string>;
  /** `from -TYPE-> to {props}` lines, sorted. */
  edges: string[];
}

const GUID_IN_TEXT = /[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}/g;

/** Every GUID the records of `file` carry (any field ending in Guid/GUID): the keys replay remaps. */
export async function fileGuids(file: string): Promise<Set<string>> {
  const out = new Set<string>();
  for await (const r of readRecords(file)) {
    if (!('text' in r)) continue;
    const res = normalizeRecord(JSON.parse(r.text) as unknown, { keepUnsupported: true });
    if (res.kind !== 'event') continue;
    for (const [k, v] of Object.entries(res.event.fields)) {
      if (/guid$/i.test(k)) for (const m of v.matchAll(GUID_IN_TEXT)) out.add(m[0].toUpperCase());
    }
  }
  return out;
}

/** Turns one namespace's strings back into the tag-free originals (hosts and remapped GUIDs). */
export function untagger(tag: string, guids: Iterable<string>): (s: string) => string {
  const back = new Map<string, string>();
  for (const g of guids) back.set(replayGuid(g, tag).toUpperCase(), g);
  const hostTag = new RegExp(`-${tag}`, 'gi');
  return (s) =>
    s.replace(GUID_IN_TEXT, (m) => back.get(m.toUpperCase()) ?? m).replace(hostTag, '-TAG');
}

function canonicalValue(v: unknown, untag: (s: string) => string): unknown {
  if (typeof v === 'string') return untag(v);
  if (Array.isArray(v)) return v.map((x) => canonicalValue(x, untag)).map((x) => JSON.stringify(x)).sort();
  return v;
}

function canonicalProps(props: Record<string, unknown>, untag: (s: string) => string, ignore: ReadonlySet<string>) {
  return Object.keys(props)
    .filter((k) => !ignore.has(k))
    .sort()
    .map((k) => `${k}=${JSON.stringify(canonicalValue(props[k], untag))}`)
    .join(',');
}

/**
 * The nodes of one namespace (keys holding its tagged host names or its remapped GUIDs, Risk nodes on
 * them included) and every relationship touching them, in a form where two runs of the same data under
 * different tags compare equal. `ignore` names wall-clock properties that legitimately differ.
 */
export async function exportNamespace(
  gateway: GraphGateway,
  tag: string,
  guids: Set<string>,
  ignore: ReadonlySet<string> = new Set(),
): Promise<CanonicalGraph> {
  const untag = untagger(tag, guids);
  const tagged = [...guids].map((g) => replayGuid(g, tag).toUpperCase());
  const rows = await gateway.query<{ key: string; labels: string[]; props: Record<string, unknown> }>(
    'test.export-namespace.nodes',
    `MATCH (n) WHERE n.key IS NOT NULL
       AND (toUpper(n.key) CONTAINS toUpper($hostTag) OR any(g IN $guids WHERE n.key CONTAINS g))
     RETURN n.key AS key, labels(n) AS labels, properties(n) AS props`,
    { hostTag: `-${tag}`, guids: tagged },
  );
  const nodes = new Map<string, string>();
  for (const r of rows) {
    nodes.set(untag(r.key), `${[...r.labels].sort().join(':')} {${canonicalProps(r.props, untag, ignore)}}`);
  }
  const keys = rows.map((r) => r.key);
  const rels = await gateway.query<{ a: string; b: string; type: string; props: Record<string, unknown> }>(
    'test.export-namespace.edges',
    `MATCH (a)-[r]->(b) WHERE a.key IN $keys OR b.key IN $keys
     RETURN a.key AS a, b.key AS b, type(r) AS type, properties(r) AS props`,
    { keys },
  );
  const edges = rels
    .filter((r) => r.a != null && r.b != null)
    .map((r) => `${untag(r.a)} -${r.type}-> ${untag(r.b)} {${canonicalProps(r.props, untag, ignore)}}`)
    .sort();
  return { nodes, edges };
}

/** A readable difference of two canonical graphs (empty when equal), bounded in length. */
export function diffGraphs(a: CanonicalGraph, b: CanonicalGraph, max = 40): string[] {
  const out: string[] = [];
  for (const [k, v] of a.nodes) {
    const w = b.nodes.get(k);
    if (w === undefined) out.push(`- node ${k} ${v}`);
    else if (w !== v) out.push(`~ node ${k}\n    ${v}\n    ${w}`);
  }
  for (const [k, v] of b.nodes) if (!a.nodes.has(k)) out.push(`+ node ${k} ${v}`);
  const count = (xs: string[]) => xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<string, number>());
  const ea = count(a.edges);
  const eb = count(b.edges);
  for (const e of new Set([...ea.keys(), ...eb.keys()])) {
    const d = (eb.get(e) ?? 0) - (ea.get(e) ?? 0);
    if (d !== 0) out.push(`${d < 0 ? '-' : '+'} edge x${Math.abs(d)} ${e}`);
  }
  return out.length > max ? [...out.slice(0, max), `... ${out.length - max} more`] : out;
}

/** A data file of the shared dev sets, read in place. */
export const SHARED_DATA = path.resolve(ROOT, '../shared/data');
