import { describe, expect, it } from 'vitest';
import type { GraphEdge, GraphNode } from '../engagement/api';
import { edgeId, edgeLabel, layoutFor, nodeLabel, structureSignature, toElements, truncate } from './elements';
import { graphStylesheet, KIND_STYLES, kindStyle, UNKNOWN_KIND } from './graph-style';

const node = (key: string, over: Partial<GraphNode> = {}): GraphNode => ({
  key,
  kind: 'Process',
  host: 'WS5',
  label: key.split(':')[1] ?? key,
  riskScore: 0,
  props: {},
  ...over,
});
const edge = (kind: string, from: string, to: string, count: number | null = 1): GraphEdge => ({
  kind,
  from,
  to,
  count,
  firstSeen: null,
  lastSeen: null,
});

const ids = (els: ReturnType<typeof toElements>, group: 'nodes' | 'edges') =>
  els.filter((e) => e.group === group).map((e) => e.data.id);

describe('toElements', () => {
  const scope = [
    { node: node('Process:a', { riskScore: 85, label: 'cmd.exe (1)' }), role: 'risky' as const },
    { node: node('Process:b'), role: 'context' as const },
    { node: node('File:c', { kind: 'File', label: 'C:\\x.exe' }), role: 'context' as const },
  ];
  const edges = [edge('PARENT_OF', 'Process:a', 'Process:b'), edge('EXECUTED', 'Process:b', 'File:c', 3)];

  it('turns scope nodes and edges into cytoscape elements', () => {
    const els = toElements({ scope, edges });
    expect(ids(els, 'nodes')).toEqual(['Process:a', 'Process:b', 'File:c']);
    expect(ids(els, 'edges')).toEqual(['PARENT_OF|Process:a|Process:b', 'EXECUTED|Process:b|File:c']);
    const a = els.find((e) => e.data.id === 'Process:a')!;
    expect(a.data).toMatchObject({ kind: 'Process', risk: 'critical', riskScore: 85, role: 'risky' });
    expect(a.data.label).toBe('cmd.exe (1)\n▲ 85');
    expect(a.classes).toBe('risky');
    const e = els.find((x) => x.data.id === 'EXECUTED|Process:b|File:c')!;
    expect(e.data).toMatchObject({ source: 'Process:b', target: 'File:c', kind: 'EXECUTED', label: 'executed ×3' });
  });

  it('drops hidden nodes and every edge touching them', () => {
    const els = toElements({ scope, edges, hidden: new Set(['Process:b']) });
    expect(ids(els, 'nodes')).toEqual(['Process:a', 'File:c']);
    expect(ids(els, 'edges')).toEqual([]);
  });

  it('drops edges whose ends are not shown, and duplicate edges', () => {
    const els = toElements({
      scope,
      edges: [...edges, edge('PARENT_OF', 'Process:a', 'Process:b'), edge('READ', 'Process:a', 'File:zzz')],
    });
    expect(ids(els, 'edges')).toHaveLength(2);
  });

  it('adds extra nodes once, scope role winning', () => {
    const els = toElements({
      scope,
      extra: [node('Process:a'), node('DomainName:evil', { kind: 'DomainName' })],
      edges: [edge('RESOLVED', 'Process:a', 'DomainName:evil')],
    });
    expect(ids(els, 'nodes')).toEqual(['Process:a', 'Process:b', 'File:c', 'DomainName:evil']);
    expect(els.find((e) => e.data.id === 'Process:a')!.data.role).toBe('risky');
    expect(els.find((e) => e.data.id === 'DomainName:evil')!.data.role).toBe('shown');
    expect(ids(els, 'edges')).toEqual(['RESOLVED|Process:a|DomainName:evil']);
  });

  it('marks pinned (locked) and highlighted nodes', () => {
    const els = toElements({ scope, edges, pinned: new Set(['Process:b']), highlighted: new Set(['File:c']) });
    const b = els.find((e) => e.data.id === 'Process:b')!;
    expect(b.locked).toBe(true);
    expect(b.classes).toBe('context pinned');
    expect(els.find((e) => e.data.id === 'File:c')!.classes).toBe('context highlight');
    expect(els.find((e) => e.data.id === 'Process:a')!.locked).toBe(false);
  });

  it('keeps attacker-controlled labels as plain data, truncated', () => {
    const evil = '<img src=x onerror=window.__xss=1>'.repeat(3);
    const [el] = toElements({ scope: [{ node: node('Process:x', { label: evil }), role: 'risky' }], edges: [] });
    expect(el!.data.label).toBe(truncate(evil));
    expect(String(el!.data.label).length).toBeLessThanOrEqual(48);
  });

  it('uses the key when a node has no label, and a placeholder kind when unknown', () => {
    const [el] = toElements({ scope: [{ node: node('X:1', { label: '', kind: null }), role: 'context' }], edges: [] });
    expect(el!.data).toMatchObject({ label: 'X:1', kind: 'Unknown', risk: 'none' });
  });
});

describe('helpers', () => {
  it('edge ids and labels', () => {
    expect(edgeId({ kind: 'READ', from: 'a', to: 'b' })).toBe('READ|a|b');
    expect(edgeLabel({ kind: 'CONNECTED_TO', count: null })).toBe('connected to');
    expect(edgeLabel({ kind: 'PARENT_OF', count: 1 })).toBe('parent of');
  });

  it('node labels carry the rounded score badge only with risk', () => {
    expect(nodeLabel({ key: 'k', label: 'a', riskScore: 0 })).toBe('a');
    expect(nodeLabel({ key: 'k', label: 'a', riskScore: 42.6 })).toBe('a\n▲ 43');
  });

  it('chooses dagre for process trees, cose otherwise', () => {
    const tree = toElements({
      scope: [{ node: node('Process:a'), role: 'risky' }, { node: node('Process:b'), role: 'risky' }],
      edges: [edge('PARENT_OF', 'Process:a', 'Process:b')],
    });
    expect(layoutFor(tree)).toBe('dagre');
    const flat = toElements({
      scope: [{ node: node('Process:a'), role: 'risky' }, { node: node('File:b', { kind: 'File' }), role: 'risky' }],
      edges: [edge('READ', 'Process:a', 'File:b')],
    });
    expect(layoutFor(flat)).toBe('cose');
  });

  it('structure signature changes with the node set only', () => {
    const a = toElements({ scope: [{ node: node('Process:a'), role: 'risky' }], edges: [] });
    const a2 = toElements({ scope: [{ node: node('Process:a', { riskScore: 50 }), role: 'risky' }], edges: [] });
    const b = toElements({ scope: [{ node: node('Process:b'), role: 'risky' }], edges: [] });
    expect(structureSignature(a)).toBe(structureSignature(a2));
    expect(structureSignature(a)).not.toBe(structureSignature(b));
  });
});

describe('graph style', () => {
  it('gives every kind a distinct shape and colour', () => {
    const styles = Object.values(KIND_STYLES);
    expect(new Set(styles.map((s) => s.shape)).size).toBe(styles.length);
    expect(new Set(styles.map((s) => s.colour)).size).toBe(styles.length);
    expect(kindStyle('Nope')).toBe(UNKNOWN_KIND);
  });

  it('has a rule per kind and per risk band', () => {
    const selectors = graphStylesheet().map((b) => b.selector);
    for (const kind of Object.keys(KIND_STYLES)) expect(selectors).toContain(`node[kind = "${kind}"]`);
    for (const band of ['none', 'low', 'medium', 'high', 'critical'])
      expect(selectors).toContain(`node[risk = "${band}"]`);
  });
});
