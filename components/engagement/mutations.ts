/**
 * The engagement mutations as react-query hooks: each refreshes what it changed (the lens, the list,
 * the node) when it settles. Errors are shown by the caller through errorText.
 */
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { gql } from '../graphql-client';
import {
  ADD_NOTE,
  ADD_TO_LENS,
  ASSIGN,
  EDIT_NOTE,
  lensKey,
  nodeKey,
  REMOVE_FROM_LENS,
  SET_STATUS,
  SET_TAGS,
  type LensStatus,
  type Resolution,
} from './api';

function useRefresh(lensId: string) {
  const qc = useQueryClient();
  return async (node?: string) => {
    await Promise.all([
      qc.invalidateQueries({ queryKey: lensKey(lensId) }),
      qc.invalidateQueries({ queryKey: ['lenses'] }),
      node ? qc.invalidateQueries({ queryKey: nodeKey(node) }) : Promise.resolve(),
    ]);
  };
}

export interface StatusVars {
  status: LensStatus;
  resolution?: Resolution | null;
  summary?: string | null;
  duplicateOf?: string | null;
}

export function useSetStatus(lensId: string) {
  const refresh = useRefresh(lensId);
  return useMutation({
    mutationFn: (v: StatusVars) => gql(SET_STATUS, { id: lensId, ...v }),
    onSettled: () => refresh(),
  });
}

export function useAssign(lensId: string) {
  const refresh = useRefresh(lensId);
  return useMutation({
    mutationFn: (assignee: string | null) => gql(ASSIGN, { id: lensId, assignee }),
    onSettled: () => refresh(),
  });
}

export function useSetTags(lensId: string) {
  const refresh = useRefresh(lensId);
  return useMutation({
    mutationFn: (tags: string[]) => gql(SET_TAGS, { id: lensId, tags }),
    onSettled: () => refresh(),
  });
}

export function useAddNote(lensId: string) {
  const refresh = useRefresh(lensId);
  return useMutation({
    mutationFn: (v: { node?: string; text: string }) =>
      gql(ADD_NOTE, v.node ? { node: v.node, text: v.text } : { lens: lensId, text: v.text }),
    onSettled: (_d, _e, v) => refresh(v.node),
  });
}

/** Edits a note (the author's own; the previous text is kept as a version). */
export function useEditNote(lensId: string) {
  const refresh = useRefresh(lensId);
  return useMutation({
    mutationFn: (v: { id: string; text: string; node?: string }) => gql(EDIT_NOTE, { id: v.id, text: v.text }),
    onSettled: (_d, _e, v) => refresh(v.node),
  });
}

/** Adds nodes to the lens's scope as context (nodes already in it keep their role), a few at a time. */
export function useAddToLens(lensId: string) {
  const refresh = useRefresh(lensId);
  return useMutation({
    mutationFn: async (keys: string[]) => {
      const CONCURRENCY = 4;
      for (let i = 0; i < keys.length; i += CONCURRENCY) {
        await Promise.all(
          keys.slice(i, i + CONCURRENCY).map((node) => gql(ADD_TO_LENS, { lens: lensId, node })),
        );
      }
      return keys.length;
    },
    onSettled: () => refresh(),
  });
}

export function useRemoveFromLens(lensId: string) {
  const refresh = useRefresh(lensId);
  return useMutation({
    mutationFn: (node: string) => gql(REMOVE_FROM_LENS, { lens: lensId, node }),
    onSettled: () => refresh(),
  });
}
