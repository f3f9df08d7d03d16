'use client';
/**
 * Triage of several lenses at once, from the incident list: assign to me, investigate, close with one
 * resolution and summary. Each lens is changed on its own on the server (its own audit entry); the ones
 * that could not be changed are named in the result and stay selected.
 */
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import {
  ASSIGN_LENSES,
  RESOLUTION_TEXT,
  RESOLUTIONS,
  SET_LENSES_STATUS,
  type LensChangeOutcome,
  type Resolution,
} from '../engagement/api';
import { BULK_LENSES_MAX } from '../../domain/lens-triage';
import { plural } from '../engagement/format';
import { errorText } from '../error-text';
import { gql } from '../graphql-client';
import { bulkSummary, keptIds, sendInParts, type PartsResult } from './bulk';

/** A duplicate names the one lens it duplicates: closed one at a time, from the lens. */
const BULK_RESOLUTIONS = RESOLUTIONS.filter((r) => r !== 'Duplicate');

type Change =
  | { kind: 'assign'; assignee: string }
  | { kind: 'status'; status: 'Investigating' }
  | { kind: 'status'; status: 'Closed'; resolution: Resolution; summary: string };

/** One request of the API for up to BULK_LENSES_MAX lenses. */
async function send(c: Change, ids: string[]): Promise<LensChangeOutcome[]> {
  if (c.kind === 'assign') {
    const r = await gql<{ assignLenses: LensChangeOutcome[] }>(ASSIGN_LENSES, { ids, assignee: c.assignee });
    return r.assignLenses;
  }
  const vars =
    c.status === 'Closed'
      ? { status: c.status, resolution: c.resolution, summary: c.summary }
      : { status: c.status };
  const r = await gql<{ setLensesStatus: LensChangeOutcome[] }>(SET_LENSES_STATUS, { ids, ...vars });
  return r.setLensesStatus;
}

export function BulkActions({
  selected,
  me,
  onDone,
}: {
  selected: string[];
  me: string;
  /** Called with the ids to keep selected (the refused ones and any not sent). */
  onDone: (keep: Set<string>) => void;
}) {
  const qc = useQueryClient();
  const [result, setResult] = useState<string | null>(null);
  const [closing, setClosing] = useState(false);
  const [resolution, setResolution] = useState<Resolution | ''>('');
  const [summary, setSummary] = useState('');

  const change = useMutation({
    // sendInParts never rejects: a failed request is in its result, beside what the earlier parts changed.
    mutationFn: (c: Change): Promise<PartsResult> =>
      sendInParts(selected, BULK_LENSES_MAX, (part) => send(c, part)),
    onSuccess: (result, c) => {
      const done =
        c.kind === 'assign' ? 'Assigned' : c.status === 'Closed' ? 'Closed' : 'Moved to Investigating';
      const { outcomes, unsent, error } = result;
      const notSent = error === null ? undefined : { count: unsent.length, reason: errorText(error) };
      setResult(notSent && outcomes.length === 0 ? notSent.reason : bulkSummary(done, outcomes, notSent));
      // The close form keeps its resolution and summary while some lenses were not sent, for the retry.
      if (c.kind === 'status' && c.status === 'Closed' && unsent.length === 0) {
        setClosing(false);
        setSummary('');
        setResolution('');
      }
      onDone(keptIds(result));
    },
    onSettled: () => qc.invalidateQueries({ queryKey: ['lenses'] }),
  });

  const close = (e: FormEvent) => {
    e.preventDefault();
    if (!resolution || !summary.trim()) return;
    change.mutate({ kind: 'status', status: 'Closed', resolution, summary: summary.trim() });
  };

  return (
    <div
      className="bulk-actions"
      role="region"
      aria-label="Change the selected lenses"
      data-testid="bulk-actions"
    >
      <div className="bulk-bar">
        <strong data-testid="bulk-count">{plural(selected.length, 'lens', 'lenses')} selected</strong>
        <button
          type="button"
          disabled={selected.length === 0 || change.isPending}
          onClick={() => change.mutate({ kind: 'assign', assignee: me })}
          data-testid="bulk-assign-me"
        >
          Assign to me
        </button>
        <button
          type="button"
          disabled={selected.length === 0 || change.isPending}
          onClick={() => change.mutate({ kind: 'status', status: 'Investigating' })}
          data-testid="bulk-investigate"
        >
          Investigate
        </button>
        <button
          type="button"
          disabled={selected.length === 0 || change.isPending}
          aria-expanded={closing}
          onClick={() => setClosing(!closing)}
          data-testid="bulk-close"
        >
          Close…
        </button>
        <button type="button" className="ghost" onClick={() => onDone(new Set())} disabled={change.isPending}>
          Clear selection
        </button>
      </div>
      {closing ? (
        <form className="bulk-close-form" onSubmit={close} data-testid="bulk-close-form">
          <div className="field">
            <label htmlFor="bulk-resolution">Resolution</label>
            <select
              id="bulk-resolution"
              value={resolution}
              onChange={(e) => setResolution(e.target.value as Resolution | '')}
              data-testid="bulk-resolution"
            >
              <option value="">Choose…</option>
              {BULK_RESOLUTIONS.map((r) => (
                <option key={r} value={r}>
                  {RESOLUTION_TEXT[r]}
                </option>
              ))}
            </select>
          </div>
          <div className="field grow">
            <label htmlFor="bulk-summary">Summary (kept on every lens)</label>
            <textarea
              id="bulk-summary"
              rows={2}
              value={summary}
              onChange={(e) => setSummary(e.target.value)}
              data-testid="bulk-summary"
            />
          </div>
          <button
            type="submit"
            className="primary"
            disabled={change.isPending || !resolution || !summary.trim()}
            data-testid="bulk-close-submit"
          >
            Close {plural(selected.length, 'lens', 'lenses')}
          </button>
        </form>
      ) : null}
      {result ? (
        <p className="muted small" role="status" data-testid="bulk-result">
          {result}
        </p>
      ) : null}
    </div>
  );
}
