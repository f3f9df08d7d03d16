/**
 * Event facts (pipeline/graph/build) -> a subgraph with final node keys.
 *
 * Processes with a Sysmon GUID are `Process:<GUID>`; every other process reference is resolved on the
 * session timeline of its (asset, pid) (session.ts), kept in a SessionStore so that identity holds across
 * payloads and workers. A call loads the timelines it touches, resolves all events (hard facts first:
 * creations, GUID sightings, terminations, then other references by pid alone, so the order of events
 * within a call does not matter), and commits the changed timelines with compare-and-set; when another
 * worker changed one meanwhile, it starts over from a fresh load.
 *
 * Duplicate nodes and edges are coalesced by the merge rules, so the merge stage writes each once.
 */
import { AppError } from '../../domain/errors';
import type { Subgraph } from '../../domain/model';
import { ACTOR, refName, type EventFacts, type ProcessRefName } from '../graph/build';
import { isSessionProcessKey, processGuidKey } from '../graph/keys';
import { GraphAccumulator } from '../graph/rules';
import { DEFAULT_TIMELINE_OPTIONS, PidTimeline, type TimelineOptions } from './session';
import { timelineId, type SessionStore, type StoredTimeline, type TimelineWrite } from './store';

/** `from` was merged into `to`: the merge writer folds node `from` into node `to`. */
export interface Alias {
  from: string;
  to: string;
}

export interface EventNodes {
  /** Key of the event's acting process. */
  process?: string;
  /** Key of the node the event acts on (target process, file, registry key, endpoint, domain, ...). */
  target?: string;
}

export interface Resolution {
  subgraph: Subgraph;
  aliases: Alias[];
  /** For event i: its process and target node keys (the Sigma stage attaches hits to them). */
  eventNodes: EventNodes[];
}

export interface ResolveOptions extends Partial<TimelineOptions> {
  /**
   * Aliases of keys retired this long ago (wall clock) are sent again whenever their session is touched,
   * so an alias whose payload was lost (a crash between the Redis commit and the next stage) still
   * reaches the graph. Folding is idempotent, so re-sending costs one index lookup. Default 1 hour.
   */
  aliasReplayMs?: number;
  /** Compare-and-set attempts before giving up with a retryable error. Default 10. */
  maxAttempts?: number;
}

const GUID_KEY = /^Process:[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/;

export async function resolveIdentities(
  facts: readonly EventFacts[],
  store: SessionStore,
  opts: ResolveOptions = {},
): Promise<Resolution> {
  const ids = new Set<string>();
  for (const f of facts) {
    for (const name in f.refs) {
      const ref = f.refs[name as ProcessRefName];
      if (ref && ref.pid !== undefined) ids.add(timelineId(ref.asset, ref.pid));
    }
  }
  const idList = [...ids];
  const attempts = opts.maxAttempts ?? 10;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const stored = await store.load(idList);
    const { resolution, writes } = resolveWithState(facts, stored, opts);
    if (writes.length === 0 || (await store.commit(writes))) return resolution;
    // Another worker changed one of our timelines: start again from its state.
    await new Promise((r) => setTimeout(r, Math.min(5 * attempt * attempt, 200) * Math.random()));
  }
  throw new AppError('UNAVAILABLE', `identity: gave up after ${attempts} concurrent session updates`);
}

