/**
 * The one Neo4j gateway (ENGINEERING.md §6). It owns the driver; everything else goes through
 * `read` / `write` (a transaction function, run again as a whole on a retryable error) or `query` (one read,
 * auto-commit) with an operation name (sent as transaction metadata, visible in Neo4j's query log),
 * parameters always separate from query text, sessions closed in `finally`, and Neo4j errors mapped to
 * domain errors. The retry policy is ours (`retryDelayMs`): a deadlock is retried within tens of
 * milliseconds, an unreachable Neo4j after a second and more, and a transaction that read a node another one
 * deleted meanwhile at once (`concurrentlyDeleted`).
 */
import neo4j, { ManagedTransaction, isRetryableError, type Driver, type QueryResult, type RecordShape } from 'neo4j-driver';
import { AppError } from '../domain/errors';

export interface Neo4jSettings {
  uri: string;
  user: string;
  password: string;
  database?: string;
}

export type Params = Record<string, unknown>;

export class GraphGateway {
  private readonly driver: Driver;
  private readonly database: string;

  constructor(settings: Neo4jSettings) {
    this.database = settings.database ?? 'neo4j';
    this.driver = neo4j.driver(settings.uri, neo4j.auth.basic(settings.user, settings.password), {
      // Epoch-millisecond times and counts fit in a double; plain numbers keep mapping code simple.
      disableLosslessIntegers: true,
      connectionAcquisitionTimeout: 30_000,
      maxConnectionPoolSize: 50,
      userAgent: 'lensgraph',
    });
  }

  async read<T>(operation: string, work: (tx: ManagedTransaction) => Promise<T>): Promise<T> {
    return this.managed(operation, 'READ', work);
  }

  async write<T>(operation: string, work: (tx: ManagedTransaction) => Promise<T>): Promise<T> {
    return this.managed(operation, 'WRITE', work);
  }

  /**
   * A transaction function run in an explicit transaction, committed here, and run again under `retryDelayMs`'s
   * policy. Not the driver's `executeRead`/`executeWrite`: their retry waits at least a second before the
   * first retry whatever the error, and the commonest retryable error here is a deadlock between stages that
   * write to the same nodes (merge's domain edges, engage's risks), which a retry a few tens of milliseconds
   * later settles. Measured in the scale bench with one upload in flight: one engage transaction in nine was
   * a deadlock victim, and each paid 1.1 s of detection latency (docs/benchmarks.md).
   */
  private async managed<T>(
    operation: string,
    mode: 'READ' | 'WRITE',
    work: (tx: ManagedTransaction) => Promise<T>,
  ): Promise<T> {
    const config = { metadata: { op: operation }, timeout: mode === 'READ' ? 60_000 : 120_000 };
    return this.retrying(operation, async () => {
      const session = this.driver.session({ database: this.database, defaultAccessMode: neo4j.session[mode] });
      try {
        const tx = session.beginTransaction(config);
        try {
          const out = await work(ManagedTransaction.fromTransaction(tx));
          await tx.commit();
          return out;
        } finally {
          if (tx.isOpen()) await tx.rollback().catch(() => undefined);
        }
      } finally {
        await session.close();
      }
    });
  }

  /** Runs `attempt` until it succeeds, an error is not worth retrying, or the retry budget is spent. */
  private async retrying<T>(operation: string, attempt: () => Promise<T>): Promise<T> {
    let started: number | undefined;
    const failures = { deleted: 0, contention: 0, unavailable: 0 };
    for (;;) {
      try {
        return await attempt();
      } catch (err) {
        started ??= Date.now();
        const delay = retryDelayMs(err, failures, Math.random());
        if (delay === null || Date.now() - started > RETRY_MAX_MS) throw mapNeo4jError(err, operation);
        await sleep(delay);
      }
    }
  }

  /**
   * One read query, rows as plain objects. Sent as an auto-commit transaction (RUN and PULL, no BEGIN and
   * COMMIT): for the short reads that most calls are (an analyzer query, an API lookup) the explicit
   * transaction around them cost Neo4j about as much CPU again as the query (measured: 3.4 ms against
   * 1.8 ms per trivial query on this machine; docs/benchmarks.md). Retried like transactions (`retryDelayMs`).
   */
  async query<T extends RecordShape = RecordShape>(operation: string, cypher: string, params: Params = {}): Promise<T[]> {
    return this.retrying(operation, async () => {
      const session = this.driver.session({ database: this.database, defaultAccessMode: neo4j.session.READ });
      try {
        return rows<T>(await session.run<T>(cypher, params, { metadata: { op: operation }, timeout: 60_000 }));
      } finally {
        await session.close();
      }
    });
  }

