/**
 * Process sessions on one (asset, pid): the pure core of process identity.
 *
 * A pid names different processes over time. What we know about them is a timeline of sessions:
 *
 *   hard session   its start is known: a creation event (Sysmon 1, Security 4688, osquery), or the start
 *                  time Sysmon encodes in every ProcessGuid (see keys.guidStartTime). It owns the pid from
 *                  its start until its termination or the next hard start.
 *   float          no known start: a process seen only in non-creation events (a parent known by pid, a
 *                  DNS query by `<unknown process>`, osquery sockets ...). Keyed provisionally by the
 *                  first time it was seen; folded into a hard session as soon as one turns out to cover it.
 *
 * A reference by pid at time t goes to the session that owns t (clock skew up to `toleranceMs` absorbed).
 * When new facts show that two sessions are one process (a 4688 and a Sysmon creation of the same pid at
 * the same time; a float inside a hard session's lifetime), the survivor keeps the canonical key (the
 * Sysmon GUID if any, else the earliest creation, else the earliest sighting) and the other key is
 * *retired*: an alias `{ from, to }` that the merge writer applies by folding the old node into the new.
 * The final partition does not depend on the order facts arrive in, except where a boundary (creation,
 * termination) arrives after references on both sides of it were already merged; floats therefore only
 * link references less than `floatLinkMs` apart.
 */
import { guidStartTime, processGuidKey, processProvisionalKey, processSessionKey } from '../graph/keys';

export interface Retired {
  key: string;
  /** Wall-clock ms of the retirement (aliases are re-sent for a while, see resolve.ts). */
  at: number;
}

export interface Session {
  key: string;
  guid?: string;
  /** Known start of the lifetime (creation time, or the time in the Sysmon GUID). */
  start?: number;
  /** `start` comes from a creation event (ms precision); a GUID start is truncated to the second. */
  exact?: boolean;
  end?: number;
  /** Earliest / latest sighting (maintained for floats only). */
  lo: number;
  hi: number;
  retired?: Retired[];
}

export interface TimelineOptions {
  /** Clock skew absorbed between sources and between a creation and the first events of a process. */
  toleranceMs: number;
  /** Longest gap between two sightings that a float (process without known start) bridges. */
  floatLinkMs: number;
  /** Sessions kept per (asset, pid); the oldest are forgotten first. */
  maxSessions: number;
  /** Retired keys remembered per session (for re-sending aliases). */
  maxRetired: number;
  /** Wall clock, ms. */
  now: number;
}

export const DEFAULT_TIMELINE_OPTIONS: Omit<TimelineOptions, 'now'> = {
  toleranceMs: 5_000,
  floatLinkMs: 15 * 60_000,
  maxSessions: 32,
  maxRetired: 8,
};

/** A GUID start is the creation time truncated to the second. */
const GUID_PRECISION_MS = 1_000;

export type AliasSink = (from: string, to: string) => void;

const isHard = (s: Session): s is Session & { start: number } => s.start !== undefined;
const anchor = (s: Session): number => s.start ?? s.lo;

export class PidTimeline {
  changed = false;

  constructor(
    readonly asset: string,
    readonly pid: number,
    public sessions: Session[],
    private readonly opts: TimelineOptions,
    private readonly onAlias: AliasSink,
  ) {
    this.sort();
  }

  // ------------------------------------------------------------------------------------------ facts

  /** A process with a Sysmon GUID seen at `time` with this pid. Returns its key (always the GUID key). */
  observeGuid(guid: string, time: number, flags: { created?: boolean; terminated?: boolean } = {}): string {
    let s = this.sessions.find((x) => x.guid === guid);
    // The common case, most events of a known process: nothing new, and nothing to compute.
    if (s && isHard(s) && !flags.created && !flags.terminated) return s.key;
    const key = processGuidKey(guid);
    const guidStart = guidStartTime(guid, time);
    if (!s) {
      const start = flags.created ? time : guidStart;
      if (start !== undefined) {
        // A creation of this pid at the same moment, known so far without GUID (Security 4688): the same process.
        const m = this.sessions.find(
          (x) =>
            x.guid === undefined &&
            isHard(x) &&
            Math.abs(x.start - start) <= this.startTolerance(x, !!flags.created),
        );
        if (m) {
          m.guid = guid;
          this.rekey(m, key);
          m.start = start;
          m.exact = !!flags.created;
          s = m;
          this.changed = true;
        }
      }
    }
    if (s && isHard(s) && !flags.created && !flags.terminated) return s.key; // matched a creation: nothing more
    if (!s) {
      s = { key, guid, lo: time, hi: time };
      if (flags.created) {
        s.start = time;
        s.exact = true;
      } else if (guidStart !== undefined) {
        s.start = guidStart;
      }
      this.sessions.push(s);
      this.changed = true;
    }
    if (flags.created && !(s.exact && s.start === time)) {
      // The Sysmon creation time is the most precise start there is.
      s.start = time;
      s.exact = true;
      this.changed = true;
    }
    if (flags.terminated && (s.end === undefined || time < s.end)) {
      s.end = time;
      this.changed = true;
    }
    if (!isHard(s)) this.widen(s, time);
    this.normalize();
    return this.keyOf(s);
  }

