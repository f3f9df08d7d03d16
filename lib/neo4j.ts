/**
 * The one Neo4j gateway (ENGINEERING.md §6). It owns the driver; everything else goes through
 * `read` / `write` (managed transactions) or `query` (one read, auto-commit) with an operation name (sent
 * as transaction metadata, visible in Neo4j's query log), parameters always separate from query text,
 * sessions closed in `finally`, and Neo4j errors mapped to domain errors. Transient errors and deadlocks are
 * retried by the driver's managed transactions and, for `query`, here in the same way; a transaction that
 * read a node another one deleted meanwhile is run again here (see `concurrentlyDeleted`).
 */
import neo4j, { isRetryableError, type Driver, type ManagedTransaction, type QueryResult, type RecordShape } from 'neo4j-driver';
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
      maxTransactionRetryTime: 30_000,
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

  private async managed<T>(
    operation: string,
    mode: 'READ' | 'WRITE',
    work: (tx: ManagedTransaction) => Promise<T>,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const session = this.driver.session({ database: this.database, defaultAccessMode: neo4j.session[mode] });
      try {
        const config = { metadata: { op: operation }, timeout: mode === 'READ' ? 60_000 : 120_000 };
        return await (mode === 'READ' ? session.executeRead(work, config) : session.executeWrite(work, config));
      } catch (err) {
        // The failed transaction changed nothing, so running it again is as safe as the driver's own retries.
        if (attempt < CONCURRENT_DELETE_ATTEMPTS && concurrentlyDeleted(err)) {
          await sleep(10 * attempt + Math.random() * 20);
          continue;
        }
        throw mapNeo4jError(err, operation);
      } finally {
        await session.close();
      }
    }
  }

  /**
   * One read query, rows as plain objects. Sent as an auto-commit transaction (RUN and PULL, no BEGIN and
   * COMMIT): for the short reads that most calls are (an analyzer query, an API lookup) the explicit
   * transaction around them cost Neo4j about as much CPU again as the query (measured: 3.4 ms against
   * 1.8 ms per trivial query on this machine; docs/benchmarks.md). The driver does not retry auto-commit
   * transactions, so this does what its managed transactions do: retries retryable errors (Neo4j
   * unavailable, a transient error) with exponential backoff for up to the same 30 s, and a read that met a
   * concurrently deleted node at once (`concurrentlyDeleted`).
   */
  async query<T extends RecordShape = RecordShape>(operation: string, cypher: string, params: Params = {}): Promise<T[]> {
    const started = Date.now();
    for (let attempt = 1, delay = RETRY_INITIAL_MS; ; attempt++) {
      const session = this.driver.session({ database: this.database, defaultAccessMode: neo4j.session.READ });
      try {
        return rows<T>(await session.run<T>(cypher, params, { metadata: { op: operation }, timeout: 60_000 }));
      } catch (err) {
        if (attempt < CONCURRENT_DELETE_ATTEMPTS && concurrentlyDeleted(err)) {
          await sleep(10 * attempt + Math.random() * 20);
          continue;
        }
        if (isRetryableError(err) && Date.now() - started + delay <= RETRY_MAX_MS) {
          await sleep(delay * (0.8 + Math.random() * 0.4));
          delay *= 2;
          continue;
        }
        throw mapNeo4jError(err, operation);
      } finally {
        await session.close();
      }
    }
  }

  /** One write query, rows as plain objects. */
  async mutate<T extends RecordShape = RecordShape>(operation: string, cypher: string, params: Params = {}): Promise<T[]> {
    return this.write(operation, async (tx) => rows<T>(await tx.run<T>(cypher, params)));
  }

  /** Schema statements cannot run in an explicit/managed transaction together with writes. */
  async schema(cypher: string): Promise<void> {
    const session = this.driver.session({ database: this.database });
    try {
      await session.run(cypher);
    } catch (err) {
      throw mapNeo4jError(err, 'schema');
    } finally {
      await session.close();
    }
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
/** Retries of auto-commit reads (`query`): the driver's own defaults for managed transactions. */
const RETRY_INITIAL_MS = 1000;
const RETRY_MAX_MS = 30_000;

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
  const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
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
