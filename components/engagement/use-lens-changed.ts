/**
 * Live lens updates: the lensChanged subscription (server-sent events) invalidates the react-query cache
 * of the lens list and of the lens that changed. Once the stream has ended or failed, `live` says so and
 * callers fall back to react-query's refetchInterval (`pollWhile`). No timers of our own.
 */
import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { subscribe } from '../subscription';
import { LENS_CHANGED_SUBSCRIPTION, lensKey } from './api';

export type LiveState = 'connecting' | 'open' | 'closed' | 'failed';

/** Poll this often while the subscription is not open. */
export const LENS_POLL_MS = 15_000;

/** refetchInterval for queries kept live by the subscription. */
export function pollWhile(live: LiveState): number | false {
  return live === 'closed' || live === 'failed' ? LENS_POLL_MS : false;
}

interface LensChanged {
  lensChanged: { kind: string; lens: { id: string } };
}

export function useLensChanged(): LiveState {
  const qc = useQueryClient();
  const [live, setLive] = useState<LiveState>('connecting');
  useEffect(() => {
    const ac = new AbortController();
    setLive('connecting');
    subscribe<LensChanged>(
      LENS_CHANGED_SUBSCRIPTION,
      {},
      {
        signal: ac.signal,
        onNext: (data) => {
          setLive('open');
          const id = data.lensChanged.lens.id;
          void qc.invalidateQueries({ queryKey: ['lenses'] });
          void qc.invalidateQueries({ queryKey: lensKey(id) });
        },
      },
    ).then(
      () => {
        if (!ac.signal.aborted) setLive('closed');
      },
      () => {
        if (!ac.signal.aborted) setLive('failed');
      },
    );
    return () => ac.abort();
  }, [qc]);
  return live;
}
