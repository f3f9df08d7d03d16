'use client';
/**
 * The engagement view of one lens: header and status actions, the graph (LensGraph) with its toolbar,
 * the timeline beside it, the selected node's panel, search, risks, notes, audit trail and exports.
 * The URL holds the lens (path), the selected node (?node=KEY) and the tab (?tab=), so a link reproduces
 * the view. Live through the lensChanged subscription.
 */
import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { errorText } from '../error-text';
import { gql } from '../graphql-client';
import { toElements } from '../graph/elements';
import { KIND_STYLES, kindStyle } from '../graph/graph-style';
import { LensGraph, type LensGraphHandle } from '../graph/LensGraph';
import {
  LENS_QUERY,
  LENS_REPORT_QUERY,
  lensHref,
  lensKey,
  type GraphEdge,
  type GraphNode,
  type LensDetail,
  type NodeSummary,
  type TimelineEvent,
} from './api';
import { AuditTrail } from './AuditTrail';
import { ScoreBadge } from './Badges';
import { LensHeader } from './LensHeader';
import { NodePanel, RiskList } from './NodePanel';
import { AddNoteForm, NotesList } from './Notes';
import { SearchNodes } from './SearchNodes';
import { Timeline } from './Timeline';
import { pollWhile, useLensChanged } from './use-lens-changed';

const TABS = [
  { id: 'graph', label: 'Graph' },
  { id: 'risks', label: 'Risks' },
  { id: 'notes', label: 'Notes' },
  { id: 'audit', label: 'Audit trail' },
] as const;
type TabId = (typeof TABS)[number]['id'];

/** A file name safe on every system, from a lens id. */
const fileName = (id: string, ext: string) => `${id.replace(/[^A-Za-z0-9._-]+/g, '_')}.${ext}`;

function download(href: string, name: string): void {
  const a = document.createElement('a');
  a.href = href;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
}

