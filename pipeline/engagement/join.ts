/**
 * Lens rules as pure functions (docs/engagements.md, "Lens rules"): which risky nodes belong to one attack
 * story, and what that means for the lenses that exist.
 *
 * A story is the set of risky nodes connected by *join paths*. A join path runs from a node with new hits
 * (a seed) along the relations below, in one direction (upstream: who caused it; downstream: what it
 * caused), through at most `maxHops - 1` intermediate nodes that carry no risk, to another risky node:
 *
 *   relation      what it is in the graph                                           crosses benign nodes
 *   PARENT_OF     process ancestry                                                  yes (both ways)
 *   INJECTED_INTO remote thread into another process                                yes
 *   FILE          a process CREATED/MODIFIED a file another process EXECUTED/LOADED  yes
 *   REMOTE_EXEC   outbound connection from host A, accepted on host B (same        upstream only: from a
 *                 endpoint, same source ip/port), then a child of a remote-        risky child to the
 *                 execution broker (services, wmiprvse, wsmprovhost, ...) on B     connecting process
 *   ACCESSED      process access with rights beyond query (lsass dumping, handle   no: risky ends only
 *                 theft, injection preparation)
 *   PIPE          a named pipe one process created and another connected to        no: risky ends only
 *   NETWORK       the two ends of one connection on two hosts                       no: risky ends only
 *   SHARED_DEST   outbound connections to one address few processes ever reached   no: risky ends only
 *                 (the same C2 server), within the window of each other
 *   TOUCH         a non-process risky node (file, key, pipe) and the processes      yes
 *                 that created, wrote, executed or connected to it
 *
 * Siblings never join (two children of explorer.exe are not one story), benign nodes that merely share a
 * host are never reached, and every node on a path must have been active within `windowMs` of the seed's
 * hits. A benign node with more than `fanout` benign neighbours in a direction is a hub and is not
 * crossed (services.exe's children), though risky neighbours are still reached.
 */
import { createHash } from 'node:crypto';
import type { LensStatus } from '../../domain/detection';
import { kindOfKey } from '../../domain/model';

export type JoinRelation =
  | 'PARENT_OF'
  | 'INJECTED_INTO'
  | 'ACCESSED'
  | 'FILE'
  | 'PIPE'
  | 'NETWORK'
  | 'REMOTE_EXEC'
  | 'SHARED_DEST'
  | 'TOUCH';
export type Direction = 'up' | 'down';

export interface JoinOptions {
  /** Every node on a join path was active within this long (ms) of the seed's hits. Default 2 h. */
  windowMs: number;
  /** Longest join path, in relations. Default 4. */
  maxHops: number;
  /** A benign node with more benign candidates than this in one direction is a hub and not crossed. */
  fanout: number;
  /** REMOTE_EXEC: the broker's child starts at most this long (ms) after the inbound connection. */
  remoteExecMs: number;
  /** A story of a single risky node opens an engagement lens only from this score. */
  minScore: number;
  /** Bound on the search frontier per hop (all seeds of a batch together). */
  maxFrontier: number;
}

export const DEFAULT_JOIN_OPTIONS: JoinOptions = {
  windowMs: 2 * 3600_000,
  maxHops: 4,
  fanout: 40,
  remoteExecMs: 5 * 60_000,
  minScore: 40,
  maxFrontier: 5000,
};

/** One candidate step of a join path, as the repository finds it in the graph. */
export interface Neighbour {
  from: string;
  dir: Direction;
  rel: JoinRelation;
  to: string;
  /** The node the relation runs through (file, pipe, endpoint), if any. */
  via: string | null;
  /** ACCESSED: the access masks granted (`0x1410`). */
  access?: readonly string[] | null;
  /** `to` has at least one Risk. */
  risky: boolean;
  firstSeen: number | null;
  lastSeen: number | null;
}

/** A node with new hits and the time span of those hits. */
export interface SeedSpan {
  key: string;
  first: number;
  last: number;
}

