'use client';
/**
 * The incidents list: lenses filtered and sorted from the URL query string (shareable), paged by cursor
 * ("Load more"), kept live by the lensChanged subscription (which invalidates the query).
 */
import { useInfiniteQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import { useState, type FormEvent } from 'react';
import { MAX_SCORE_FILTER } from '../../domain/lens-score';
import { Chips, LensStatusBadge, ScoreBadge } from '../engagement/Badges';
import { BulkActions } from './BulkActions';
import {
  LENS_STATUSES,
  LENSES_QUERY,
  lensesKey,
  lensHref,
  type LensFilter,
  type LensPage,
  type LensSort,
  type LensStatus,
} from '../engagement/api';
import { ago, plural, shortTime } from '../engagement/format';
import { pollWhile, useLensChanged } from '../engagement/use-lens-changed';
import { errorText } from '../error-text';
import { gql } from '../graphql-client';
import {
  apiFilter,
  isFiltered,
  listStateToParams,
  parseListState,
  type ListState,
  type TypeChoice,
} from './lens-filters';

/** Technique chips per row before "+N more": about two lines, so one broad lens does not fill the screen. */
const TECHNIQUES_SHOWN = 8;

export const PAGE_SIZE = 25;

/** What the number means (docs/engagements.md, "Score"), on the column header. */
const SCORE_HINT =
  'Sort by score: the lens\'s distinct detections added strongest first, each later one weighing less (the second 35 %, the third 19 %), plus up to 20 % for breadth. One detection scores its own 0-100; a story of several scores more.';

export function IncidentsView({ me, canWork }: { me: string; canWork: boolean }) {
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const state = parseListState(new URLSearchParams(params.toString()));
  const live = useLensChanged();
  const filter = apiFilter(state);

  const query = useInfiniteQuery({
    queryKey: lensesKey(filter, state.sort),
    queryFn: ({ pageParam, signal }) =>
      gql<{ lenses: LensPage }>(
        LENSES_QUERY,
        { filter, sort: state.sort, first: PAGE_SIZE, after: pageParam },
        signal,
      ),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.lenses.nextCursor,
    refetchInterval: pollWhile(live),
  });

  const go = (next: ListState) => {
    const qs = listStateToParams(next).toString();
    router.replace(qs ? `${pathname}?${qs}` : pathname, { scroll: false });
  };

  const lenses = query.data?.pages.flatMap((p) => p.lenses.lenses) ?? [];
  // Lenses ticked for triage; only those still listed count (a filter change or a refresh may drop some).
  const [ticked, setTicked] = useState<Set<string>>(new Set());
  const selected = lenses.filter((l) => ticked.has(l.id)).map((l) => l.id);
  const allTicked = lenses.length > 0 && selected.length === lenses.length;
  const tick = (id: string, on: boolean) =>
    setTicked((t) => {
      const next = new Set(t);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });
  const total = query.data?.pages[0]?.lenses.total ?? 0;
  const now = Date.now();

  const sortHeader = (sort: LensSort, label: string, className?: string, hint?: string) => (
    <th scope="col" className={className} aria-sort={state.sort === sort ? 'descending' : 'none'}>
      <button
        type="button"
        title={hint}
        className="sort-button"
        data-testid={`sort-${sort}`}
        onClick={() => go({ ...state, sort })}
        aria-pressed={state.sort === sort}
      >
        {label}
        <span aria-hidden="true">{state.sort === sort ? ' ▼' : ''}</span>
      </button>
    </th>
  );

  return (
    <div className="stack">
      <Filters state={state} me={me} onApply={go} key={params.toString()} />
      <section className="panel" aria-labelledby="lenses-heading">
        <div className="panel-head">
          <h2 id="lenses-heading">Lenses</h2>
          <p className="muted small" aria-live="polite" data-testid="lens-total">
            {query.data ? `${plural(total, 'lens', 'lenses')}` : ''}
            {live === 'open' || live === 'connecting' ? ' · live' : ' · refreshing every 15 s'}
            {query.isFetching && !query.isFetchingNextPage ? ' · updating…' : ''}
          </p>
        </div>
        {query.isPending ? <p className="muted">Loading lenses…</p> : null}
        {query.error ? (
          <p className="form-error" role="alert">
            {errorText(query.error)}
          </p>
        ) : null}
        {query.data && lenses.length === 0 ? (
          isFiltered(state.filter) ? (
            <div className="empty-state" data-testid="lenses-empty">
              <h3>No lenses match these filters</h3>
              <button type="button" onClick={() => go({ ...state, filter: {} })}>
                Clear filters
              </button>
            </div>
          ) : (
            <div className="empty-state" data-testid="lenses-empty">
              <h3>No engagements yet</h3>
              <p className="muted">
                Engagements appear here when detections on uploaded telemetry build a lens worth investigating.{' '}
                <Link href="/upload">Upload telemetry</Link>.
              </p>
            </div>
          )
        ) : null}
        {canWork && lenses.length > 0 ? (
          <BulkActions selected={selected} me={me} onDone={setTicked} />
        ) : null}
        {lenses.length > 0 ? (
          <div className="table-wrap">
            <table className="data-table lens-table" data-testid="lens-table">
              <thead>
                <tr>
                  {canWork ? (
                    <th scope="col" className="select-cell">
                      <input
                        type="checkbox"
                        aria-label="Select every lens shown"
                        checked={allTicked}
                        onChange={(e) => setTicked(e.target.checked ? new Set(lenses.map((l) => l.id)) : new Set())}
                        data-testid="select-all"
                      />
                    </th>
                  ) : null}
                  {sortHeader('score', 'Score', 'num', SCORE_HINT)}
                  <th scope="col">Status</th>
                  <th scope="col">Title</th>
                  <th scope="col">Hosts</th>
                  <th scope="col">Techniques</th>
                  <th scope="col">Assignee</th>
                  {sortHeader('lastActivity', 'Last activity')}
                </tr>
              </thead>
              <tbody>
                {lenses.map((l) => (
                  <tr key={l.id} data-testid="lens-row" data-lens-id={l.id}>
                    {canWork ? (
                      <td className="select-cell">
                        <input
                          type="checkbox"
                          aria-label={`Select ${l.title}`}
                          checked={ticked.has(l.id)}
                          onChange={(e) => tick(l.id, e.target.checked)}
                          data-testid="lens-select"
                        />
                      </td>
                    ) : null}
                    <td className="num">
                      <ScoreBadge score={l.score} />
                    </td>
                    <td>
                      <LensStatusBadge status={l.status} />
                      {l.reopenedByPipeline ? <span className="muted small"> reopened</span> : null}
                      {l.type === 'asset' ? <div className="muted small">asset lens</div> : null}
                    </td>
                    <th scope="row" className="lens-title-cell">
                      <Link href={lensHref(l.id)} data-testid="lens-link">
                        {l.title}
                      </Link>
                      <div className="muted small">
                        {plural(l.riskCount, 'risk')} · {plural(l.nodeCount, 'node')}
                      </div>
                    </th>
                    <td className="hosts-cell">{l.hosts.join(', ') || '—'}</td>
                    <td>
                      <Chips items={l.techniques} max={TECHNIQUES_SHOWN} />
                    </td>
                    <td data-testid="lens-assignee">{l.assignee ?? <span className="muted">unassigned</span>}</td>
                    <td title={shortTime(l.updatedAt)}>{ago(l.updatedAt, now)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
        {query.hasNextPage ? (
          <div className="load-more">
            <button
              type="button"
              onClick={() => void query.fetchNextPage()}
              disabled={query.isFetchingNextPage}
              data-testid="load-more"
            >
              {query.isFetchingNextPage ? 'Loading…' : 'Load more'}
            </button>
            <span className="muted small">
              {' '}
              Showing {lenses.length} of {total}
            </span>
          </div>
        ) : null}
      </section>
    </div>
  );
}

/** Filter form: a draft edited locally, applied to the URL on submit (status boxes apply at once). */
function Filters({ state, me, onApply }: { state: ListState; me: string; onApply: (s: ListState) => void }) {
  const f = state.filter;
  const [host, setHost] = useState(f.host ?? '');
  const [technique, setTechnique] = useState(f.technique ?? '');
  const [minScore, setMinScore] = useState(f.minScore === undefined ? '' : String(f.minScore));
  const [assignee, setAssignee] = useState(f.assignee === '' ? '-' : (f.assignee ?? ''));
  const [text, setText] = useState(f.text ?? '');

  const draft = (): LensFilter => {
    const p = new URLSearchParams();
    if (f.status?.length) p.set('status', f.status.join(','));
    if (host) p.set('host', host);
    if (technique) p.set('technique', technique);
    if (minScore) p.set('minScore', minScore);
    if (assignee) p.set('assignee', assignee);
    if (text) p.set('q', text);
    return parseListState(p).filter;
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onApply({ ...state, filter: draft() });
  };
  const toggleStatus = (s: LensStatus) => {
    const cur = new Set(f.status ?? []);
    if (cur.has(s)) cur.delete(s);
    else cur.add(s);
    const status = LENS_STATUSES.filter((x) => cur.has(x));
    onApply({ ...state, filter: { ...draft(), status: status.length ? status : undefined } });
  };

  return (
    <section className="panel" aria-labelledby="filters-heading">
      <h2 id="filters-heading" className="sr-only">
        Filters
      </h2>
      <form className="inline-form filters" onSubmit={submit} role="search" data-testid="lens-filters">
        <fieldset className="status-filter">
          <legend>Status</legend>
          {LENS_STATUSES.map((s) => (
            <label key={s} className="check">
              <input
                type="checkbox"
                checked={f.status?.includes(s) ?? false}
                onChange={() => toggleStatus(s)}
                data-testid={`filter-status-${s}`}
              />
              {s}
            </label>
          ))}
        </fieldset>
        <div className="field">
          <label htmlFor="f-type">Lenses</label>
          <select
            id="f-type"
            value={state.type}
            onChange={(e) => onApply({ ...state, filter: draft(), type: e.target.value as TypeChoice })}
            data-testid="filter-type"
          >
            <option value="engagement">engagements</option>
            <option value="asset">asset lenses</option>
            <option value="all">all</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-text">Text</label>
          <input id="f-text" type="search" value={text} onChange={(e) => setText(e.target.value)} placeholder="title, id, tag, host" />
        </div>
        <div className="field">
          <label htmlFor="f-host">Host</label>
          <input id="f-host" value={host} onChange={(e) => setHost(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="f-technique">Technique</label>
          <input
            id="f-technique"
            value={technique}
            onChange={(e) => setTechnique(e.target.value)}
            placeholder="T1003.001"
            pattern="[Tt]\d{4}(\.\d{3})?"
            size={10}
          />
        </div>
        <div className="field">
          <label htmlFor="f-min">Min score</label>
          <input
            id="f-min"
            type="number"
            min={0}
            max={MAX_SCORE_FILTER}
            value={minScore}
            onChange={(e) => setMinScore(e.target.value)}
            size={4}
            className="narrow"
          />
        </div>
        <div className="field">
          <label htmlFor="f-assignee">Assignee</label>
          <select id="f-assignee" value={assignee} onChange={(e) => setAssignee(e.target.value)}>
            <option value="">anyone</option>
            <option value={me}>me ({me})</option>
            <option value="-">unassigned</option>
            {assignee && assignee !== me && assignee !== '-' ? <option value={assignee}>{assignee}</option> : null}
          </select>
        </div>
        <button type="submit" className="primary">
          Apply
        </button>
        {isFiltered(f) ? (
          <button type="button" className="ghost" onClick={() => onApply({ ...state, filter: {} })}>
            Clear
          </button>
        ) : null}
      </form>
    </section>
  );
}
