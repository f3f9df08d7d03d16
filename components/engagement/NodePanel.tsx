'use client';
/**
 * The side panel of the selected node: properties (times as ISO and local, long values wrapped with
 * Copy), risks, notes, and Expand: neighbour groups, paged 50 at a time, added to the lens's scope
 * (role context) so they persist, and to the graph at once. Analysts can remove the node from the lens
 * (after confirming). All values are React text.
 */
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { errorText } from '../error-text';
import { gql } from '../graphql-client';
import { kindStyle } from '../graph/graph-style';
import {
  NEIGHBOURS_QUERY,
  NODE_QUERY,
  nodeKey,
  type Direction,
  type GraphEdge,
  type GraphNode,
  type NeighbourGroup,
  type NeighbourPage,
  type NodeDetail,
  type Risk,
} from './api';
import { Chips, ScoreBadge } from './Badges';
import { CopyButton } from './CopyButton';
import { hashList, isLongValue, isTimeProp, isoTime, localTime, plural, propText, sortedProps } from './format';
import { useAddToLens, useRemoveFromLens } from './mutations';
import { groupName } from './neighbour-groups';
import { AddNoteForm, NotesList } from './Notes';

export const NEIGHBOUR_PAGE = 50;

export function NodePanel({
  lensId,
  nodeKeyValue,
  canWork,
  me,
  inScope,
  onClose,
  onShow,
  onRemoved,
}: {
  lensId: string;
  nodeKeyValue: string;
  canWork: boolean;
  /** The signed-in user: their own notes can be edited. */
  me?: string;
  inScope: (key: string) => boolean;
  onClose: () => void;
  /** Put nodes and edges on the graph (before the lens is refetched). */
  onShow: (nodes: GraphNode[], edges: GraphEdge[]) => void;
  /** The node was removed from the lens (and the lens refetched without it): take it off the graph. */
  onRemoved: (key: string) => void;
}) {
  const q = useQuery({
    queryKey: nodeKey(nodeKeyValue),
    queryFn: ({ signal }) => gql<{ node: NodeDetail | null }>(NODE_QUERY, { key: nodeKeyValue }, signal),
  });
  const detail = q.data?.node;
  const style = kindStyle(detail?.node.kind);

  return (
    <section className="panel node-panel" aria-labelledby="node-panel-heading" data-testid="node-panel" data-node={nodeKeyValue}>
      <div className="panel-head">
        <h2 id="node-panel-heading">
          <span className="kind-glyph" style={{ background: style.colour }} aria-hidden="true">
            {style.glyph}
          </span>{' '}
          <span data-testid="node-panel-title">{detail?.node.label ?? nodeKeyValue}</span>
        </h2>
        <button type="button" className="ghost" onClick={onClose} aria-label="Close node panel">
          ✕
        </button>
      </div>
      {q.isPending ? <p className="muted">Loading node…</p> : null}
      {q.error ? (
        <p className="form-error" role="alert">
          {errorText(q.error)}
        </p>
      ) : null}
      {q.data && !detail ? <p className="muted">This node is no longer in the graph.</p> : null}
      {detail ? (
        <>
          <p className="muted small">
            {detail.node.kind ?? 'Unknown kind'}
            {detail.node.host ? ` on ${detail.node.host}` : ''} ·{' '}
            {inScope(detail.node.key) ? 'in this lens' : 'not in this lens'}
          </p>
          {canWork && inScope(detail.node.key) ? (
            <RemoveFromLens lensId={lensId} node={detail.node} onRemoved={onRemoved} />
          ) : null}
          <details open className="node-section">
            <summary>Properties</summary>
            <Properties node={detail.node} />
          </details>
          <details open className="node-section">
            <summary>Risks ({detail.risks.length})</summary>
            <RiskList risks={detail.risks} />
          </details>
          <details open className="node-section" data-testid="node-expand">
            <summary>Expand ({detail.neighbourGroups.length} groups)</summary>
            <ExpandGroups
              lensId={lensId}
              nodeKeyValue={detail.node.key}
              groups={detail.neighbourGroups}
              canWork={canWork}
              inScope={inScope}
              onShow={onShow}
            />
          </details>
          <details open className="node-section">
            <summary>Notes ({detail.notes.length})</summary>
            <NotesList
              notes={detail.notes}
              lensId={lensId}
              node={detail.node.key}
              {...(canWork && me ? { editAs: me } : {})}
            />
            {canWork ? <AddNoteForm lensId={lensId} node={detail.node.key} /> : null}
          </details>
          {detail.lenses.length > 1 ? (
            <p className="muted small">Also in {plural(detail.lenses.length - 1, 'other lens', 'other lenses')}.</p>
          ) : null}
        </>
      ) : null}
    </section>
  );
}

/**
 * Remove from lens, after a confirmation (the server records it in the audit trail, and the pipeline will
 * not add the node back to this lens). Done once the lens has been refetched without the node.
 */
