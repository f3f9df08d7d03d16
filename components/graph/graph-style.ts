/**
 * How the graph looks, declared once: a distinct shape and colour per node kind, a risk ring whose width
 * and colour follow the score band, edge labels by edge type. LensGraph, the legend and the tests read it
 * from here.
 *
 * A big graph (more than DETAIL_ELEMENTS elements) is drawn with the `near` sheet: every element in
 * shape, colour, risk ring and a plain line (cytoscape's cheapest, haystack), and only the elements that
 * LensGraph marks `near` (in view, once zoomed in to DETAIL_ZOOM) with labels, arrow heads and curves.
 * Seen from afar, text and arrow heads would be a pixel or two and unreadable anyway; leaving them out
 * halves what cytoscape spends on styling and drawing thousands of elements, and zooming in restyles only
 * what is in view. A small graph gets the `all` sheet: every element in full detail.
 */
import type { StylesheetJson } from 'cytoscape';
import type { RiskLevel } from '../engagement/format';

export interface KindStyle {
  shape: string;
  colour: string;
  /** One letter for the legend and for screen readers next to the colour. */
  glyph: string;
}

export const KIND_STYLES: Record<string, KindStyle> = {
  Process: { shape: 'round-rectangle', colour: '#6ea8fe', glyph: 'P' },
  File: { shape: 'rectangle', colour: '#a3acb9', glyph: 'F' },
  NetworkEndpoint: { shape: 'diamond', colour: '#4ac26b', glyph: 'N' },
  IpAddress: { shape: 'triangle', colour: '#2fb5a8', glyph: 'I' },
  DomainName: { shape: 'hexagon', colour: '#c297ff', glyph: 'D' },
  RegistryKey: { shape: 'barrel', colour: '#e3b341', glyph: 'R' },
  Pipe: { shape: 'tag', colour: '#f0883e', glyph: '|' },
  User: { shape: 'ellipse', colour: '#ff9bce', glyph: 'U' },
  Asset: { shape: 'octagon', colour: '#d2a8ff', glyph: 'A' },
  LogonSession: { shape: 'vee', colour: '#79c0ff', glyph: 'L' },
};

export const UNKNOWN_KIND: KindStyle = { shape: 'ellipse', colour: '#6e7681', glyph: '?' };

export function kindStyle(kind: string | null | undefined): KindStyle {
  return (kind && KIND_STYLES[kind]) || UNKNOWN_KIND;
}

export const RISK_RING: Record<RiskLevel, { colour: string; width: number }> = {
  none: { colour: '#2c333d', width: 1 },
  low: { colour: '#8b949e', width: 2 },
  medium: { colour: '#e3b341', width: 4 },
  high: { colour: '#f0883e', width: 5 },
  critical: { colour: '#ff5c57', width: 7 },
};

const SELECTED = '#ffd166';
/** Labels smaller than this many screen pixels are not drawn (node labels below 60 % zoom, edge labels below 75 %). */
export const MIN_ZOOMED_FONT = 6;

/** `all`: every element in full detail. `near`: only elements with class near (see above). */
export type DetailMode = 'all' | 'near';

/** Graphs with more elements than this get the `near` sheet. */
export const DETAIL_ELEMENTS = 1500;
/** Zoom from which LensGraph marks the elements in view `near` (node labels are readable from 0.6). */
export const DETAIL_ZOOM = 0.5;

export function detailMode(elements: number): DetailMode {
  return elements > DETAIL_ELEMENTS ? 'near' : 'all';
}

/**
 * The stylesheet. Each rule comes as what every element gets and what only detailed elements get
 * (`detailed`): the `all` sheet merges the two, the `near` sheet scopes the second to `.near`.
 */