  /** A creation of this pid at `time` without GUID (Security 4688, osquery, generic). */
  observeCreate(time: number): string {
    const m = this.sessions.find(
      (x) => isHard(x) && Math.abs(x.start - time) <= this.startTolerance(x, true),
    );
    if (m) {
      if (m.guid === undefined && time < m.start!) {
        // Keyed by the earliest creation time reported, whatever arrives first.
        m.start = time;
        m.exact = true;
        this.rekey(m, processSessionKey(this.asset, this.pid, time));
        this.changed = true;
      }
      this.normalize();
      return this.keyOf(m);
    }
    const s: Session = {
      key: processSessionKey(this.asset, this.pid, time),
      start: time,
      exact: true,
      lo: time,
      hi: time,
    };
    this.sessions.push(s);
    this.changed = true;
    this.normalize();
    return this.keyOf(s);
  }

  /** A reference by pid only (not a creation) at `time`; `terminated` when the event is its termination. */
  observeRef(time: number, terminated = false): string {
    let s = this.ownerAt(time);
    if (!s) {
      s = { key: processProvisionalKey(this.asset, this.pid, time), lo: time, hi: time };
      this.sessions.push(s);
      this.changed = true;
    } else if (!isHard(s)) {
      this.widen(s, time);
    }
    if (terminated && (s.end === undefined || time < s.end)) {
      s.end = time;
      this.changed = true;
    }
    this.normalize();
    return this.keyOf(s);
  }

  // ----------------------------------------------------------------------------------------- lookup

  /** The session that owns the pid at `t`, if any. */
  ownerAt(t: number): Session | undefined {
    const tol = this.opts.toleranceMs;
    const hard = this.sessions.filter(isHard);
    let prev: (Session & { start: number }) | undefined;
    let next: (Session & { start: number }) | undefined;
    for (const h of hard) {
      if (h.start <= t) prev = h;
      else if (!next) next = h;
    }
    if (prev && (prev.end === undefined || t <= prev.end + tol)) return prev;
    if (next && next.start - t <= this.startTolerance(next, false)) return next;
    const gapLo = prev ? prev.end! : -Infinity;
    const gapHi = next ? next.start : Infinity;
    const floats = this.sessions.filter((s) => !isHard(s) && s.lo > gapLo - tol && s.lo < gapHi);
    const link = this.opts.floatLinkMs;
    const within = floats.find((f) => f.lo - tol <= t && t <= (f.end ?? f.hi) + tol);
    if (within) return within;
    let before: Session | undefined;
    let after: Session | undefined;
    for (const f of floats) {
      if (f.lo <= t) before = f;
      else if (!after) after = f;
    }
    if (before && before.end === undefined && t - before.hi <= link) return before;
    if (after && after.lo - t <= link) return after;
    return undefined;
  }

  /** The current key of a session (after merges, the survivor's). */
  keyOf(s: Session): string {
    if (this.sessions.includes(s)) return s.key;
    // Merged away during normalize: find who retired its key.
    const owner = this.sessions.find((x) => x.retired?.some((r) => r.key === s.key));
    return owner ? owner.key : s.key;
  }

  // ---------------------------------------------------------------------------------------- merging

  private startTolerance(s: Session, exact: boolean): number {
    return this.opts.toleranceMs + (s.exact && exact ? 0 : GUID_PRECISION_MS);
  }

  private widen(s: Session, time: number): void {
    if (time < s.lo) {
      s.lo = time;
      this.changed = true;
      if (s.guid === undefined) this.rekey(s, processProvisionalKey(this.asset, this.pid, time));
    }
    if (time > s.hi) {
      s.hi = time;
      this.changed = true;
    }
  }

  private rekey(s: Session, key: string): void {
    if (s.key === key) return;
    this.retire(s, s.key, key);
    s.key = key;
    this.changed = true;
  }

  private retire(into: Session, oldKey: string, newKey: string): void {
    (into.retired ??= []).push({ key: oldKey, at: this.opts.now });
    this.onAlias(oldKey, newKey);
  }