  /** One write query, rows as plain objects. */
  async mutate<T extends RecordShape = RecordShape>(operation: string, cypher: string, params: Params = {}): Promise<T[]> {
    return this.write(operation, async (tx) => rows<T>(await tx.run<T>(cypher, params)));
  }

  /**
   * One schema statement, auto-commit (schema changes cannot share a transaction with writes). Retried like
   * transactions: worker processes started together run the same idempotent statements at once, and Neo4j
   * makes all but one of concurrent schema changes deadlock victims.
   */
  async schema(cypher: string): Promise<void> {
    await this.retrying('schema', async () => {
      const session = this.driver.session({ database: this.database });
      try {
        await session.run(cypher, {}, { metadata: { op: 'schema' } });
      } finally {
        await session.close();
      }
    });
  }

  async ping(): Promise<boolean> {
    try {
      await this.driver.verifyConnectivity({ database: this.database });
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await this.driver.close();
  }
}

export function rows<T extends RecordShape>(result: QueryResult<T>): T[] {
  return result.records.map((r) => r.toObject() as T);
}

const CONCURRENT_DELETE_ATTEMPTS = 5;
/** Total time spent retrying one operation (the driver's default for its managed transactions). */
const RETRY_MAX_MS = 30_000;
/** First wait after Neo4j was unreachable or not ready (the driver's default), doubled on every failure. */
const UNAVAILABLE_INITIAL_MS = 1000;
/** First wait after losing a deadlock or another lock race, doubled on every failure. */
const CONTENTION_INITIAL_MS = 25;

export interface RetryFailures {
  deleted: number;
  contention: number;
  unavailable: number;
}

/**
 * How long to wait before running a failed operation again, or null to give up now. Counts the failure in
 * `failures`; `random` in [0, 1) spreads the waits of competing clients (±20 %).
 *   - a node deleted by a concurrent transaction (`concurrentlyDeleted`): at once, a few times (10-30 ms, growing);
 *   - lock contention (`Neo.TransientError.Transaction.*`: deadlock victim, lock wait ended): 25 ms, doubling;
 *   - anything else the driver calls retryable (Neo4j unreachable, restarting, a leader switch): 1 s, doubling.
 * The caller gives up once `RETRY_MAX_MS` have passed since the first attempt failed (as the driver does).
 */
export function retryDelayMs(err: unknown, failures: RetryFailures, random: number): number | null {
  const jitter = 0.8 + 0.4 * random;
  if (concurrentlyDeleted(err)) {
    failures.deleted += 1;
    return failures.deleted < CONCURRENT_DELETE_ATTEMPTS ? 10 * failures.deleted + 20 * random : null;
  }
  if (!isRetryableError(err)) return null;
  if (errorCode(err).startsWith('Neo.TransientError.Transaction.')) {
    failures.contention += 1;
    return CONTENTION_INITIAL_MS * 2 ** (failures.contention - 1) * jitter;
  }
  failures.unavailable += 1;
  return UNAVAILABLE_INITIAL_MS * 2 ** (failures.unavailable - 1) * jitter;
}

const errorCode = (err: unknown): string =>
  typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Neo4j reads at read-committed isolation: a statement that found a node and then writes to it (links it,
 * sets a property) after another transaction deleted it (merge folding a duplicate process into its alias,
 * say) fails with EntityNotFound "Unable to load NODE". The driver does not retry that; run again, the
 * statement simply no longer finds the node. "... has been deleted in this transaction" is the same code for a statement's own mistake, and
 * is not retried.
 */
export function concurrentlyDeleted(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { code, message } = err as { code?: unknown; message?: unknown };
  return (
    code === 'Neo.ClientError.Statement.EntityNotFound' &&
    typeof message === 'string' &&
    message.startsWith('Unable to load ')
  );
}

function mapNeo4jError(err: unknown, operation: string): Error {
  if (err instanceof AppError) return err;
  const code = errorCode(err);
  if (code === 'ServiceUnavailable' || code === 'SessionExpired' || code.startsWith('Neo.TransientError')) {
    return new AppError('UNAVAILABLE', `Neo4j unavailable during ${operation}`, { cause: code });
  }
  if (code === 'Neo.ClientError.Schema.ConstraintValidationFailed') {
    return new AppError('CONFLICT', `Constraint violated during ${operation}`);
  }
  if (code === 'Neo.ClientError.Security.Unauthorized') {
    return new AppError('UNAVAILABLE', 'Neo4j refused the credentials (check NEO4J_USER / NEO4J_PASSWORD)');
  }
  return err instanceof Error ? err : new Error(String(err));
}