export function graphStylesheet(mode: DetailMode = 'all'): StylesheetJson {
  const rules: Array<{
    selector: string;
    style: Record<string, unknown>;
    detailed?: Record<string, unknown>;
  }> = [
    {
      selector: 'node',
      style: {
        shape: UNKNOWN_KIND.shape,
        'background-color': UNKNOWN_KIND.colour,
        width: 30,
        height: 30,
        'border-style': 'solid',
      },
      detailed: {
        label: 'data(label)',
        color: '#e6e8eb',
        'font-size': 10,
        'text-valign': 'bottom',
        'text-halign': 'center',
        'text-margin-y': 4,
        'text-wrap': 'wrap',
        // Narrower than a tree column or ring slot (elements.ts); paths have no spaces to wrap at.
        'text-max-width': '100px',
        'text-overflow-wrap': 'anywhere',
        'text-outline-color': '#111418',
        'text-outline-width': 2,
        // Text smaller than this on screen is not drawn.
        'min-zoomed-font-size': MIN_ZOOMED_FONT,
      },
    },
    ...Object.entries(KIND_STYLES).map(([kind, k]) => ({
      selector: `node[kind = "${kind}"]`,
      style: { shape: k.shape, 'background-color': k.colour },
    })),
    ...(Object.keys(RISK_RING) as RiskLevel[]).map((level) => ({
      selector: `node[risk = "${level}"]`,
      style: { 'border-color': RISK_RING[level].colour, 'border-width': RISK_RING[level].width },
    })),
    // Risky nodes are drawn larger; their label carries the score as a badge (see elements.ts).
    {
      selector: 'node[riskScore > 0]',
      style: { width: 38, height: 38 },
      detailed: { 'font-weight': 'bold' },
    },
    { selector: 'node.context', style: { opacity: 0.85, 'border-style': 'dashed' } },
    {
      selector: 'node.pinned',
      style: { 'outline-width': 2, 'outline-color': '#e6e8eb', 'outline-offset': 3 },
    },
    {
      selector: 'node.highlight',
      style: { 'underlay-color': SELECTED, 'underlay-opacity': 0.35, 'underlay-padding': 8 },
    },
    {
      selector: 'node:selected',
      style: {
        'border-color': SELECTED,
        'border-width': 6,
        'underlay-color': SELECTED,
        'underlay-opacity': 0.25,
      },
    },
    {
      selector: 'edge',
      // No events on edges: nothing listens to them, and cytoscape then hit-tests only the nodes on every
      // mouse move and click (thousands of edges cost about 100 ms per test).
      style: { width: 1.5, 'line-color': '#4b5563', 'curve-style': 'haystack', events: 'no' },
      detailed: {
        // Straight lines: a fraction of the cost of bundled curves for thousands of edges.
        'curve-style': 'straight',
        'target-arrow-color': '#4b5563',
        'target-arrow-shape': 'triangle',
        label: 'data(label)',
        'font-size': 8,
        'min-zoomed-font-size': MIN_ZOOMED_FONT,
        color: '#a3acb9',
        'text-rotation': 'autorotate',
        'text-background-color': '#111418',
        'text-background-opacity': 0.8,
        'text-background-padding': '1px',
      },
    },
    // Edges sharing their two nodes (class parallel, elements.ts) curve apart so that none hides another.
    { selector: 'edge.parallel', style: {}, detailed: { 'curve-style': 'bezier' } },
    ...edgeColours('edge[kind = "PARENT_OF"]', '#6ea8fe', { width: 2 }),
    ...edgeColours('edge[kind = "CONNECTED_TO"]', '#4ac26b'),
    ...edgeColours('edge[kind = "ACCESSED"], edge[kind = "INJECTED_INTO"]', '#ff7b72', {
      'line-style': 'dashed',
    }),
    ...edgeColours('edge:selected', SELECTED),
  ];
  const out: Array<{ selector: string; style: Record<string, unknown> }> = [];
  for (const r of rules) {
    if (mode === 'all') {
      out.push({ selector: r.selector, style: { ...r.style, ...r.detailed } });
      continue;
    }
    if (Object.keys(r.style).length > 0) out.push({ selector: r.selector, style: r.style });
    if (r.detailed) out.push({ selector: nearOnly(r.selector), style: r.detailed });
  }
  return out as StylesheetJson;
}

function edgeColours(selector: string, colour: string, more: Record<string, unknown> = {}) {
  return [{ selector, style: { 'line-color': colour, ...more }, detailed: { 'target-arrow-color': colour } }];
}

/** `a, b` -> `a.near, b.near` (`node:selected` -> `node.near:selected`). */
export function nearOnly(selector: string): string {
  return selector
    .split(',')
    .map((part) => {
      const s = part.trim();
      const colon = s.indexOf(':');
      return colon < 0 ? `${s}.near` : `${s.slice(0, colon)}.near${s.slice(colon)}`;
    })
    .join(', ');
}
