'use client';
/** Account administration: list accounts, create one, change a role, disable or enable. */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { errorText } from './error-text';
import { CREATE_USER, DISABLE_USER, ENABLE_USER, SET_USER_ROLE, USERS_QUERY } from './admin-documents';
import { gql } from './graphql-client';

const ROLES = ['viewer', 'analyst', 'admin'] as const;

interface Account {
  username: string;
  role: string;
  disabled: boolean;
  createdAt: string;
}

export function AdminUsers({ me }: { me: string }) {
  const qc = useQueryClient();
  const users = useQuery({
    queryKey: ['users'],
    queryFn: ({ signal }) => gql<{ users: Account[] }>(USERS_QUERY, {}, signal),
  });
  const refresh = () => qc.invalidateQueries({ queryKey: ['users'] });

  const change = useMutation({
    mutationFn: ({ query, vars }: { query: string; vars: Record<string, unknown> }) => gql(query, vars),
    onSettled: refresh,
  });

  return (
    <div className="stack">
      <CreateUserForm onCreated={refresh} />
      <section className="panel" aria-labelledby="accounts-heading">
        <h2 id="accounts-heading">Accounts</h2>
        {change.isError ? (
          <p className="form-error" role="alert">
            {errorText(change.error)}
          </p>
        ) : null}
        {users.isPending ? <p className="muted">Loading accounts…</p> : null}
        {users.isError ? (
          <p className="form-error" role="alert">
            {errorText(users.error)}
          </p>
        ) : null}
        {users.data ? (
          <div className="table-wrap">
            <table className="data-table">
              <thead>
                <tr>
                  <th scope="col">Username</th>
                  <th scope="col">Role</th>
                  <th scope="col">Status</th>
                  <th scope="col">Created</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {users.data.users.map((u) => (
                  <tr key={u.username} data-testid={`account-${u.username}`}>
                    <th scope="row">
                      {u.username}
                      {u.username === me ? <span className="muted small"> (you)</span> : null}
                    </th>
                    <td>
                      <label className="sr-only" htmlFor={`role-${u.username}`}>
                        Role of {u.username}
                      </label>
                      <select
                        id={`role-${u.username}`}
                        value={u.role}
                        disabled={change.isPending}
                        onChange={(e) =>
                          change.mutate({
                            query: SET_USER_ROLE,
                            vars: { username: u.username, role: e.target.value },
                          })
                        }
                      >
                        {ROLES.map((r) => (
                          <option key={r} value={r}>
                            {r}
                          </option>
                        ))}
                      </select>
                    </td>
                    <td>
                      {u.disabled ? (
                        <span className="status status-down">disabled</span>
                      ) : (
                        <span className="status status-up">active</span>
                      )}
                    </td>
                    <td>{new Date(u.createdAt).toISOString().slice(0, 10)}</td>
                    <td>
                      {u.username === me ? null : (
                        <button
                          type="button"
                          className="ghost"
                          disabled={change.isPending}
                          onClick={() =>
                            change.mutate({
                              query: u.disabled ? ENABLE_USER : DISABLE_USER,
                              vars: { username: u.username },
                            })
                          }
                        >
                          {u.disabled ? 'Enable' : 'Disable'}
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
    </div>
  );
}

function CreateUserForm({ onCreated }: { onCreated: () => void }) {
  const [username, setUsername] = useState('');
  const [role, setRole] = useState<string>('analyst');
  const [password, setPassword] = useState('');
  const create = useMutation({
    mutationFn: (vars: { username: string; role: string; password: string }) => gql(CREATE_USER, vars),
    onSuccess: () => {
      setUsername('');
      setPassword('');
      onCreated();
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate({ username, role, password });
  };
  return (
    <section className="panel" aria-labelledby="create-heading">
      <h2 id="create-heading">Create account</h2>
      <form className="inline-form" onSubmit={submit}>
        <div className="field">
          <label htmlFor="new-username">Username</label>
          <input
            id="new-username"
            required
            autoComplete="off"
            value={username}
            onChange={(e) => setUsername(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="new-role">Role</label>
          <select id="new-role" value={role} onChange={(e) => setRole(e.target.value)}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="new-password">Initial password</label>
          <input
            id="new-password"
            type="password"
            required
            minLength={8}
            autoComplete="new-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </div>
        <button type="submit" className="primary" disabled={create.isPending}>
          {create.isPending ? 'Creating…' : 'Create'}
        </button>
      </form>
      {create.isError ? (
        <p className="form-error" role="alert">
          {errorText(create.error)}
        </p>
      ) : null}
      {create.isSuccess ? (
        <p className="form-ok" role="status">
          Account created.
        </p>
      ) : null}
    </section>
  );
}
