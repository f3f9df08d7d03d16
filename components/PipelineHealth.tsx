'use client';
/**
 * Pipeline status: Redis and Neo4j reachability, each stage's workers and queue counts. Refreshed by
 * react-query's refetchInterval (every 5 s while the page is visible).
 */
import { useQuery } from '@tanstack/react-query';
import { errorText } from './error-text';
import { gql } from './graphql-client';
import { StatusBadge } from './StatusBadge';

const HEALTH = /* GraphQL */ `
  query Health {
    health {
      redis
      neo4j
      checkedAt
      workers {
        stage
        workerId
        host
        pid
        up
        lastSeen
        processed
        failed
      }
      stages {
        name
        waiting
        active
        delayed
        failed
        completed
        workersUp
        perMinute
      }
    }
  }
`;

interface HealthData {
  health: {
    redis: boolean;
    neo4j: boolean;
    checkedAt: string;
    workers: Array<{
      stage: string;
      workerId: string;
      host: string;
      pid: number;
      up: boolean;
      lastSeen: string;
      processed: number;
      failed: number;
    }>;
    stages: Array<{
      name: string;
      waiting: number | null;
      active: number | null;
      delayed: number | null;
      failed: number | null;
      completed: number | null;
      workersUp: number;
      perMinute: number;
    }>;
  };
}

export const HEALTH_REFRESH_MS = 5_000;

const fmt = (n: number | null) => (n === null ? '—' : n.toLocaleString('en-US'));

function ago(iso: string, now: number): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  return `${Math.floor(s / 3600)}h ago`;
}

export function PipelineHealth() {
  const { data, error, isPending, dataUpdatedAt, isFetching } = useQuery({
    queryKey: ['health'],
    queryFn: ({ signal }) => gql<HealthData>(HEALTH, {}, signal),
    refetchInterval: HEALTH_REFRESH_MS,
    staleTime: 0,
  });

  if (isPending) return <p className="muted">Loading status…</p>;
  if (!data) {
    return (
      <p className="form-error" role="alert">
        {errorText(error)}
      </p>
    );
  }
  const h = data.health;
  const now = Date.parse(h.checkedAt);
  return (
    <div className="stack">
      {error ? (
        <p className="form-error" role="alert">
          Refresh failed: {errorText(error)} Showing the last known status.
        </p>
      ) : null}
      <section aria-labelledby="services-heading" className="panel">
        <h2 id="services-heading">Services</h2>
        <dl className="service-list">
          <div data-testid="service-redis">
            <dt>Redis</dt>
            <dd>
              <StatusBadge up={h.redis} />
            </dd>
          </div>
          <div data-testid="service-neo4j">
            <dt>Neo4j</dt>
            <dd>
              <StatusBadge up={h.neo4j} />
            </dd>
          </div>
        </dl>
        <p className="muted small" aria-live="polite">
          Checked {new Date(dataUpdatedAt).toLocaleTimeString('en-GB')}
          {isFetching ? ' · refreshing…' : ''}
        </p>
      </section>

      <section aria-labelledby="stages-heading" className="panel">
        <h2 id="stages-heading">Stages</h2>
        <div className="table-wrap">
          <table className="data-table">
            <thead>
              <tr>
                <th scope="col">Stage</th>
                <th scope="col">Workers</th>
                <th scope="col" className="num">
                  Waiting
                </th>
                <th scope="col" className="num">
                  Active
                </th>
                <th scope="col" className="num">
                  Delayed
                </th>
                <th scope="col" className="num">
                  Failed
                </th>
                <th scope="col" className="num">
                  Completed
                </th>
                <th scope="col" className="num">
                  Jobs / min
                </th>
              </tr>
            </thead>
            <tbody>
              {h.stages.map((s) => (
                <tr key={s.name} data-testid={`stage-${s.name}`}>
                  <th scope="row">{s.name}</th>
                  <td>
                    <StatusBadge up={s.workersUp > 0} upText={`${s.workersUp} up`} downText="no worker" />
                  </td>
                  <td className="num">{fmt(s.waiting)}</td>
                  <td className="num">{fmt(s.active)}</td>
                  <td className="num">{fmt(s.delayed)}</td>
                  <td className={`num${s.failed ? ' warn' : ''}`}>{fmt(s.failed)}</td>
                  <td className="num">{fmt(s.completed)}</td>
                  <td className="num">{fmt(s.perMinute)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>

      <section aria-labelledby="workers-heading" className="panel">
        <h2 id="workers-heading">Workers</h2>
        {h.workers.length === 0 ? (
          <p className="muted">No worker has reported in the last 10 minutes.</p>
        ) : (
          <div className="table-wrap">
            <table className="data-table">
              <thead>
                <tr>
                  <th scope="col">Stage</th>
                  <th scope="col">Worker</th>
                  <th scope="col">Status</th>
                  <th scope="col">Last seen</th>
                  <th scope="col" className="num">
                    Processed
                  </th>
                  <th scope="col" className="num">
                    Failed
                  </th>
                </tr>
              </thead>
              <tbody>
                {h.workers.map((w) => (
                  <tr key={`${w.stage}:${w.workerId}`}>
                    <td>{w.stage}</td>
                    <td>
                      <span className="mono">{w.workerId}</span>
                      <span className="muted small">
                        {' '}
                        {w.host} · pid {w.pid}
                      </span>
                    </td>
                    <td>
                      <StatusBadge up={w.up} />
                    </td>
                    <td>{ago(w.lastSeen, now)}</td>
                    <td className="num">{fmt(w.processed)}</td>
                    <td className={`num${w.failed ? ' warn' : ''}`}>{fmt(w.failed)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </div>
  );
}
