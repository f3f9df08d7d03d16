'use client';
/** Search the whole graph (process image and command line, file path, domain, IP, host); add results to the lens. */
import { useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { errorText } from '../error-text';
import { gql } from '../graphql-client';
import { kindStyle } from '../graph/graph-style';
import { SEARCH_QUERY, type GraphNode } from './api';
import { ScoreBadge } from './Badges';
import { useAddToLens } from './mutations';

export function SearchNodes({
  lensId,
  canWork,
  inScope,
  onShow,
}: {
  lensId: string;
  canWork: boolean;
  inScope: (key: string) => boolean;
  onShow: (nodes: GraphNode[]) => void;
}) {
  const [draft, setDraft] = useState('');
  const [text, setText] = useState('');
  const q = useQuery({
    queryKey: ['search', text],
    queryFn: ({ signal }) => gql<{ search: GraphNode[] }>(SEARCH_QUERY, { text, limit: 25 }, signal),
    enabled: text.length > 0,
  });
  const add = useAddToLens(lensId);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setText(draft.trim());
  };
  const addNode = (n: GraphNode) => {
    onShow([n]);
    if (canWork) add.mutate([n.key]);
  };
  return (
    <section className="panel" aria-labelledby="search-heading">
      <h2 id="search-heading">Search the graph</h2>
      <form className="inline-form" role="search" onSubmit={submit}>
        <div className="field grow">
          <label htmlFor="node-search">Image, command line, path, domain, IP or host</label>
          <input
            id="node-search"
            type="search"
            value={draft}
            maxLength={200}
            onChange={(e) => setDraft(e.target.value)}
            data-testid="node-search"
          />
        </div>
        <button type="submit">Search</button>
      </form>
      {q.isFetching ? <p className="muted small">Searching…</p> : null}
      {q.error ? (
        <p className="form-error" role="alert">
          {errorText(q.error)}
        </p>
      ) : null}
      {q.data ? (
        q.data.search.length === 0 ? (
          <p className="muted small">Nothing found.</p>
        ) : (
          <ul className="search-results" data-testid="search-results">
            {q.data.search.map((n) => (
              <li key={n.key} data-testid="search-result">
                <span className="kind-glyph" style={{ background: kindStyle(n.kind).colour }} aria-hidden="true">
                  {kindStyle(n.kind).glyph}
                </span>
                <span className="wrap">
                  {n.label} <span className="muted small">{n.kind}{n.host ? ` · ${n.host}` : ''}</span>
                </span>
                {n.riskScore > 0 ? <ScoreBadge score={n.riskScore} label="Risk score" /> : null}
                {inScope(n.key) ? (
                  <span className="muted small">in lens</span>
                ) : (
                  <button type="button" className="ghost small-button" onClick={() => addNode(n)} disabled={add.isPending}>
                    {canWork ? 'Add to lens' : 'Show'}
                    <span className="sr-only"> {n.label}</span>
                  </button>
                )}
              </li>
            ))}
          </ul>
        )
      ) : null}
      {add.isError ? (
        <p className="form-error" role="alert">
          {errorText(add.error)}
        </p>
      ) : null}
    </section>
  );
}