export function EngagementView({ id, canWork, me }: { id: string; canWork: boolean; me: string }) {
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const selected = params.get('node');
  const tabParam = params.get('tab');
  const tab: TabId = TABS.some((t) => t.id === tabParam) ? (tabParam as TabId) : 'graph';
  const live = useLensChanged();

  const q = useQuery({
    queryKey: lensKey(id),
    queryFn: ({ signal }) => gql<{ lens: LensDetail | null }>(LENS_QUERY, { id }, signal),
    refetchInterval: pollWhile(live),
  });
  const detail = q.data?.lens ?? null;

  const [hidden, setHidden] = useState<ReadonlySet<string>>(new Set());
  const [pinned, setPinned] = useState<ReadonlySet<string>>(new Set());
  const [extra, setExtra] = useState<{ nodes: GraphNode[]; edges: GraphEdge[] }>({ nodes: [], edges: [] });
  const [highlight, setHighlight] = useState<string | null>(null);
  const [exportError, setExportError] = useState<unknown>(null);
  const graph = useRef<LensGraphHandle>(null);

  const setParams = useCallback(
    (patch: Record<string, string | null>) => {
      const p = new URLSearchParams(params.toString());
      for (const [k, v] of Object.entries(patch)) {
        if (v === null) p.delete(k);
        else p.set(k, v);
      }
      const qs = p.toString();
      // Only the query changes (selected node, tab), which nothing on the server reads: the history API
      // updates the address and useSearchParams (Next.js keeps them in step) without a round trip to
      // render the page again on the server, as router.replace would.
      window.history.replaceState(null, '', qs ? `${pathname}?${qs}` : pathname);
    },
    [params, pathname],
  );
  const select = useCallback((key: string | null) => setParams({ node: key }), [setParams]);

  // A lens merged into another answers the survivor: move the address there, keeping the selection.
  const survivor = detail?.lens.id;
  useEffect(() => {
    if (survivor && survivor !== id) router.replace(lensHref(survivor, selected));
  }, [survivor, id, selected, router]);

  const scopeKeys = useMemo(() => new Set(detail?.nodes.map((n) => n.node.key) ?? []), [detail]);
  const inScope = useCallback((key: string) => scopeKeys.has(key), [scopeKeys]);
  const labels = useMemo(() => {
    const m = new Map<string, string>();
    for (const n of extra.nodes) m.set(n.key, n.label);
    for (const s of detail?.nodes ?? []) m.set(s.node.key, s.node.label);
    return m;
  }, [detail, extra]);
  const labelOf = useCallback((key: string) => labels.get(key) ?? key, [labels]);

  const elements = useMemo(
    () =>
      detail
        ? toElements({
            scope: detail.nodes,
            extra: extra.nodes,
            edges: [...detail.edges, ...extra.edges],
            hidden,
            pinned,
            highlighted: highlight ? new Set([highlight]) : undefined,
          })
        : [],
    [detail, extra, hidden, pinned, highlight],
  );

  const show = useCallback((nodes: GraphNode[], edges: GraphEdge[] = []) => {
    setExtra((x) => ({ nodes: [...x.nodes, ...nodes], edges: [...x.edges, ...edges] }));
    setHidden((h) => {
      if (!nodes.some((n) => h.has(n.key))) return h;
      const next = new Set(h);
      for (const n of nodes) next.delete(n.key);
      return next;
    });
  }, []);

  // After a removal the refetched lens no longer has the node; it may still be among the nodes shown
  // since an expansion, or pinned: drop it there too, and close its panel.
  const removed = useCallback(
    (key: string) => {
      setExtra((x) =>
        x.nodes.some((n) => n.key === key)
          ? { nodes: x.nodes.filter((n) => n.key !== key), edges: x.edges.filter((e) => e.from !== key && e.to !== key) }
          : x,
      );
      setPinned((p) => {
        if (!p.has(key)) return p;
        const next = new Set(p);
        next.delete(key);
        return next;
      });
      if (highlight === key) setHighlight(null);
      select(null);
    },
    [highlight, select],
  );

  const pickTimeline = (e: TimelineEvent) => {
    setHighlight(e.target);
    select(e.node);
    graph.current?.focus(e.node);
  };

  const toggle = (set: ReadonlySet<string>, key: string) => {
    const next = new Set(set);
    if (next.has(key)) next.delete(key);
    else next.add(key);
    return next;
  };

  const exportReport = async () => {
    setExportError(null);
    try {
      const { lensReport } = await gql<{ lensReport: string }>(LENS_REPORT_QUERY, { id });
      const url = URL.createObjectURL(new Blob([lensReport], { type: 'text/markdown;charset=utf-8' }));
      download(url, fileName(id, 'md'));
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      setExportError(err);
    }
  };
  const exportPng = () => {
    const png = graph.current?.png();
    if (png) download(png, fileName(id, 'png'));
  };

  if (q.isPending) return <p className="muted">Loading lens…</p>;
  if (q.error && !detail) {
    return (
      <section className="panel" role="alert">
        <p className="form-error">{errorText(q.error)}</p>
        <Link href="/incidents">Back to incidents</Link>
      </section>
    );
  }
  if (!detail) {
    return (
      <section className="panel empty-state" data-testid="lens-not-found">
        <h1>Lens not found</h1>
        <p className="muted">It may have been merged away or never existed.</p>
        <Link href="/incidents">Back to incidents</Link>
      </section>
    );
  }

  const lens = detail.lens;
  const selectedInGraph = selected !== null && elements.some((e) => e.data.id === selected);
  const shownNodes = elements.filter((e) => e.group === 'nodes');
  const shownEdges = elements.length - shownNodes.length;

  return (
    <div className="engagement stack" data-testid="engagement" data-lens-id={lens.id}>
      <nav aria-label="Breadcrumb" className="small">
        <Link href="/incidents">Incidents</Link> <span className="muted">/</span>{' '}
        <span className="muted">{lens.title}</span>
      </nav>
      {detail.redirectedFrom ? (
        <p className="banner" role="status">
          Lens {detail.redirectedFrom} was merged into this one.
        </p>
      ) : null}
      {q.error ? (
        <p className="form-error" role="alert">
          Refresh failed: {errorText(q.error)} Showing the last known state.
        </p>
      ) : null}
      <LensHeader lens={lens} canWork={canWork} me={me} />

      <div className="tab-bar">
        <div role="tablist" aria-label="Lens views" className="tabs">
          {TABS.map((t) => {
            const count =
              t.id === 'risks' ? detail.risks.length : t.id === 'notes' ? detail.notes.length : t.id === 'audit' ? detail.audit.length : null;
            return (
              <button
                key={t.id}
                type="button"
                role="tab"
                id={`tab-${t.id}`}
                aria-selected={tab === t.id}
                aria-controls={`panel-${t.id}`}
                className={tab === t.id ? 'tab active' : 'tab'}
                onClick={() => setParams({ tab: t.id === 'graph' ? null : t.id })}
                data-testid={`tab-${t.id}`}
              >
                {t.label}
                {count !== null ? <span className="count">{count}</span> : null}
              </button>
            );
          })}
        </div>
        <div className="export-actions">
          <button type="button" className="ghost" onClick={() => void exportReport()} data-testid="export-report">
            Download report (.md)
          </button>
          <button type="button" className="ghost" onClick={exportPng} disabled={tab !== 'graph'} data-testid="export-png">
            Download graph (.png)
          </button>
        </div>
      </div>
      {exportError ? (
        <p className="form-error" role="alert">
          {errorText(exportError)}
        </p>
      ) : null}

      {tab === 'graph' ? (
        <div id="panel-graph" role="tabpanel" aria-labelledby="tab-graph" className="stack">
          <div className="engagement-grid">
            <section className="panel graph-panel" aria-label="Graph">
              <div className="graph-toolbar" role="toolbar" aria-label="Graph tools">
                <button type="button" onClick={() => graph.current?.fit()}>
                  Fit
                </button>
                <button type="button" onClick={() => graph.current?.zoomBy(1.25)} aria-label="Zoom in">
                  +
                </button>
                <button type="button" onClick={() => graph.current?.zoomBy(0.8)} aria-label="Zoom out">
                  −
                </button>
                <button type="button" onClick={() => graph.current?.runLayout()}>
                  Relayout
                </button>
                <button
                  type="button"
                  disabled={!selectedInGraph}
                  onClick={() => {
                    if (!selected) return;
                    setHidden((h) => toggle(h, selected));
                    select(null);
                  }}
                  data-testid="hide-node"
                >
                  Hide node
                </button>
                <button
                  type="button"
                  disabled={!selectedInGraph}
                  aria-pressed={selected ? pinned.has(selected) : false}
                  onClick={() => selected && setPinned((p) => toggle(p, selected))}
                  data-testid="pin-node"
                >
                  {selected && pinned.has(selected) ? 'Unpin' : 'Pin'}
                </button>
                {hidden.size > 0 ? (
                  <button type="button" className="ghost" onClick={() => setHidden(new Set())}>
                    Show {hidden.size} hidden
                  </button>
                ) : null}
                <span className="muted small graph-count">
                  {shownNodes.length} nodes{detail.truncated.nodes ? ' (truncated)' : ''}
                  {detail.truncated.edges ? `, ${shownEdges} edges (truncated)` : ''}
                </span>
              </div>
              {shownNodes.length === 0 ? (
                <p className="muted graph-empty">No nodes to show.</p>
              ) : null}
              <LensGraph ref={graph} elements={elements} selected={selected} onSelect={select} />
              <Legend />
            </section>
            <aside className="side-column">
              {selected ? (
                <NodePanel
                  key={selected}
                  lensId={lens.id}
                  nodeKeyValue={selected}
                  canWork={canWork}
                  me={me}
                  inScope={inScope}
                  onClose={() => select(null)}
                  onShow={show}
                  onRemoved={removed}
                />
              ) : null}
              <section className="panel timeline-panel" aria-labelledby="timeline-heading">
                <h2 id="timeline-heading">Timeline</h2>
                <Timeline
                  events={detail.timeline}
                  truncated={detail.truncated.timeline}
                  selected={selected}
                  labelOf={labelOf}
                  onPick={pickTimeline}
                />
              </section>
            </aside>
          </div>
          <NodeList
            nodes={shownNodes.map((e) => String(e.data.id))}
            detail={detail}
            extra={extra.nodes}
            selected={selected}
            onSelect={(key) => {
              select(key);
              graph.current?.focus(key);
            }}
          />
          <SearchNodes lensId={lens.id} canWork={canWork} inScope={inScope} onShow={(nodes) => show(nodes)} />
        </div>
      ) : null}

      {tab === 'risks' ? (
        <section id="panel-risks" role="tabpanel" aria-labelledby="tab-risks" className="panel">
          <h2>Risks</h2>
          <RiskList risks={detail.risks} nodeOf={riskNodes(detail, (key) => setParams({ tab: null, node: key }))} />
        </section>
      ) : null}

      {tab === 'notes' ? (
        <section id="panel-notes" role="tabpanel" aria-labelledby="tab-notes" className="panel" data-testid="lens-notes">
          <h2>Notes on this lens</h2>
          <NotesList notes={detail.notes} lensId={lens.id} {...(canWork ? { editAs: me } : {})} />
          {canWork ? <AddNoteForm lensId={lens.id} /> : null}
        </section>
      ) : null}

      {tab === 'audit' ? (
        <section id="panel-audit" role="tabpanel" aria-labelledby="tab-audit" className="panel">
          <h2>Audit trail</h2>
          <AuditTrail entries={detail.audit} truncated={detail.truncated.audit} />
        </section>
      ) : null}
    </div>
  );
}

