'use client';
/**
 * API tokens for scripts (admin only): create one (its secret is shown once, here, and never again),
 * list them (never their secrets), revoke one. Mount on the admin page: `<ApiTokens />`.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { errorText } from './error-text';
import { CREATE_TOKEN, REVOKE_TOKEN, TOKENS_QUERY } from './admin-documents';
import { gql } from './graphql-client';

interface ApiToken {
  id: string;
  name: string;
  scope: 'ingest' | 'read';
  createdBy: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revoked: boolean;
  active: boolean;
}

const day = (iso: string | null) => (iso ? new Date(iso).toISOString().slice(0, 10) : '—');

export function ApiTokens() {
  const qc = useQueryClient();
  const tokens = useQuery({
    queryKey: ['apiTokens'],
    queryFn: ({ signal }) => gql<{ apiTokens: ApiToken[] }>(TOKENS_QUERY, {}, signal),
  });
  const refresh = () => qc.invalidateQueries({ queryKey: ['apiTokens'] });
  const revoke = useMutation({
    mutationFn: (id: string) => gql(REVOKE_TOKEN, { id }),
    onSettled: refresh,
  });
  return (
    <section className="panel stack" aria-labelledby="tokens-heading" data-testid="api-tokens">
      <h2 id="tokens-heading">API tokens</h2>
      <p className="muted small">
        For scripts: send <code className="mono">Authorization: Bearer &lt;token&gt;</code>. An{' '}
        <em>ingest</em> token may only <code className="mono">POST /api/ingest</code> and read the progress of
        what it sent; a <em>read</em> token may run queries as a viewer.
      </p>
      <CreateTokenForm onCreated={refresh} />
      {revoke.isError ? (
        <p className="form-error" role="alert">
          {errorText(revoke.error)}
        </p>
      ) : null}
      {tokens.isPending ? <p className="muted">Loading tokens…</p> : null}
      {tokens.isError ? (
        <p className="form-error" role="alert">
          {errorText(tokens.error)}
        </p>
      ) : null}
      {tokens.data && tokens.data.apiTokens.length === 0 ? <p className="muted">No API tokens.</p> : null}
      {tokens.data && tokens.data.apiTokens.length > 0 ? (
        <div className="table-wrap">
          <table className="data-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Scope</th>
                <th scope="col">Created</th>
                <th scope="col">Expires</th>
                <th scope="col">Last used</th>
                <th scope="col">Status</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {tokens.data.apiTokens.map((t) => (
                <tr key={t.id} data-testid="api-token">
                  <th scope="row">{t.name}</th>
                  <td>{t.scope}</td>
                  <td>
                    {day(t.createdAt)} <span className="muted small">by {t.createdBy}</span>
                  </td>
                  <td>{t.expiresAt ? day(t.expiresAt) : 'never'}</td>
                  <td>{t.lastUsedAt ? day(t.lastUsedAt) : 'never'}</td>
                  <td>
                    <span className={`status ${t.active ? 'status-up' : 'status-down'}`}>
                      {t.revoked ? 'revoked' : t.active ? 'active' : 'expired'}
                    </span>
                  </td>
                  <td>
                    {t.revoked ? null : (
                      <button
                        type="button"
                        className="ghost"
                        disabled={revoke.isPending}
                        onClick={() => revoke.mutate(t.id)}
                      >
                        Revoke<span className="sr-only"> {t.name}</span>
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}

function CreateTokenForm({ onCreated }: { onCreated: () => void }) {
  const [name, setName] = useState('');
  const [scope, setScope] = useState<'ingest' | 'read'>('ingest');
  const [days, setDays] = useState('90');
  const create = useMutation({
    mutationFn: (vars: { name: string; scope: string; days: number | null }) =>
      gql<{ createApiToken: { secret: string; token: ApiToken } }>(CREATE_TOKEN, vars),
    onSuccess: () => {
      setName('');
      onCreated();
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate({ name, scope, days: days === '' ? null : Number(days) });
  };
  return (
    <div>
      <form className="inline-form" onSubmit={submit} aria-label="Create API token">
        <div className="field">
          <label htmlFor="token-name">Name</label>
          <input
            id="token-name"
            required
            maxLength={64}
            autoComplete="off"
            value={name}
            onChange={(e) => setName(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="token-scope">Scope</label>
          <select
            id="token-scope"
            value={scope}
            onChange={(e) => setScope(e.target.value === 'read' ? 'read' : 'ingest')}
          >
            <option value="ingest">ingest</option>
            <option value="read">read</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="token-days">Expires in (days, empty: never)</label>
          <input
            id="token-days"
            type="number"
            min={1}
            max={3650}
            inputMode="numeric"
            value={days}
            onChange={(e) => setDays(e.target.value)}
          />
        </div>
        <button type="submit" className="primary" disabled={create.isPending}>
          {create.isPending ? 'Creating…' : 'Create token'}
        </button>
      </form>
      {create.isError ? (
        <p className="form-error" role="alert">
          {errorText(create.error)}
        </p>
      ) : null}
      {create.data ? (
        <div className="form-ok" role="status" data-testid="new-token">
          <p>
            Token <strong>{create.data.createApiToken.token.name}</strong> created. Copy the secret now: it is
            not shown again.
          </p>
          <label htmlFor="token-secret" className="sr-only">
            Secret
          </label>
          <input
            id="token-secret"
            readOnly
            className="mono"
            size={52}
            value={create.data.createApiToken.secret}
            onFocus={(e) => e.currentTarget.select()}
          />
        </div>
      ) : null}
    </div>
  );
}
