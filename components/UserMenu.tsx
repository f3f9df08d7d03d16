'use client';
/** Who is signed in (username and role) and the sign-out button. */
import { useMutation } from '@tanstack/react-query';
import { gql } from './graphql-client';

const LOGOUT = /* GraphQL */ `
  mutation Logout {
    logout
  }
`;

export function UserMenu({ username, role }: { username: string; role: string }) {
  const logout = useMutation({
    mutationFn: () => gql<{ logout: boolean }>(LOGOUT),
    // Whatever the outcome (even an already-ended session), leave for the sign-in page.
    onSettled: () => window.location.assign('/login'),
  });
  return (
    <div className="user-menu" data-testid="user-menu">
      <span className="user-name" data-testid="user-name">
        {username}
      </span>
      <span className={`role-badge role-${role}`} data-testid="user-role">
        {role}
      </span>
      <button type="button" className="ghost" onClick={() => logout.mutate()} disabled={logout.isPending}>
        {logout.isPending ? 'Signing out…' : 'Sign out'}
      </button>
    </div>
  );
}