  /** Folds `from` into `into` (removing `from`); the survivor's key follows the canonical-key rules. */
  private absorb(into: Session, from: Session): void {
    const survivorKey = canonicalKey(this.asset, this.pid, into, from);
    const intoOld = into.key;
    // Start: a GUID session keeps its own (Sysmon creation or GUID time); two creations without GUID
    // are one process reported twice: the earliest; a float has none.
    const hardOnes = [into, from].filter(isHard);
    const withGuid = hardOnes.find((x) => x.guid !== undefined);
    const startFrom = withGuid ?? hardOnes.sort((a, b) => a.start - b.start)[0];
    if (startFrom) {
      into.start = startFrom.start;
      into.exact = startFrom.exact;
    }
    if (from.guid !== undefined && into.guid === undefined) into.guid = from.guid;
    if (from.end !== undefined && (into.end === undefined || from.end < into.end)) into.end = from.end;
    into.lo = Math.min(into.lo, from.lo);
    into.hi = Math.max(into.hi, from.hi);
    into.retired = [...(into.retired ?? []), ...(from.retired ?? [])];
    this.sessions = this.sessions.filter((x) => x !== from);
    into.key = survivorKey;
    if (intoOld !== survivorKey) this.retire(into, intoOld, survivorKey);
    if (from.key !== survivorKey) this.retire(into, from.key, survivorKey);
    this.changed = true;
  }

  private sort(): void {
    this.sessions.sort((a, b) => anchor(a) - anchor(b) || (isHard(a) ? 0 : 1) - (isHard(b) ? 0 : 1));
  }

  /** Merges sessions that the facts now show to be one process, until nothing changes. */
  normalize(): void {
    for (let guard = 0; guard < 1000; guard++) {
      this.sort();
      if (!this.mergeOnce()) break;
    }
    this.prune();
  }

  private mergeOnce(): boolean {
    const tol = this.opts.toleranceMs;
    const hard = this.sessions.filter(isHard);
    // Two creations of the same pid at the same moment are one process (unless both carry GUIDs).
    for (let i = 0; i + 1 < hard.length; i++) {
      const a = hard[i]!;
      const b = hard[i + 1]!;
      if (!compatible(a, b)) continue;
      if (b.start - a.start <= tol + (a.exact && b.exact ? 0 : GUID_PRECISION_MS)) {
        if (b.guid !== undefined && a.guid === undefined) this.absorb(b, a);
        else this.absorb(a, b);
        return true;
      }
    }
    const link = this.opts.floatLinkMs;
    for (const f of this.sessions) {
      if (isHard(f)) continue;
      let prev: (Session & { start: number }) | undefined;
      let next: (Session & { start: number }) | undefined;
      for (const h of hard) {
        if (h.start <= f.lo + tol) prev = h;
        else if (!next) next = h;
      }
      // Inside a hard session's lifetime (it started before and has not ended): that process.
      if (prev && (prev.end === undefined || f.lo <= prev.end + tol) && compatible(prev, f)) {
        this.absorb(prev, f);
        return true;
      }
      // Entirely within the skew tolerance before a creation: that process too.
      if (next && f.lo >= next.start - this.startTolerance(next, false) && compatible(next, f)) {
        this.absorb(next, f);
        return true;
      }
      // Two floats in the same gap, close enough and not separated by a termination: one process.
      const gapHi = next ? next.start : Infinity;
      for (const g of this.sessions) {
        if (g === f || isHard(g) || g.lo < f.lo || g.lo >= gapHi) continue;
        if (g.lo === f.lo && g.key <= f.key) continue;
        if (f.end !== undefined && g.lo > f.end + tol) continue;
        if (g.lo - f.hi > link) continue;
        if (!compatible(f, g)) continue;
        if (g.guid !== undefined && f.guid === undefined) this.absorb(g, f);
        else this.absorb(f, g);
        return true;
      }
    }
    return false;
  }

  private prune(): void {
    if (this.sessions.length <= this.opts.maxSessions) {
      for (const s of this.sessions) this.capRetired(s);
      return;
    }
    this.sessions = this.sessions.slice(this.sessions.length - this.opts.maxSessions);
    for (const s of this.sessions) this.capRetired(s);
    this.changed = true;
  }

  private capRetired(s: Session): void {
    if (s.retired && s.retired.length > this.opts.maxRetired) {
      s.retired = [...s.retired].sort((a, b) => b.at - a.at).slice(0, this.opts.maxRetired);
    }
  }
}

function compatible(a: Session, b: Session): boolean {
  return a.guid === undefined || b.guid === undefined || a.guid === b.guid;
}

/** GUID key if any; else the key of the earliest creation; else the provisional key of the earliest sighting. */
function canonicalKey(asset: string, pid: number, a: Session, b: Session): string {
  const guid = a.guid ?? b.guid;
  if (guid !== undefined) return processGuidKey(guid);
  const starts = [a.start, b.start].filter((x): x is number => x !== undefined);
  if (starts.length) return processSessionKey(asset, pid, Math.min(...starts));
  return processProvisionalKey(asset, pid, Math.min(a.lo, b.lo));
}
