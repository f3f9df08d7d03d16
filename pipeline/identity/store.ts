/**
 * Where process sessions live between payloads. The resolution logic (session.ts, resolve.ts) is pure and
 * works on whatever a SessionStore loads; RedisSessionStore is the production store (shared by every
 * identify worker), MemorySessionStore serves unit tests. Writes are compare-and-set on a version per
 * (asset, pid), all of one call's writes at once, so two workers racing on the same pid never lose an
 * update: the loser reloads and resolves again.
 */
import { z } from 'zod';
import type { Session } from './session';

export const SessionSchema = z.object({
  key: z.string().min(1),
  guid: z.string().optional(),
  start: z.number().optional(),
  exact: z.boolean().optional(),
  end: z.number().optional(),
  lo: z.number(),
  hi: z.number(),
  retired: z.array(z.object({ key: z.string(), at: z.number() })).optional(),
});
export const SessionsSchema = z.array(SessionSchema);

export interface StoredTimeline {
  /** 0 when nothing is stored yet. */
  version: number;
  sessions: Session[];
}

export interface TimelineWrite {
  id: string;
  /** The version the change was computed from. */
  version: number;
  sessions: Session[];
}

export interface SessionStore {
  /** Timelines by id (`<ASSET>:<pid>`); ids with nothing stored come back as version 0, no sessions. */
  load(ids: readonly string[]): Promise<Map<string, StoredTimeline>>;
  /** Writes all timelines if every version still matches, else nothing; false when another writer won. */
  commit(writes: readonly TimelineWrite[]): Promise<boolean>;
}

export function timelineId(asset: string, pid: number): string {
  return `${asset}:${pid}`;
}

/** Parses a stored session list; a corrupt entry is dropped rather than failing every later event on that pid. */
export function parseSessions(json: string | null | undefined): Session[] {
  if (!json) return [];
  try {
    const parsed = SessionsSchema.safeParse(JSON.parse(json));
    return parsed.success ? (parsed.data as Session[]) : [];
  } catch {
    return [];
  }
}

/** In-process store with the same compare-and-set semantics as Redis (unit tests, single-process tools). */
export class MemorySessionStore implements SessionStore {
  private readonly data = new Map<string, { version: number; json: string }>();

  async load(ids: readonly string[]): Promise<Map<string, StoredTimeline>> {
    const out = new Map<string, StoredTimeline>();
    for (const id of ids) {
      const d = this.data.get(id);
      out.set(id, { version: d?.version ?? 0, sessions: parseSessions(d?.json) });
    }
    return out;
  }

  async commit(writes: readonly TimelineWrite[]): Promise<boolean> {
    for (const w of writes) if ((this.data.get(w.id)?.version ?? 0) !== w.version) return false;
    for (const w of writes) this.data.set(w.id, { version: w.version + 1, json: JSON.stringify(w.sessions) });
    return true;
  }

  /** For tests: the stored sessions of one (asset, pid). */
  peek(id: string): Session[] {
    return parseSessions(this.data.get(id)?.json);
  }
}