function Legend() {
  return (
    <ul className="legend small" aria-label="Node kinds">
      {Object.entries(KIND_STYLES).map(([kind, s]) => (
        <li key={kind}>
          <span className="kind-glyph" style={{ background: s.colour }} aria-hidden="true">
            {s.glyph}
          </span>
          {kind}
        </li>
      ))}
      <li>
        <span className="legend-ring" aria-hidden="true" /> ring and ▲ = risk score
      </li>
    </ul>
  );
}

/** The lens's Risks tab: each risk names its node (label and host), a button that opens it in the graph. */
function riskNodes(detail: LensDetail, open: (key: string) => void) {
  const byKey = new Map(detail.nodes.map((s) => [s.node.key, s.node] as const));
  const label = (key: string): string => {
    const n = byKey.get(key);
    if (!n) return key;
    const label = n.label || key;
    // An Asset's label is its host already.
    return n.host && n.kind !== 'Asset' && n.host !== label ? `${label} on ${n.host}` : label;
  };
  return { label, open };
}

/** Rows of the node list drawn at first; the rest on request (a big lens has thousands). */
export const NODE_LIST_PAGE = 100;

/**
 * The graph's nodes as a table: the keyboard and screen-reader way to the same selection. Riskiest
 * first; the first NODE_LIST_PAGE rows, then the rest on request (and always the selected node's row).
 */