function RemoveFromLens({
  lensId,
  node,
  onRemoved,
}: {
  lensId: string;
  node: GraphNode;
  onRemoved: (key: string) => void;
}) {
  const remove = useRemoveFromLens(lensId);
  const [confirming, setConfirming] = useState(false);
  const questionId = useId();
  if (!confirming) {
    return (
      <div className="row-actions">
        <button type="button" onClick={() => setConfirming(true)} data-testid="remove-from-lens">
          Remove from lens…
        </button>
      </div>
    );
  }
  return (
    <div className="remove-confirm" role="group" aria-labelledby={questionId} data-testid="remove-confirm">
      <p id={questionId} className="small wrap">
        Remove <strong>{node.label || node.key}</strong> from this lens? The pipeline will not add it back;
        an analyst can.
      </p>
      <div className="row-actions">
        <button
          type="button"
          className="primary"
          disabled={remove.isPending}
          onClick={() => remove.mutate(node.key, { onSuccess: () => onRemoved(node.key) })}
          data-testid="remove-confirm-yes"
        >
          {remove.isPending ? 'Removing…' : 'Remove'}
        </button>
        {/* Focus lands on Cancel: a second Enter does not remove by accident. */}
        <button
          type="button"
          className="ghost"
          autoFocus
          disabled={remove.isPending}
          onClick={() => {
            remove.reset();
            setConfirming(false);
          }}
        >
          Cancel
        </button>
      </div>
      {remove.isError ? (
        <p className="form-error" role="alert">
          {errorText(remove.error)}
        </p>
      ) : null}
    </div>
  );
}

function Properties({ node }: { node: GraphNode }) {
  const entries = sortedProps(node.props);
  return (
    <dl className="props" data-testid="node-props">
      <div>
        <dt>key</dt>
        <dd className="mono wrap">{node.key}</dd>
      </div>
      {entries.map(([name, value]) => {
        const text = propText(name, value);
        const isTime = typeof value === 'number' && isTimeProp(name) && value > 1e11;
        const hashes = hashList(name, value);
        return (
          <div key={name} data-prop={name}>
            <dt>{name}</dt>
            <dd>
              {hashes ? (
                <ul className="hash-list" data-testid={`prop-${name}`}>
                  {hashes.map((h) => (
                    <li key={h.algorithm}>
                      <span className="muted small">{h.algorithm}</span>
                      <span className="mono wrap">{h.digest}</span>
                      <CopyButton text={h.digest} />
                    </li>
                  ))}
                </ul>
              ) : isTime ? (
                <>
                  <time dateTime={isoTime(value)} className="mono">
                    {text}
                  </time>
                  <div className="muted small">{localTime(value)} local</div>
                </>
              ) : isLongValue(name, text) ? (
                <div className="long-value">
                  <pre className="wrap mono" data-testid={`prop-${name}`}>
                    {text}
                  </pre>
                  <CopyButton text={text} />
                </div>
              ) : (
                <span className="mono wrap" data-testid={`prop-${name}`}>
                  {text}
                </span>
              )}
            </dd>
          </div>
        );
      })}
    </dl>
  );
}

/**
 * Risks, strongest first. On a node's panel they are that node's; on the lens's Risks tab they are every
 * risky node's, and `nodeOf` names the node each one sits on (a Sigma summary does not), as a button that
 * opens it.
 */
export function RiskList({
  risks,
  nodeOf,
}: {
  risks: Risk[];
  nodeOf?: { label: (key: string) => string; open: (key: string) => void };
}) {
  if (risks.length === 0) return <p className="muted small">No risks on this node.</p>;
  return (
    <ul className="risks" data-testid="risks">
      {[...risks]
        .sort((a, b) => b.score - a.score)
        .map((r) => (
          <li key={r.key} className="risk">
            <div className="risk-head">
              <ScoreBadge score={r.score} label="Risk score" />
              <strong>{r.title}</strong>
            </div>
            {nodeOf ? (
              <div className="small">
                on{' '}
                <button type="button" className="link-button wrap" onClick={() => nodeOf.open(r.node)} data-testid="risk-node">
                  {nodeOf.label(r.node)}
                </button>
              </div>
            ) : null}
            <div className="muted small mono">
              {r.detection}
              {r.count > 1 ? ` · ${r.count} hits` : ''}
            </div>
            {r.summary ? <p className="small wrap">{r.summary}</p> : null}
            <Chips items={r.techniques} empty="" />
          </li>
        ))}
    </ul>
  );
}