export interface JoinPath {
  from: string;
  to: string;
  rels: JoinRelation[];
  /** Benign nodes on the path (intermediate processes and via-nodes), in order: they become context. */
  through: string[];
}

export type NeighbourFetch = (frontier: ReadonlyArray<{ key: string; dir: Direction }>) => Promise<Neighbour[]>;

/** Whether a join path may continue through a benign node reached by `rel` going `dir`. */
export function crossable(rel: JoinRelation, dir: Direction): boolean {
  switch (rel) {
    case 'PARENT_OF':
    case 'INJECTED_INTO':
    case 'FILE':
    case 'TOUCH':
      return true;
    case 'REMOTE_EXEC':
      return dir === 'up';
    case 'ACCESSED':
    case 'PIPE':
    case 'NETWORK':
    case 'SHARED_DEST':
      return false;
  }
}

/**
 * Process rights that read or change another process: create thread, VM operation/read/write, duplicate
 * handle, create process, suspend/resume (and so PROCESS_ALL_ACCESS). Query-only rights (0x400, 0x1000)
 * are what services, AV and telemetry ask of every process all day: they join nothing.
 */
export const STRONG_ACCESS = 0x2 | 0x8 | 0x10 | 0x20 | 0x40 | 0x80 | 0x800;

export function strongAccess(masks: readonly string[] | null | undefined): boolean {
  for (const m of masks ?? []) {
    const t = m.trim().toLowerCase();
    const v = /^0x[0-9a-f]+$/.test(t) ? Number.parseInt(t.slice(2), 16) : /^\d+$/.test(t) ? Number.parseInt(t, 10) : Number.NaN;
    if (Number.isFinite(v) && (v & STRONG_ACCESS) !== 0) return true;
  }
  return false;
}

/** A node active during [first, last] is within the window of a seed (unknown times pass). */
export function activeWithin(first: number | null | undefined, last: number | null | undefined, seed: SeedSpan, windowMs: number): boolean {
  const lo = seed.first - windowMs;
  const hi = seed.last + windowMs;
  const f = first ?? last;
  const l = last ?? first;
  if (f === null || f === undefined || l === null || l === undefined) return true;
  return l >= lo && f <= hi;
}

interface Entry {
  seed: SeedSpan;
  key: string;
  dir: Direction;
  rels: JoinRelation[];
  through: string[];
}

/**
 * Breadth-first search from every seed, one `fetch` per hop for the whole frontier. Returns the shortest
 * join path found from each seed to each risky node it reaches (seeds reach each other too).
 */
export async function discoverJoins(
  seeds: readonly SeedSpan[],
  fetch: NeighbourFetch,
  options: Partial<JoinOptions> = {},
): Promise<JoinPath[]> {
  const o = { ...DEFAULT_JOIN_OPTIONS, ...options };
  const found = new Map<string, JoinPath>();
  const visited = new Map<string, Set<string>>();
  let frontier: Entry[] = [];
  for (const s of seeds) {
    visited.set(s.key, new Set([`up|${s.key}`, `down|${s.key}`]));
    frontier.push({ seed: s, key: s.key, dir: 'up', rels: [], through: [] });
    frontier.push({ seed: s, key: s.key, dir: 'down', rels: [], through: [] });
  }
  for (let hop = 1; hop <= o.maxHops && frontier.length > 0; hop++) {
    if (frontier.length > o.maxFrontier) frontier = frontier.slice(0, o.maxFrontier);
    const request = new Map<string, { key: string; dir: Direction }>();
    for (const e of frontier) request.set(`${e.dir}|${e.key}`, { key: e.key, dir: e.dir });
    const rows = await fetch([...request.values()]);
    const byFrom = new Map<string, Neighbour[]>();
    for (const r of rows) {
      const k = `${r.dir}|${r.from}`;
      const list = byFrom.get(k);
      if (list) list.push(r);
      else byFrom.set(k, [r]);
    }
    const next: Entry[] = [];
    for (const e of frontier) {
      const cands = byFrom.get(`${e.dir}|${e.key}`) ?? [];
      const hub = cands.filter((c) => !c.risky).length > o.fanout;
      for (const c of cands) {
        if (c.to === e.seed.key || c.to === e.key) continue;
        if (!activeWithin(c.firstSeen, c.lastSeen, e.seed, o.windowMs)) continue;
        if (c.rel === 'ACCESSED' && !strongAccess(c.access)) continue;
        const rels = [...e.rels, c.rel];
        const through = c.via ? [...e.through, c.via] : e.through;
        if (c.risky) {
          const id = `${e.seed.key}\u0000${c.to}`;
          const prev = found.get(id);
          if (!prev || prev.rels.length > rels.length) found.set(id, { from: e.seed.key, to: c.to, rels, through });
          continue;
        }
        if (hub || hop >= o.maxHops || !crossable(c.rel, e.dir)) continue;
        const dirs: Direction[] = c.rel === 'TOUCH' ? ['up', 'down'] : [e.dir];
        const seen = visited.get(e.seed.key)!;
        for (const d of dirs) {
          const v = `${d}|${c.to}`;
          if (seen.has(v)) continue;
          seen.add(v);
          next.push({ seed: e.seed, key: c.to, dir: d, rels, through: [...through, c.to] });
        }
      }
    }
    frontier = next;
  }
  return [...found.values()];
}