function NodeList({
  nodes,
  detail,
  extra,
  selected,
  onSelect,
}: {
  nodes: string[];
  detail: LensDetail;
  extra: GraphNode[];
  selected: string | null;
  onSelect: (key: string) => void;
}) {
  const [limit, setLimit] = useState(NODE_LIST_PAGE);
  const byKey = new Map<string, { node: NodeSummary; role: string }>();
  for (const n of extra) byKey.set(n.key, { node: n, role: 'shown' });
  for (const s of detail.nodes) byKey.set(s.node.key, s);
  const all = nodes
    .map((k) => byKey.get(k))
    .filter((r): r is { node: NodeSummary; role: string } => r !== undefined)
    .sort((a, b) => b.node.riskScore - a.node.riskScore || a.node.label.localeCompare(b.node.label));
  const rows = all.length > limit ? all.filter((r, i) => i < limit || r.node.key === selected) : all;
  return (
    <details className="panel node-list" open>
      <summary>
        <h2 className="inline-heading">Nodes in view ({all.length})</h2>
      </summary>
      <div className="table-wrap">
        <table className="data-table" data-testid="node-list">
          <thead>
            <tr>
              <th scope="col">Kind</th>
              <th scope="col">Node</th>
              <th scope="col">Host</th>
              <th scope="col" className="num">
                Risk
              </th>
              <th scope="col">Role</th>
            </tr>
          </thead>
          <tbody>
            {rows.map(({ node, role }) => (
              <tr key={node.key} data-testid="node-row" data-node={node.key} data-kind={node.kind ?? ''} className={node.key === selected ? 'selected-row' : undefined}>
                <td>
                  <span className="kind-glyph" style={{ background: kindStyle(node.kind).colour }} aria-hidden="true">
                    {kindStyle(node.kind).glyph}
                  </span>{' '}
                  {node.kind ?? '—'}
                </td>
                <th scope="row">
                  <button
                    type="button"
                    className="link-button wrap"
                    onClick={() => onSelect(node.key)}
                    aria-pressed={node.key === selected}
                    data-testid="node-select"
                  >
                    {node.label || node.key}
                  </button>
                </th>
                <td>{node.host ?? '—'}</td>
                <td className="num">{node.riskScore > 0 ? <ScoreBadge score={node.riskScore} label="Risk score" /> : '—'}</td>
                <td>{role}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {all.length > limit ? (
        <div className="row-actions">
          <span className="muted small">
            Showing {rows.length} of {all.length}.
          </span>
          <button type="button" className="ghost" onClick={() => setLimit((l) => l + NODE_LIST_PAGE * 5)} data-testid="node-list-more">
            Show {Math.min(NODE_LIST_PAGE * 5, all.length - limit)} more
          </button>
          <button type="button" className="ghost" onClick={() => setLimit(all.length)} data-testid="node-list-all">
            Show all {all.length}
          </button>
        </div>
      ) : null}
    </details>
  );
}
