/**
 * In-process CorrelationState, for unit tests and single-process runs. Expiry follows event time (the
 * latest time seen by any call), matching the sliding windows; a periodic sweep drops groups whose
 * window has passed so memory stays bounded by the live groups.
 */
import type { CorrelationState } from './correlation';

interface Win {
  readonly members: Map<string, number>;
  expiresAt: number;
}

interface Rec {
  fields: Record<string, number>;
  expiresAt: number;
}

const SWEEP_EVERY = 1024;

export class MemoryCorrelationState implements CorrelationState {
  private readonly windows = new Map<string, Win>();
  private readonly records = new Map<string, Rec>();
  private latest = -Infinity;
  private ops = 0;

  private tick(time: number): void {
    if (time > this.latest) this.latest = time;
    if (++this.ops % SWEEP_EVERY === 0) this.sweep();
  }

  /** Drops windows and records whose expiry (in event time) has passed. */
  sweep(): void {
    for (const [k, w] of this.windows) if (w.expiresAt < this.latest) this.windows.delete(k);
    for (const [k, r] of this.records) if (r.expiresAt < this.latest) this.records.delete(k);
  }

  async windowAdd(key: string, member: string, time: number, windowMs: number): Promise<number> {
    this.tick(time);
    let w = this.windows.get(key);
    if (!w) this.windows.set(key, (w = { members: new Map(), expiresAt: time + windowMs }));
    const prev = w.members.get(member);
    if (prev === undefined || time > prev) w.members.set(member, time);
    const floor = time - windowMs;
    for (const [m, t] of w.members) if (t < floor) w.members.delete(m);
    w.expiresAt = Math.max(w.expiresAt, time + windowMs);
    return w.members.size;
  }

  async getFields(key: string): Promise<Record<string, number>> {
    const r = this.records.get(key);
    if (!r || r.expiresAt < this.latest) return {};
    return { ...r.fields };
  }

  async setFields(
    key: string,
    fields: Readonly<Record<string, number>>,
    time: number,
    ttlMs: number,
  ): Promise<void> {
    this.tick(time);
    const r = this.records.get(key);
    if (r) {
      Object.assign(r.fields, fields);
      r.expiresAt = Math.max(r.expiresAt, time + ttlMs);
    } else this.records.set(key, { fields: { ...fields }, expiresAt: time + ttlMs });
  }

  async clear(key: string): Promise<void> {
    this.windows.delete(key);
    this.records.delete(key);
  }

  /** Number of live groups (tests and metrics). */
  get size(): number {
    return this.windows.size + this.records.size;
  }
}