function ExpandGroups({
  lensId,
  nodeKeyValue,
  groups,
  canWork,
  inScope,
  onShow,
}: {
  lensId: string;
  nodeKeyValue: string;
  groups: NeighbourGroup[];
  canWork: boolean;
  inScope: (key: string) => boolean;
  onShow: (nodes: GraphNode[], edges: GraphEdge[]) => void;
}) {
  const [open, setOpen] = useState<string | null>(null);
  if (groups.length === 0) return <p className="muted small">No neighbours.</p>;
  return (
    <ul className="neighbour-groups" data-testid="neighbour-groups">
      {groups.map((g) => {
        const id = `${g.edgeKind}:${g.direction}`;
        return (
          <li key={id} data-testid="neighbour-group" data-edge-kind={g.edgeKind} data-direction={g.direction}>
            <button
              type="button"
              className="ghost group-toggle"
              aria-expanded={open === id}
              onClick={() => setOpen(open === id ? null : id)}
            >
              {groupName(g.edgeKind, g.direction)} <span className="count">{g.total}</span>
            </button>
            {open === id ? (
              <NeighbourList
                lensId={lensId}
                nodeKeyValue={nodeKeyValue}
                edgeKind={g.edgeKind}
                direction={g.direction}
                canWork={canWork}
                inScope={inScope}
                onShow={onShow}
              />
            ) : null}
          </li>
        );
      })}
    </ul>
  );
}

function NeighbourList({
  lensId,
  nodeKeyValue,
  edgeKind,
  direction,
  canWork,
  inScope,
  onShow,
}: {
  lensId: string;
  nodeKeyValue: string;
  edgeKind: string;
  direction: Direction;
  canWork: boolean;
  inScope: (key: string) => boolean;
  onShow: (nodes: GraphNode[], edges: GraphEdge[]) => void;
}) {
  const q = useInfiniteQuery({
    queryKey: ['neighbours', nodeKeyValue, edgeKind, direction],
    queryFn: ({ pageParam, signal }) =>
      gql<{ neighbours: NeighbourPage }>(
        NEIGHBOURS_QUERY,
        { key: nodeKeyValue, edgeKind, direction, limit: NEIGHBOUR_PAGE, after: pageParam },
        signal,
      ),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.neighbours.nextCursor,
  });
  const add = useAddToLens(lensId);
  const nodes = q.data?.pages.flatMap((p) => p.neighbours.nodes) ?? [];
  const edges = q.data?.pages.flatMap((p) => p.neighbours.edges) ?? [];
  const missing = nodes.filter((n) => !inScope(n.key));
  const total = q.data?.pages[0]?.neighbours.total ?? 0;

  const addNodes = (list: GraphNode[]) => {
    const keys = new Set(list.map((n) => n.key));
    onShow(
      list,
      edges.filter((e) => keys.has(e.from) || keys.has(e.to)),
    );
    if (canWork) add.mutate(list.filter((n) => !inScope(n.key)).map((n) => n.key));
  };

  return (
    <div className="neighbour-list" data-testid="neighbour-list">
      {q.isPending ? <p className="muted small">Loading…</p> : null}
      {q.error ? (
        <p className="form-error" role="alert">
          {errorText(q.error)}
        </p>
      ) : null}
      {nodes.length > 0 ? (
        <>
          <div className="row-actions">
            <button
              type="button"
              className="primary"
              data-testid="add-neighbours"
              disabled={add.isPending || missing.length === 0}
              onClick={() => addNodes(nodes)}
            >
              {canWork
                ? missing.length === 0
                  ? 'All in the lens'
                  : `Add ${missing.length} to lens`
                : `Show ${nodes.length} in graph`}
            </button>
            <span className="muted small">
              {nodes.length} of {total}
            </span>
          </div>
          <ul className="neighbour-nodes">
            {nodes.map((n) => (
              <li key={n.key} data-testid="neighbour-node">
                <span className="kind-glyph" style={{ background: kindStyle(n.kind).colour }} aria-hidden="true">
                  {kindStyle(n.kind).glyph}
                </span>
                <span className="wrap">{n.label}</span>
                {n.riskScore > 0 ? <ScoreBadge score={n.riskScore} label="Risk score" /> : null}
                {inScope(n.key) ? (
                  <span className="muted small">in lens</span>
                ) : (
                  <button type="button" className="ghost small-button" onClick={() => addNodes([n])} disabled={add.isPending}>
                    {canWork ? 'Add' : 'Show'}
                    <span className="sr-only"> {n.label}</span>
                  </button>
                )}
              </li>
            ))}
          </ul>
        </>
      ) : q.data ? (
        <p className="muted small">None.</p>
      ) : null}
      {q.hasNextPage ? (
        <button type="button" onClick={() => void q.fetchNextPage()} disabled={q.isFetchingNextPage}>
          {q.isFetchingNextPage ? 'Loading…' : 'More'}
        </button>
      ) : null}
      {add.isError ? (
        <p className="form-error" role="alert">
          {errorText(add.error)}
        </p>
      ) : null}
      {add.isSuccess ? (
        <p className="form-ok small" role="status">
          Added {plural(add.data, 'node')} to the lens.
        </p>
      ) : null}
    </div>
  );
}