/** The pure core: facts + loaded timelines -> resolution + the timeline writes to commit. */
export function resolveWithState(
  facts: readonly EventFacts[],
  stored: ReadonlyMap<string, StoredTimeline>,
  opts: ResolveOptions = {},
): { resolution: Resolution; writes: TimelineWrite[] } {
  const now = opts.now ?? Date.now();
  const topts: TimelineOptions = {
    toleranceMs: opts.toleranceMs ?? DEFAULT_TIMELINE_OPTIONS.toleranceMs,
    floatLinkMs: opts.floatLinkMs ?? DEFAULT_TIMELINE_OPTIONS.floatLinkMs,
    maxSessions: opts.maxSessions ?? DEFAULT_TIMELINE_OPTIONS.maxSessions,
    maxRetired: opts.maxRetired ?? DEFAULT_TIMELINE_OPTIONS.maxRetired,
    now,
  };
  const replayMs = opts.aliasReplayMs ?? 3600_000;

  const emitted = new Map<string, string>();
  const onAlias = (from: string, to: string) => {
    if (from !== to) emitted.set(from, to);
  };
  /** Keys that may already be in the graph: those known to the stored state before this call. */
  const preexisting = new Set<string>();
  const timelines = new Map<string, PidTimeline>();
  const timeline = (asset: string, pid: number): PidTimeline => {
    const id = timelineId(asset, pid);
    let tl = timelines.get(id);
    if (!tl) {
      const sessions = structuredClone(stored.get(id)?.sessions ?? []);
      for (const s of sessions) {
        preexisting.add(s.key);
        for (const r of s.retired ?? []) preexisting.add(r.key);
      }
      tl = new PidTimeline(asset, pid, sessions, topts, onAlias);
      timelines.set(id, tl);
    }
    return tl;
  };

  // The passes below walk each event's refs with `for...in` (insertion order, as Object.entries would give)
  // and plain loops rather than entry arrays and callbacks: they run several times per event.

  // Pass 1: hard facts (GUID sightings, creations, terminations of GUID processes).
  const refKeys: Array<Partial<Record<ProcessRefName, string>>> = [];
  for (let i = 0; i < facts.length; i++) {
    const f = facts[i]!;
    const keys: Partial<Record<ProcessRefName, string>> = {};
    refKeys.push(keys);
    for (const n in f.refs) {
      const name = n as ProcessRefName;
      const ref = f.refs[name];
      if (!ref) continue;
      if (ref.guid !== undefined) {
        // The ref carries its own created / terminated flags.
        keys[name] =
          ref.pid !== undefined
            ? timeline(ref.asset, ref.pid).observeGuid(ref.guid, f.time, ref)
            : processGuidKey(ref.guid);
      } else if (ref.pid !== undefined && ref.created) {
        keys[name] = timeline(ref.asset, ref.pid).observeCreate(f.time);
      }
    }
  }
  // Pass 2: terminations known by pid alone (Security 4689) — boundaries too; pass 3: other pid-only refs.
  for (const terminations of [true, false]) {
    for (let i = 0; i < facts.length; i++) {
      const f = facts[i]!;
      for (const n in f.refs) {
        const name = n as ProcessRefName;
        const ref = f.refs[name];
        if (!ref || ref.guid !== undefined || ref.pid === undefined || ref.created) continue;
        if (!!ref.terminated !== terminations) continue;
        refKeys[i]![name] = timeline(ref.asset, ref.pid).observeRef(f.time, ref.terminated);
      }
    }
  }

  // Final keys: follow this call's aliases to their end.
  const final = (key: string): string => {
    let k = key;
    for (let guard = 0; guard < 64; guard++) {
      const next = emitted.get(k);
      if (next === undefined || next === k) break;
      k = next;
    }
    return k;
  };

  const aliasMap = new Map<string, string>();
  for (const from of emitted.keys()) {
    if (preexisting.has(from)) aliasMap.set(from, final(from));
  }
  for (const tl of timelines.values()) {
    for (const s of tl.sessions) {
      for (const r of s.retired ?? []) {
        if (r.key === s.key || !preexisting.has(r.key) || !isSessionProcessKey(r.key)) continue;
        if (now - r.at <= replayMs) aliasMap.set(r.key, s.key);
      }
    }
  }
  for (const [from, to] of aliasMap) if (from === to) aliasMap.delete(from);

  // Facts come from the builder: well-formed, copied but not re-validated.
  const acc = new GraphAccumulator(true);
  const eventNodes: EventNodes[] = [];
  for (let i = 0; i < facts.length; i++) {
    const f = facts[i]!;
    const keys = refKeys[i]!;
    const resolvedRefs: Partial<Record<ProcessRefName, string>> = {};
    for (const n in f.refs) {
      const name = n as ProcessRefName;
      const ref = f.refs[name];
      const k = keys[name];
      if (!ref || k === undefined) continue;
      const key = final(k);
      resolvedRefs[name] = key;
      let props = ref.props;
      if (props.process_guid === undefined && GUID_KEY.test(key))
        props = { ...props, process_guid: key.slice('Process:'.length) };
      acc.addNodeParts('Process', key, props);
    }
    for (const node of f.nodes) acc.addNode(node);
    for (const e of f.edges) {
      const from = resolveEndpoint(e.from, resolvedRefs);
      const to = resolveEndpoint(e.to, resolvedRefs);
      if (from === undefined || to === undefined) continue;
      acc.addEdgeParts(e.kind, from, to, e.props);
    }
    const en: EventNodes = {};
    if (f.process === ACTOR && resolvedRefs.actor) en.process = resolvedRefs.actor;
    if (f.target !== undefined) {
      const t = resolveEndpoint(f.target, resolvedRefs);
      if (t !== undefined) en.target = t;
    }
    eventNodes.push(en);
  }

  const writes: TimelineWrite[] = [];
  for (const [id, tl] of timelines) {
    if (tl.changed) writes.push({ id, version: stored.get(id)?.version ?? 0, sessions: tl.sessions });
  }
  const aliases = [...aliasMap].map(([from, to]) => ({ from, to }));
  return { resolution: { subgraph: acc.toSubgraph(), aliases, eventNodes }, writes };
}

/** An edge endpoint of the facts: a process reference (resolved key, undefined if unresolved) or a key. */
function resolveEndpoint(endpoint: string, resolved: Partial<Record<ProcessRefName, string>>): string | undefined {
  const r = refName(endpoint);
  return r ? resolved[r] : endpoint;
}
