/**
 * One upload's progress, kept live: the subscription (server-sent events) writes every change into the
 * react-query cache; while the stream is not open (connecting, ended early, failed) and the upload is not
 * done, react-query polls instead. No timers of our own.
 */
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { gql } from './graphql-client';
import { subscribe } from './subscription';
import { UPLOAD_PROGRESS_SUBSCRIPTION, UPLOAD_QUERY, type UploadView } from './upload-view';

export const UPLOAD_POLL_MS = 2_000;

export const uploadKey = (id: string) => ['upload', id] as const;
export const UPLOADS_KEY = ['uploads'] as const;

export type LiveState = 'connecting' | 'open' | 'closed' | 'failed';

export function useUploadProgress(id: string) {
  const qc = useQueryClient();
  const [live, setLive] = useState<LiveState>('connecting');
  const query = useQuery({
    queryKey: uploadKey(id),
    queryFn: async ({ signal }) =>
      (await gql<{ upload: UploadView | null }>(UPLOAD_QUERY, { id }, signal)).upload,
    refetchInterval: (q) => (live === 'open' || q.state.data?.done ? false : UPLOAD_POLL_MS),
    staleTime: 0,
  });

  useEffect(() => {
    const ac = new AbortController();
    setLive('connecting');
    subscribe<{ uploadProgress: UploadView }>(
      UPLOAD_PROGRESS_SUBSCRIPTION,
      { id },
      {
        signal: ac.signal,
        onNext: (data) => {
          const fresh = data.uploadProgress;
          qc.setQueryData(uploadKey(id), fresh);
          // The recent-uploads list shows the same upload: keep its row as current as this view.
          qc.setQueryData<{ uploads: UploadView[] }>(UPLOADS_KEY, (old) =>
            old ? { uploads: old.uploads.map((u) => (u.id === id ? fresh : u)) } : old,
          );
          setLive('open');
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
  }, [id, qc]);

  return { ...query, live };
}