// ------------------------------------------------------------------------------------------- stories

export interface HitShape {
  risky: readonly string[];
  context: readonly string[];
}

export interface StoryInput {
  /** Nodes with new hits in this batch. */
  seeds: readonly string[];
  hits: readonly HitShape[];
  /** Which of the nodes mentioned (hit context, join ends) carry a Risk. */
  risky: ReadonlySet<string>;
  joins: readonly JoinPath[];
  /** Risky node -> the engagement lens it is a risky member of. */
  memberships: ReadonlyMap<string, string>;
}

export interface Story {
  seeds: string[];
  risky: string[];
  context: string[];
  /** Existing engagement lenses the story touches. */
  lenses: string[];
}

class UnionFind {
  private readonly parent = new Map<string, string>();
  find(x: string): string {
    if (!this.parent.has(x)) {
      this.parent.set(x, x);
      return x;
    }
    let root = x;
    for (let p = this.parent.get(root)!; p !== root; p = this.parent.get(root)!) root = p;
    // path compression
    for (let cur = x; cur !== root; ) {
      const next: string = this.parent.get(cur)!;
      this.parent.set(cur, root);
      cur = next;
    }
    return root;
  }
  union(a: string, b: string): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent.set(ra < rb ? rb : ra, ra < rb ? ra : rb);
  }
  keys(): string[] {
    return [...this.parent.keys()];
  }
}

const LENS = '\u0000lens:';

/**
 * A host (Asset node) in a hit's context is context only, even when it carries risks of its own. The host
 * of every process is the same node for all time, so a host with risks that joined one story through an
 * analyzer's context (lsass-access names the host a user reached over RDP) made that story the home of every
 * later host-level detection on it, from any attack, weeks apart.
 */
const isHost = (key: string): boolean => kindOfKey(key) === 'Asset';

