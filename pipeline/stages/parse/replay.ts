/**
 * Replay under a new identity: the same recorded events presented as if they came from other hosts.
 * Used by tests (each owns its namespace in the shared Neo4j) and benchmarks (a dev set replayed under
 * many host names to build a large graph). Host names get a suffix and every GUID is mapped, deterministically
 * per tag, to a new GUID, so replays never merge with the original or with each other.
 */
import { createHash } from 'node:crypto';
import type { NormalizedEvent } from '../../../domain/event';

const GUID = /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/;

/**
 * Sysmon GUIDs carry the process start time in their 2nd and 3rd groups (identity uses it to settle pid
 * reuse), so those are kept; the machine and sequence parts are remapped.
 */
export function replayGuid(guid: string, tag: string): string {
  const h = createHash('sha1').update(`${tag}\0${guid}`).digest('hex').toUpperCase();
  const g = guid.split('-');
  return `${h.slice(0, 8)}-${g[1]}-${g[2]}-${h.slice(8, 12)}-${h.slice(12, 24)}`;
}

export function replayHost(host: string, tag: string): string {
  const dot = host.indexOf('.');
  return dot < 0 ? `${host}-${tag}` : `${host.slice(0, dot)}-${tag}${host.slice(dot)}`;
}

export function replayEvent(e: NormalizedEvent, tag: string): NormalizedEvent {
  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries(e.fields)) {
    if (/guid$/i.test(k) && GUID.test(v)) fields[k] = replayGuid(v, tag);
    else if (k === 'Hostname' || k === 'Computer' || k === 'WorkstationName') fields[k] = replayHost(v, tag);
    else fields[k] = v;
  }
  return { ...e, host: replayHost(e.host, tag), fields };
}
