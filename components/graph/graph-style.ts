/**
 * How the graph looks, declared once: a distinct shape and colour per node kind, a risk ring whose width
 * and colour follow the score band, edge labels by edge type. LensGraph, the legend and the tests read it
 * from here.
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

export function graphStylesheet(): StylesheetJson {
  const kinds: StylesheetJson = Object.entries(KIND_STYLES).map(([kind, s]) => ({
    selector: `node[kind = "${kind}"]`,
    style: { shape: s.shape as never, 'background-color': s.colour },
  }));
  const rings: StylesheetJson = (Object.keys(RISK_RING) as RiskLevel[]).map((level) => ({
    selector: `node[risk = "${level}"]`,
    style: { 'border-color': RISK_RING[level].colour, 'border-width': RISK_RING[level].width },
  }));
  return [
    {
      selector: 'node',
      style: {
        label: 'data(label)',
        shape: UNKNOWN_KIND.shape as never,
        'background-color': UNKNOWN_KIND.colour,
        color: '#e6e8eb',
        'font-size': 10,
        'text-valign': 'bottom',
        'text-halign': 'center',
        'text-margin-y': 4,
        'text-wrap': 'wrap',
        'text-max-width': '160px',
        'text-outline-color': '#111418',
        'text-outline-width': 2,
        width: 30,
        height: 30,
        'border-style': 'solid',
      },
    },
    ...kinds,
    ...rings,
    // Risky nodes are drawn larger; their label carries the score as a badge (see elements.ts).
    { selector: 'node[riskScore > 0]', style: { width: 38, height: 38, 'font-weight': 'bold' } },
    { selector: 'node.context', style: { opacity: 0.85, 'border-style': 'dashed' } },
    { selector: 'node.pinned', style: { 'outline-width': 2, 'outline-color': '#e6e8eb', 'outline-offset': 3 } as never },
    { selector: 'node.highlight', style: { 'underlay-color': SELECTED, 'underlay-opacity': 0.35, 'underlay-padding': 8 } as never },
    {
      selector: 'node:selected',
      style: { 'border-color': SELECTED, 'border-width': 6, 'underlay-color': SELECTED, 'underlay-opacity': 0.25 } as never,
    },
    {
      selector: 'edge',
      style: {
        width: 1.5,
        'line-color': '#4b5563',
        'target-arrow-color': '#4b5563',
        'target-arrow-shape': 'triangle',
        'curve-style': 'bezier',
        label: 'data(label)',
        'font-size': 8,
        color: '#a3acb9',
        'text-rotation': 'autorotate',
        'text-background-color': '#111418',
        'text-background-opacity': 0.8,
        'text-background-padding': '1px',
      },
    },
    { selector: 'edge[kind = "PARENT_OF"]', style: { 'line-color': '#6ea8fe', 'target-arrow-color': '#6ea8fe', width: 2 } },
    { selector: 'edge[kind = "CONNECTED_TO"]', style: { 'line-color': '#4ac26b', 'target-arrow-color': '#4ac26b' } },
    { selector: 'edge[kind = "ACCESSED"], edge[kind = "INJECTED_INTO"]', style: { 'line-color': '#ff7b72', 'target-arrow-color': '#ff7b72', 'line-style': 'dashed' } },
    { selector: 'edge:selected', style: { 'line-color': SELECTED, 'target-arrow-color': SELECTED } },
  ];
}