/** Risky nodes joined by hits, join paths and shared lens membership, as connected components. */
export function groupStories(input: StoryInput): Story[] {
  const uf = new UnionFind();
  const context = new Map<string, Set<string>>();
  const addContext = (anchor: string, keys: readonly string[]) => {
    let set = context.get(anchor);
    if (!set) context.set(anchor, (set = new Set()));
    for (const k of keys) set.add(k);
  };
  for (const s of input.seeds) uf.find(s);
  for (const h of input.hits) {
    const [first, ...rest] = h.risky;
    if (first === undefined) continue;
    for (const r of rest) uf.union(first, r);
    const benign: string[] = [];
    for (const c of h.context) {
      if (input.risky.has(c) && !isHost(c)) uf.union(first, c);
      else benign.push(c);
    }
    addContext(first, benign);
  }
  for (const j of input.joins) {
    uf.union(j.from, j.to);
    addContext(j.from, j.through);
  }
  for (const k of uf.keys()) {
    if (k.startsWith(LENS)) continue;
    const lens = input.memberships.get(k);
    if (lens !== undefined) uf.union(k, LENS + lens);
  }
  const seedSet = new Set(input.seeds);
  const stories = new Map<string, Story>();
  const story = (root: string): Story => {
    let s = stories.get(root);
    if (!s) stories.set(root, (s = { seeds: [], risky: [], context: [], lenses: [] }));
    return s;
  };
  for (const k of uf.keys()) {
    const s = story(uf.find(k));
    if (k.startsWith(LENS)) s.lenses.push(k.slice(LENS.length));
    else {
      s.risky.push(k);
      if (seedSet.has(k)) s.seeds.push(k);
    }
  }
  for (const [anchor, keys] of context) {
    const s = story(uf.find(anchor));
    const riskySet = new Set(s.risky);
    for (const k of keys) if (!riskySet.has(k) && !s.context.includes(k)) s.context.push(k);
  }
  const out = [...stories.values()].filter((s) => s.seeds.length > 0);
  for (const s of out) {
    s.seeds.sort();
    s.risky.sort();
    s.context.sort();
    s.lenses.sort();
  }
  return out.sort((a, b) => (a.risky[0]! < b.risky[0]! ? -1 : 1));
}

// ------------------------------------------------------------------------------------------ planning

export interface LensState {
  key: string;
  createdAt: number;
  status: LensStatus;
  /** Nodes analysts removed from the lens: the pipeline never adds them back. */
  excluded: ReadonlySet<string>;
}

export interface StoryPlan {
  lens: string;
  create: boolean;
  /** Younger lenses the story links: merged into `lens`. */
  absorb: string[];
  risky: string[];
  context: string[];
  /** The lens is Closed and gets new hits: reopen it. */
  reopen: boolean;
}

/**
 * What to do for one story: nothing (a lone weak hit: it stays in its asset lens only), open a lens, add
 * to the one lens it touches, or merge the lenses it touches into the oldest (ties: smallest key).
 */
export function planStory(
  story: Story,
  lenses: ReadonlyMap<string, LensState>,
  o: { score: number; newKey: string; minScore: number },
): StoryPlan | null {
  const existing = story.lenses
    .map((k) => lenses.get(k))
    .filter((l): l is LensState => l !== undefined)
    .sort((a, b) => a.createdAt - b.createdAt || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const target = existing[0];
  if (!target) {
    if (story.risky.length < 2 && o.score < o.minScore) return null;
    return { lens: o.newKey, create: true, absorb: [], risky: [...story.risky], context: [...story.context], reopen: false };
  }
  const risky = story.risky.filter((k) => !target.excluded.has(k));
  const context = story.context.filter((k) => !target.excluded.has(k));
  const fresh = story.seeds.some((k) => !target.excluded.has(k));
  return {
    lens: target.key,
    create: false,
    absorb: existing.slice(1).map((l) => l.key),
    risky,
    context,
    reopen: fresh && target.status === 'Closed',
  };
}

/** Deterministic id of a new engagement lens: the same batch replayed names it the same. */
export function newLensKey(story: Story, batchDigests: readonly string[]): string {
  const h = createHash('sha256')
    .update(story.risky[0] ?? '')
    .update('\u0000')
    .update([...batchDigests].sort().join(','))
    .digest('hex');
  return `eng:${h.slice(0, 20)}`;
}

export function assetLensKey(host: string): string {
  return `asset:${host}`;
}

/** `New detections: A, B (+3 more)` */
export function reopenReason(titles: readonly string[]): string {
  const uniq = [...new Set(titles)];
  const shown = uniq.slice(0, 3).join('; ');
  return `New detections: ${shown}${uniq.length > 3 ? ` (+${uniq.length - 3} more)` : ''}`.slice(0, 1000);
}
