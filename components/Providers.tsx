'use client';
/** Client-side providers: one QueryClient per browser tab; an ended session sends the user to /login. */
import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import { errorCode } from './error-text';

function onAuthError(err: unknown): void {
  if (errorCode(err) !== 'UNAUTHENTICATED') return;
  const here = window.location.pathname + window.location.search;
  if (window.location.pathname !== '/login')
    window.location.assign(`/login?next=${encodeURIComponent(here)}`);
}

export function Providers({ children }: { children: ReactNode }) {
  const [client] = useState(
    () =>
      new QueryClient({
        queryCache: new QueryCache({ onError: onAuthError }),
        mutationCache: new MutationCache({ onError: onAuthError }),
        defaultOptions: {
          queries: {
            staleTime: 5_000,
            refetchOnWindowFocus: true,
            retry: (failures, err) =>
              !['UNAUTHENTICATED', 'FORBIDDEN', 'BAD_INPUT'].includes(errorCode(err)) && failures < 2,
          },
        },
      }),
  );
  return <QueryClientProvider client={client}>{children}</QueryClientProvider>;
}
