'use client';
/** The sign-in form. On success the browser navigates (full load) so server components see the cookie. */
import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { errorText } from './error-text';
import { gql } from './graphql-client';
import { safeNext } from './safe-next';

const LOGIN = /* GraphQL */ `
  mutation Login($username: String!, $password: String!) {
    login(username: $username, password: $password) {
      username
      role
    }
  }
`;

export function LoginForm({ next }: { next?: string }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const login = useMutation({
    mutationFn: (vars: { username: string; password: string }) => gql(LOGIN, vars),
    onSuccess: () => window.location.assign(safeNext(next)),
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (login.isPending) return;
    login.mutate({ username, password });
  };

  return (
    <form
      className="login-form"
      onSubmit={submit}
      aria-labelledby="login-heading"
      aria-describedby={login.isError ? 'login-error' : undefined}
    >
      <h1 id="login-heading">Sign in to Lensgraph</h1>
      <label htmlFor="username">Username</label>
      <input
        id="username"
        name="username"
        autoComplete="username"
        autoCapitalize="none"
        spellCheck={false}
        required
        autoFocus
        value={username}
        onChange={(e) => setUsername(e.target.value)}
      />
      <label htmlFor="password">Password</label>
      <input
        id="password"
        name="password"
        type="password"
        autoComplete="current-password"
        required
        value={password}
        onChange={(e) => setPassword(e.target.value)}
      />
      {login.isError ? (
        <p id="login-error" className="form-error" role="alert">
          {errorText(login.error, 'login')}
        </p>
      ) : null}
      <button type="submit" className="primary" disabled={login.isPending || login.isSuccess}>
        {login.isPending || login.isSuccess ? 'Signing in…' : 'Sign in'}
      </button>
    </form>
  );
}
