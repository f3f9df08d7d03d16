/**
 * Lens changes as a live feed (the `lensChanged` subscription). Lenses are written by the engage stage
 * (another process, whose Redis user may not publish: lib/redis-acl.ts) and by the API. Both bump
 * `updated_at` in the transaction that changes a lens, so the feed reads Neo4j: one poller per web process,
 * however many subscribers, asks which lenses changed in a window reaching SLACK_MS back (clock skew
 * between hosts, transactions that commit late) and emits each (lens, updated_at) once. The API's own
 * changes publish the `lenses` topic on the LiveHub, which wakes every web process's poller at once.
 *
 * kind: `merged` for a lens merged into another, `created` for a lens whose first write this is
 * (updated_at = created_at), `updated` otherwise.
 */
import { z } from 'zod';
import type { GraphGateway } from '../../lib/neo4j';
import { int } from '../../pipeline/engagement/repository';
import { toLensSummary } from '../engagements/repository';
import { requirePermission, type Viewer } from '../auth/roles';
import type { LensSummary } from '../engagements/types';
import type { LiveHub } from './live-hub';
import { sleep } from './watch';

export const LENS_TOPIC = 'lenses';

export type LensEventKind = 'created' | 'updated' | 'merged';

export interface LensEvent {
  kind: LensEventKind;
  lens: LensSummary;
}

export const SLACK_MS = 60_000;
/** Changed lenses read per poll at most (the rest wait for the next poll). */
const PAGE = 1000;
/** Events waiting for one subscriber at most. */
const QUEUE_MAX = 1000;

export function eventKind(l: LensSummary): LensEventKind {
  if (l.mergedInto) return 'merged';
  return l.updatedAt === l.createdAt ? 'created' : 'updated';
}

const Changed = z.object({ key: z.string(), at: z.number() });

/** The two reads of the feed (the only Cypher of server/live). */
export class LensFeedRepository {
  constructor(private readonly gateway: GraphGateway) {}

  async changedSince(since: number, limit: number): Promise<Array<{ key: string; at: number }>> {
    const rows = await this.gateway.query<{ key: unknown; at: unknown }>(
      'live.lens-changes',
      `MATCH (l:Lens) WHERE l.updated_at >= $since
       RETURN l.key AS key, l.updated_at AS at ORDER BY l.updated_at, l.key LIMIT $limit`,
      { since: int(since), limit: int(limit) },
    );
    return rows.flatMap((r) => {
      const p = Changed.safeParse(r);
      return p.success ? [p.data] : [];
    });
  }

  async lenses(keys: string[]): Promise<LensSummary[]> {
    if (keys.length === 0) return [];
    const rows = await this.gateway.query<{ lens: unknown }>(
      'live.lenses',
      'UNWIND $keys AS k MATCH (l:Lens {key: k}) RETURN properties(l) AS lens',
      { keys },
    );
    return rows.map((r) => toLensSummary(r.lens));
  }
}

interface Subscriber {
  queue: LensEvent[];
  wake: () => void;
}

export interface LensFeedDeps {
  gateway: GraphGateway;
  hub: LiveHub;
  pollMs?: number;
  now?: () => number;
  onError?: (err: unknown) => void;
}

export class LensFeed {
  private readonly repo: LensFeedRepository;
  private readonly subscribers = new Set<Subscriber>();
  /** Last `updated_at` seen per lens within the window. */
  private seen = new Map<string, number>();
  private running: Promise<void> | undefined;
  private started: Promise<void> | undefined;
  private stop: AbortController | undefined;
  private readonly pollMs: number;
  private readonly now: () => number;

  constructor(private readonly deps: LensFeedDeps) {
    this.repo = new LensFeedRepository(deps.gateway);
    this.pollMs = deps.pollMs ?? 1000;
    this.now = deps.now ?? Date.now;
  }

  /** Tell every web process's feed that lenses changed (after the change committed). */
  async notify(): Promise<void> {
    await this.deps.hub.publish(LENS_TOPIC).catch((err: unknown) => this.deps.onError?.(err));
  }

  /**
   * Changes from now on (for viewers allowed to read), until `signal` aborts or the consumer stops. Resolves once the feed knows the
   * current state (a change committed after that is delivered).
   */
  async subscribe(viewer: Viewer | null, signal?: AbortSignal): Promise<AsyncGenerator<LensEvent, void, undefined>> {
    requirePermission(viewer, 'read');
    const sub: Subscriber = { queue: [], wake: () => undefined };
    this.subscribers.add(sub);
    try {
      await this.ensureRunning();
    } catch (err) {
      this.subscribers.delete(sub);
      throw err;
    }
    return this.stream(sub, signal);
  }

  private async *stream(sub: Subscriber, signal?: AbortSignal): AsyncGenerator<LensEvent, void, undefined> {
    const onAbort = () => sub.wake();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      while (!signal?.aborted) {
        const next = sub.queue.shift();
        if (next) {
          yield next;
          continue;
        }
        await new Promise<void>((resolve) => {
          sub.wake = resolve;
          if (sub.queue.length > 0 || signal?.aborted) resolve();
        });
        sub.wake = () => undefined;
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.subscribers.delete(sub);
      if (this.subscribers.size === 0) this.stop?.abort();
    }
  }

  /** Starts the poller when none runs; its first poll only learns the current state. */
  private ensureRunning(): Promise<void> {
    if (this.stop && !this.stop.signal.aborted && this.started) return this.started;
    const stop = new AbortController();
    this.stop = stop;
    const previous = this.running;
    const started = (async () => {
      await previous; // a poller that is stopping finishes first
      this.seen = new Map();
      await this.poll(false);
    })();
    this.started = started;
    this.running = started
      .then(() => this.loop(stop.signal))
      .catch(() => stop.abort())
      .finally(() => {
        if (this.stop === stop) this.started = undefined;
      });
    return started;
  }

  private async loop(signal: AbortSignal): Promise<void> {
    const wait = this.deps.hub.waker(LENS_TOPIC);
    while (!signal.aborted) {
      await wait(this.pollMs, signal);
      if (signal.aborted) break;
      try {
        await this.poll(true);
      } catch (err) {
        this.deps.onError?.(err);
        await sleep(this.pollMs, signal);
      }
    }
  }

  /** One read: lenses changed in the window; with `emit`, new (lens, updated_at) pairs go to subscribers. */
  private async poll(emit: boolean): Promise<void> {
    const since = this.now() - SLACK_MS;
    const rows = await this.repo.changedSince(since, PAGE);
    const changed = rows.filter((r) => this.seen.get(r.key) !== r.at);
    const next = new Map<string, number>();
    for (const r of rows) next.set(r.key, r.at);
    // A full page may cut the window short: keep remembering what fell out of it for one more poll.
    if (rows.length >= PAGE) for (const [k, v] of this.seen) if (!next.has(k)) next.set(k, v);
    this.seen = next;
    if (!emit || changed.length === 0 || this.subscribers.size === 0) return;
    const lenses = await this.repo.lenses(changed.map((r) => r.key));
    const byKey = new Map(lenses.map((l) => [l.id, l] as const));
    for (const r of changed) {
      const lens = byKey.get(r.key);
      if (!lens) continue;
      const event: LensEvent = { kind: eventKind(lens), lens };
      for (const s of this.subscribers) {
        // A consumer that stopped reading loses its oldest events rather than holding memory.
        if (s.queue.length >= QUEUE_MAX) s.queue.shift();
        s.queue.push(event);
        s.wake();
      }
    }
  }

  async close(): Promise<void> {
    this.stop?.abort();
    for (const s of this.subscribers) s.wake();
    await this.running;
  }
}
