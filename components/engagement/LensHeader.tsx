'use client';
/**
 * The lens header: title, score, status, hosts, techniques, tags (editable), assignee (assign to me /
 * unassign), the reopened-by-pipeline banner, and the status actions. Mutating controls only for roles
 * that may work incidents.
 */
import { useState, type FormEvent } from 'react';
import { errorText } from '../error-text';
import type { Lens } from './api';
import { Chips, LensStatusBadge, ScoreBadge } from './Badges';
import { parseTags, plural, shortTime } from './format';
import { useAssign, useSetTags } from './mutations';
import { StatusActions } from './StatusActions';

/** Technique chips shown before "+N more": a lens of sixty techniques would push the graph below the fold. */
const TECHNIQUES_SHOWN = 16;

export function LensHeader({ lens, canWork, me }: { lens: Lens; canWork: boolean; me: string }) {
  return (
    <header className="panel lens-header" data-testid="lens-header">
      {lens.reopenedByPipeline ? (
        <p className="banner warn-banner" role="status" data-testid="reopened-banner">
          Reopened by the pipeline: new detections arrived after this lens was closed.
          {lens.reopenReason ? ` ${lens.reopenReason}` : ''}
        </p>
      ) : null}
      <div className="lens-title-row">
        <ScoreBadge score={lens.score} />
        <h1 data-testid="lens-title">{lens.title}</h1>
        <LensStatusBadge status={lens.status} />
      </div>
      <p className="muted small mono">{lens.id}</p>
      <dl className="lens-facts">
        <div>
          <dt>Hosts</dt>
          <dd>{lens.hosts.join(', ') || '—'}</dd>
        </div>
        <div>
          <dt>Techniques</dt>
          <dd>
            <Chips items={lens.techniques} testId="lens-techniques" max={TECHNIQUES_SHOWN} />
          </dd>
        </div>
        <div>
          <dt>Activity</dt>
          <dd>
            {shortTime(lens.firstSeen)} → {shortTime(lens.lastSeen)} UTC
          </dd>
        </div>
        <div>
          <dt>Contents</dt>
          <dd>
            {plural(lens.riskCount, 'risk')}, {plural(lens.nodeCount, 'node')}, {plural(lens.detectionCount, 'detection')}
          </dd>
        </div>
        <div>
          <dt>Assignee</dt>
          <dd>
            <Assignee lens={lens} canWork={canWork} me={me} />
          </dd>
        </div>
        <div>
          <dt>Tags</dt>
          <dd>
            <Tags lens={lens} canWork={canWork} />
          </dd>
        </div>
        {lens.status === 'Closed' ? (
          <div className="wide">
            <dt>Resolution</dt>
            <dd data-testid="lens-resolution">
              {lens.resolution ?? '—'}
              {lens.duplicateOf ? ` of ${lens.duplicateOf}` : ''}
              {lens.closedBy ? ` · closed by ${lens.closedBy}` : ''}
              {lens.closedAt ? ` at ${shortTime(lens.closedAt)} UTC` : ''}
              {lens.resolutionSummary ? <span className="resolution-summary">{lens.resolutionSummary}</span> : null}
            </dd>
          </div>
        ) : null}
      </dl>
      {canWork ? <StatusActions lens={lens} /> : null}
    </header>
  );
}

function Assignee({ lens, canWork, me }: { lens: Lens; canWork: boolean; me: string }) {
  const assign = useAssign(lens.id);
  return (
    <span className="assignee" data-testid="lens-assignee">
      <span>{lens.assignee ?? <span className="muted">unassigned</span>}</span>
      {canWork ? (
        <>
          {lens.assignee !== me ? (
            <button type="button" className="ghost small-button" onClick={() => assign.mutate(me)} disabled={assign.isPending}>
              Assign to me
            </button>
          ) : null}
          {lens.assignee ? (
            <button type="button" className="ghost small-button" onClick={() => assign.mutate(null)} disabled={assign.isPending}>
              Unassign
            </button>
          ) : null}
        </>
      ) : null}
      {assign.isError ? (
        <span className="form-error" role="alert">
          {errorText(assign.error)}
        </span>
      ) : null}
    </span>
  );
}

function Tags({ lens, canWork }: { lens: Lens; canWork: boolean }) {
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState('');
  const setTags = useSetTags(lens.id);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTags.mutate(parseTags(text), { onSuccess: () => setEditing(false) });
  };
  if (editing) {
    return (
      <form className="inline-form tags-form" onSubmit={submit}>
        <label htmlFor="lens-tags" className="sr-only">
          Tags, comma-separated
        </label>
        <input id="lens-tags" value={text} onChange={(e) => setText(e.target.value)} placeholder="tag, another" autoFocus />
        <button type="submit" className="primary small-button" disabled={setTags.isPending}>
          Save
        </button>
        <button type="button" className="ghost small-button" onClick={() => setEditing(false)}>
          Cancel
        </button>
        {setTags.isError ? (
          <span className="form-error" role="alert">
            {errorText(setTags.error)}
          </span>
        ) : null}
      </form>
    );
  }
  return (
    <span className="tags">
      <Chips items={lens.tags} empty="none" testId="lens-tags" />
      {canWork ? (
        <button
          type="button"
          className="ghost small-button"
          onClick={() => {
            setText(lens.tags.join(', '));
            setEditing(true);
          }}
        >
          Edit tags
        </button>
      ) : null}
    </span>
  );
}
