/**
 * The gateway's retry policy (pure): which failures are run again, and after how long.
 */
import { Neo4jError } from 'neo4j-driver';
import { describe, expect, it } from 'vitest';
import { retryDelayMs, type RetryFailures } from './neo4j';

const error = (code: string, message = 'failed') =>
  new Neo4jError(message, code, '50N42', 'error: general processing exception');
const fresh = (): RetryFailures => ({ deleted: 0, contention: 0, unavailable: 0 });

const DEADLOCK = 'Neo.TransientError.Transaction.DeadlockDetected';

describe('retryDelayMs', () => {
  it('retries a deadlock victim within tens of milliseconds, doubling', () => {
    const f = fresh();
    const waits = [0, 1, 2].map(() => retryDelayMs(error(DEADLOCK), f, 0.5));
    expect(waits).toEqual([25, 50, 100]);
    expect(f.contention).toBe(3);
  });

  it('waits a second and more for a Neo4j that is unreachable or not ready', () => {
    const f = fresh();
    expect(retryDelayMs(error('ServiceUnavailable'), f, 0.5)).toBe(1000);
    expect(retryDelayMs(error('Neo.TransientError.General.DatabaseUnavailable'), f, 0.5)).toBe(2000);
    expect(f.unavailable).toBe(2);
  });

  it('keeps the two backoffs apart: a deadlock after an outage still waits briefly', () => {
    const f = fresh();
    retryDelayMs(error('SessionExpired'), f, 0.5);
    retryDelayMs(error('SessionExpired'), f, 0.5);
    expect(retryDelayMs(error(DEADLOCK), f, 0.5)).toBe(25);
  });

  it('spreads waits by ±20 %', () => {
    expect(retryDelayMs(error(DEADLOCK), fresh(), 0)).toBeCloseTo(20);
    expect(retryDelayMs(error(DEADLOCK), fresh(), 0.999_999)).toBeCloseTo(30);
    expect(retryDelayMs(error('ServiceUnavailable'), fresh(), 0)).toBeCloseTo(800);
  });

  it('runs a read of a concurrently deleted node again at once, four times at most', () => {
    const f = fresh();
    const deleted = () => error('Neo.ClientError.Statement.EntityNotFound', 'Unable to load NODE 4:abc:12.');
    const waits = [0, 1, 2, 3, 4].map(() => retryDelayMs(deleted(), f, 0));
    expect(waits).toEqual([10, 20, 30, 40, null]);
  });

  it('does not retry what a retry cannot fix', () => {
    expect(retryDelayMs(error('Neo.ClientError.Statement.SyntaxError'), fresh(), 0.5)).toBeNull();
    expect(retryDelayMs(error('Neo.ClientError.Schema.ConstraintValidationFailed'), fresh(), 0.5)).toBeNull();
    // A statement's own mistake, same code as a concurrent delete.
    const own = error(
      'Neo.ClientError.Statement.EntityNotFound',
      'Node with id 12 has been deleted in this transaction',
    );
    expect(retryDelayMs(own, fresh(), 0.5)).toBeNull();
    // Terminated by an operator or a timeout (the driver receives it as a client error).
    expect(retryDelayMs(error('Neo.ClientError.Transaction.Terminated'), fresh(), 0.5)).toBeNull();
    expect(retryDelayMs(new Error('boom'), fresh(), 0.5)).toBeNull();
  });
});
