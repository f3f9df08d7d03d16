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

/** `/guid$/i.test(k)` without the regular expression (it runs for every field of every replayed event). */
function endsWithGuid(k: string): boolean {
  const n = k.length;
  return (
    n >= 4 &&
    (k.charCodeAt(n - 1) | 32) === 100 && // d
    (k.charCodeAt(n - 2) | 32) === 105 && // i
    (k.charCodeAt(n - 3) | 32) === 117 && // u
    (k.charCodeAt(n - 4) | 32) === 103 // g
  );
}

/**
 * @param guids GUIDs already mapped under `tag` (original -> replayed), filled as it goes: the events of one
 *   chunk share most of their GUIDs, and a hash per GUID field is most of the cost of a replay.
 */
export function replayEvent(e: NormalizedEvent, tag: string, guids?: Map<string, string>): NormalizedEvent {
  // A copy (same keys, same order) whose few replayed values are then overwritten in place: cheaper than
  // building the object key by key.
  const fields: Record<string, string> = { ...e.fields };
  for (const k of Object.keys(fields)) {
    const v = fields[k]!;
    if (endsWithGuid(k) && GUID.test(v)) {
      let g = guids?.get(v);
      if (g === undefined) {
        g = replayGuid(v, tag);
        guids?.set(v, g);
      }
      fields[k] = g;
    } else if (k === 'Hostname' || k === 'Computer' || k === 'WorkstationName') {
      fields[k] = replayHost(v, tag);
    }
  }
  return { ...e, host: replayHost(e.host, tag), fields };
}
