import { describe, expect, it } from 'vitest';
import type { GraphEdge, GraphNode } from '../engagement/api';
import {
  edgeId,
  edgeLabel,
  layoutPositions,
  newNodes,
  nodeLabel,
  orderAround,
  packBoxes,
  planLayout,
  ringSlots,
  RING_GAP,
  RING_SPACING,
  structureSignature,
  toElements,
  treeLayout,
  TREE_COLUMN,
  TREE_LAYER,
  TREE_ROW_COLUMNS,
  truncate,
  type Position,
} from './elements';
import {
  graphStylesheet,
  KIND_STYLES,
  kindStyle,
  DETAIL_ELEMENTS,
  detailMode,
  MIN_ZOOMED_FONT,
  nearOnly,
  UNKNOWN_KIND,
} from './graph-style';

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

  it('marks edges that share their two nodes (either way round) as parallel, and only those', () => {
    const els = toElements({
      scope,
      edges: [...edges, edge('ACCESSED', 'Process:b', 'Process:a'), edge('READ', 'Process:b', 'File:c')],
    });
    const cls = (id: string) => els.find((e) => e.data.id === id)!.classes;
    expect(cls('PARENT_OF|Process:a|Process:b')).toBe('parallel');
    expect(cls('ACCESSED|Process:b|Process:a')).toBe('parallel');
    expect(cls('EXECUTED|Process:b|File:c')).toBe('parallel');
    expect(cls('READ|Process:b|File:c')).toBe('parallel');
    expect(toElements({ scope, edges }).filter((e) => e.group === 'edges').map((e) => e.classes)).toEqual([undefined, undefined]);
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

  it('a process label too long for one line keeps its pid whole, on a line of its own', () => {
    expect(nodeLabel({ key: 'k', label: 'cmd.exe (1700)', riskScore: 0 })).toBe('cmd.exe (1700)');
    expect(nodeLabel({ key: 'k', label: 'GruntHTTP.exe (6172)', riskScore: 55 })).toBe('GruntHTTP.exe\n(6172)\n▲ 55');
    const long = `${'a'.repeat(60)}.exe (42)`;
    expect(nodeLabel({ key: 'k', label: long, riskScore: 0 })).toBe(`${'a'.repeat(47)}…\n(42)`);
    // Not a pid: left to the canvas's wrapping.
    expect(nodeLabel({ key: 'k', label: 'C:\\Windows\\System32\\cmd.exe', riskScore: 0 })).toBe('C:\\Windows\\System32\\cmd.exe');
  });

  it('structure signature changes with the node set only', () => {
    const a = toElements({ scope: [{ node: node('Process:a'), role: 'risky' }], edges: [] });
    const a2 = toElements({ scope: [{ node: node('Process:a', { riskScore: 50 }), role: 'risky' }], edges: [] });
    const b = toElements({ scope: [{ node: node('Process:b'), role: 'risky' }], edges: [] });
    expect(structureSignature(a)).toBe(structureSignature(a2));
    expect(structureSignature(a)).not.toBe(structureSignature(b));
  });
});

describe('layout', () => {
  const els = (nodes: string[], links: Array<[string, string, string]>) =>
    toElements({
      scope: nodes.map((k) => ({ node: node(k, { kind: k.split(':')[0]! }), role: 'context' as const })),
      edges: links.map(([kind, from, to]) => edge(kind, from, to)),
    });
  const distinct = (positions: Map<string, Position>) => new Set([...positions.values()].map((p) => `${p.x},${p.y}`)).size;

  it('plans process trees (PARENT_OF groups of two or more, largest first) and the rest', () => {
    const plan = planLayout(
      els(
        ['Process:a', 'Process:b', 'Process:c', 'Process:d', 'Process:e', 'File:f', 'Process:g'],
        [
          ['PARENT_OF', 'Process:d', 'Process:e'],
          ['PARENT_OF', 'Process:a', 'Process:b'],
          ['PARENT_OF', 'Process:b', 'Process:c'],
          ['READ', 'Process:a', 'File:f'],
          ['PARENT_OF', 'Process:g', 'Process:g'],
        ],
      ),
    );
    expect(plan.trees).toEqual([
      ['Process:a', 'Process:b', 'Process:c'],
      ['Process:d', 'Process:e'],
    ]);
    expect(plan.rest).toEqual(['File:f', 'Process:g']);
    expect(plan.treeEdges).toHaveLength(3);
  });

  it('lays a tree out top-down: one layer per generation, leaves in columns, parents over their children', () => {
    //        a
    //     b     c
    //   d   e
    const p = treeLayout(
      ['a', 'b', 'c', 'd', 'e'],
      [
        { source: 'a', target: 'b' },
        { source: 'a', target: 'c' },
        { source: 'b', target: 'd' },
        { source: 'b', target: 'e' },
      ],
    );
    expect(p.get('d')).toEqual({ x: 0, y: 2 * TREE_LAYER });
    expect(p.get('e')).toEqual({ x: TREE_COLUMN, y: 2 * TREE_LAYER });
    expect(p.get('b')).toEqual({ x: TREE_COLUMN / 2, y: TREE_LAYER });
    expect(p.get('c')).toEqual({ x: 2 * TREE_COLUMN, y: TREE_LAYER });
    expect(p.get('a')).toEqual({ x: (TREE_COLUMN / 2 + 2 * TREE_COLUMN) / 2, y: 0 });
  });

  it('puts many childless children in rows under their parent, right of their siblings with children', () => {
    const kids = Array.from({ length: 25 }, (_, i) => `k${String(i).padStart(2, '0')}`);
    const q = treeLayout(['root', ...kids], kids.map((k) => ({ source: 'root', target: k })));
    expect(q.get('k00')).toEqual({ x: 0, y: TREE_LAYER });
    expect(q.get('k09')).toEqual({ x: 9 * TREE_COLUMN, y: TREE_LAYER });
    expect(q.get('k10')).toEqual({ x: 0, y: 2 * TREE_LAYER });
    expect(q.get('k24')).toEqual({ x: 4 * TREE_COLUMN, y: 3 * TREE_LAYER });
    expect(q.get('root')).toEqual({ x: 4.5 * TREE_COLUMN, y: 0 });
    expect(distinct(q)).toBe(26);

    // k05 has a child: it keeps its column and layer, the 24 childless ones wrap right of it.
    const p = treeLayout(['root', ...kids, 'grandchild'], [...kids.map((k) => ({ source: 'root', target: k })), { source: 'k05', target: 'grandchild' }]);
    expect(p.get('k05')).toEqual({ x: 0, y: TREE_LAYER });
    expect(p.get('grandchild')).toEqual({ x: 0, y: 2 * TREE_LAYER });
    expect(p.get('k00')).toEqual({ x: TREE_COLUMN, y: TREE_LAYER });
    expect(p.get('k24')).toEqual({ x: 4 * TREE_COLUMN, y: 3 * TREE_LAYER });
    expect(p.get('root')).toEqual({ x: 5 * TREE_COLUMN, y: 0 });
    expect(distinct(p)).toBe(27);
    // Few childless children stay in one row.
    const few = treeLayout(['r', 'a', 'b'], [{ source: 'r', target: 'a' }, { source: 'r', target: 'b' }]);
    expect(few.get('b')).toEqual({ x: TREE_COLUMN, y: TREE_LAYER });
  });

  it('wraps many children with subtrees of their own into rows about the panel wide', () => {
    // A shell that ran 40 commands, each with a child of its own: 40 columns in one row before.
    const kids = Array.from({ length: 40 }, (_, i) => `c${String(i).padStart(2, '0')}`);
    const edges = [
      ...kids.map((k) => ({ source: 'shell', target: k })),
      ...kids.map((k) => ({ source: k, target: `${k}-child` })),
    ];
    const p = treeLayout(['shell', ...kids, ...kids.map((k) => `${k}-child`)], edges);
    expect(distinct(p)).toBe(81);
    const xs = [...p.values()].map((q) => q.x);
    expect(Math.min(...xs)).toBe(0);
    expect(Math.max(...xs)).toBe((TREE_ROW_COLUMNS - 1) * TREE_COLUMN);
    // Rows of 16 subtrees, each row under the last layer of the one before.
    expect(p.get('c00')).toEqual({ x: 0, y: TREE_LAYER });
    expect(p.get('c00-child')).toEqual({ x: 0, y: 2 * TREE_LAYER });
    expect(p.get('c15')).toEqual({ x: 15 * TREE_COLUMN, y: TREE_LAYER });
    expect(p.get('c16')).toEqual({ x: 0, y: 3 * TREE_LAYER });
    expect(p.get('c39-child')).toEqual({ x: 7 * TREE_COLUMN, y: 6 * TREE_LAYER });
    // The parent over the middle of its first row.
    expect(p.get('shell')).toEqual({ x: 7.5 * TREE_COLUMN, y: 0 });

    // A few wide subtrees stay side by side: wrapping them would only stack them.
    const wide = ['a', 'b', 'c'].flatMap((k) => Array.from({ length: 12 }, (_, i) => ({ source: k, target: `${k}${i}` })));
    const q = treeLayout(
      ['r', 'a', 'b', 'c', ...wide.map((e) => e.target)],
      [...['a', 'b', 'c'].map((k) => ({ source: 'r', target: k })), ...wide],
    );
    expect(new Set(['a', 'b', 'c'].map((k) => q.get(k)!.y))).toEqual(new Set([TREE_LAYER]));
    expect(distinct(q)).toBe(40);
  });

  it('keeps the first parent of a node, cuts cycles, and survives a very deep tree', () => {
    const two = treeLayout(['a', 'b', 'c'], [
      { source: 'a', target: 'c' },
      { source: 'b', target: 'c' },
    ]);
    expect(two.get('c')!.y).toBe(TREE_LAYER);
    expect(two.get('a')!.x).toBe(two.get('c')!.x);
    expect(two.get('b')).toEqual({ x: TREE_COLUMN, y: 0 });

    const cycle = treeLayout(['a', 'b', 'c'], [
      { source: 'a', target: 'b' },
      { source: 'b', target: 'c' },
      { source: 'c', target: 'a' },
    ]);
    expect([...cycle.keys()].sort()).toEqual(['a', 'b', 'c']);
    expect(cycle.get('a')!.y).toBeLessThan(cycle.get('b')!.y);

    const chain = Array.from({ length: 20_000 }, (_, i) => `p${i}`);
    const deep = treeLayout(chain, chain.slice(1).map((id, i) => ({ source: chain[i]!, target: id })));
    expect(deep.get('p19999')).toEqual({ x: 0, y: 19_999 * TREE_LAYER });
  });

  it('packs boxes in rows without overlap, about twice as wide as high', () => {
    const sizes = Array.from({ length: 30 }, (_, i) => ({ w: 100 + ((i * 37) % 200), h: 50 + ((i * 53) % 150) }));
    const at = packBoxes(sizes, 10, 2);
    expect(at[0]).toEqual({ x: 0, y: 0 });
    for (let i = 0; i < sizes.length; i++)
      for (let j = i + 1; j < sizes.length; j++) {
        const a = { ...at[i]!, ...sizes[i]! };
        const b = { ...at[j]!, ...sizes[j]! };
        const apart = a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y;
        expect(apart).toBe(true);
      }
    const width = Math.max(...at.map((p, i) => p.x + sizes[i]!.w));
    const height = Math.max(...at.map((p, i) => p.y + sizes[i]!.h));
    expect(width / height).toBeGreaterThan(1);
    expect(width / height).toBeLessThan(4);
    // A box wider than the rest gets a row of its own rather than overflowing.
    expect(packBoxes([{ w: 50, h: 50 }, { w: 5000, h: 50 }], 10, 2)).toEqual([
      { x: 0, y: 0 },
      { x: 0, y: 60 },
    ]);
  });

  it('puts ring slots around the box, a ring apart, and makes a grid when there is no box', () => {
    const box = { x1: 0, y1: 0, x2: 400, y2: 100 };
    const slots = ringSlots(box, 50);
    expect(slots).toHaveLength(50);
    for (const p of slots) expect(p.x <= box.x1 - RING_GAP || p.x >= box.x2 + RING_GAP || p.y <= box.y1 - RING_GAP || p.y >= box.y2 + RING_GAP).toBe(true);
    expect(new Set(slots.map((p) => `${p.x},${p.y}`)).size).toBe(50);

    const grid = ringSlots(null, 25);
    expect(grid[0]).toEqual({ x: 0, y: 0 });
    for (const p of grid) {
      expect(Math.abs(p.x % RING_SPACING)).toBe(0);
      expect(Math.abs(p.y % RING_SPACING)).toBe(0);
      expect(Math.max(Math.abs(p.x), Math.abs(p.y))).toBeLessThanOrEqual(2 * RING_SPACING);
    }
    expect(new Set(grid.map((p) => `${p.x},${p.y}`)).size).toBe(25);
    expect(ringSlots(box, 0)).toEqual([]);
  });

  it('orders ring nodes by the direction of what they hang off, neighbours together, orphans last', () => {
    const placed = new Map<string, Position>([
      ['L', { x: -100, y: 0 }],
      ['R', { x: 100, y: 0 }],
      ['T', { x: 0, y: -100 }],
    ]);
    const order = orderAround(
      ['x', 'y', 'z', 'w', 'o1', 'o2'],
      [
        { source: 'R', target: 'x' }, // angle 0
        { source: 'T', target: 'y' }, // angle -pi/2
        { source: 'y', target: 'z' }, // z only through y
        { source: 'L', target: 'w' }, // angle pi
        { source: 'o1', target: 'o2' }, // nothing placed
      ],
      placed,
      { x: 0, y: 0 },
    );
    expect(order).toEqual(['y', 'z', 'x', 'w', 'o1', 'o2']);
  });

  it('places every node once, trees top-down in the middle, the rest around them, the same way every time', () => {
    const procs = Array.from({ length: 40 }, (_, i) => `Process:p${String(i).padStart(2, '0')}`);
    const files = Array.from({ length: 300 }, (_, i) => `File:f${String(i).padStart(3, '0')}`);
    const links: Array<[string, string, string]> = [];
    for (let i = 1; i < procs.length; i++) links.push(['PARENT_OF', procs[Math.floor((i - 1) / 3)]!, procs[i]!]);
    files.forEach((f, i) => links.push(['LOADED', procs[i % procs.length]!, f]));
    links.push(['READ', files[0]!, files[1]!]);
    const elements = els([...procs, ...files, 'DomainName:alone'], links);
    const p = layoutPositions(elements);
    expect(p.size).toBe(procs.length + files.length + 1);
    expect(distinct(p)).toBe(p.size);
    for (const [kind, from, to] of links) if (kind === 'PARENT_OF') expect(p.get(from)!.y).toBeLessThan(p.get(to)!.y);
    const xs = procs.map((k) => p.get(k)!.x);
    const ys = procs.map((k) => p.get(k)!.y);
    const box = { x1: Math.min(...xs), x2: Math.max(...xs), y1: Math.min(...ys), y2: Math.max(...ys) };
    for (const f of [...files, 'DomainName:alone']) {
      const q = p.get(f)!;
      expect(q.x < box.x1 || q.x > box.x2 || q.y < box.y1 || q.y > box.y2).toBe(true);
    }
    expect(layoutPositions(elements)).toEqual(p);
  });

  it('lays out a lens without process trees as a grid from the centre', () => {
    const p = layoutPositions(els(['File:a', 'File:b', 'File:c', 'DomainName:d'], [['RESOLVED', 'File:a', 'DomainName:d'], ['READ', 'File:c', 'DomainName:d']]));
    expect(p.size).toBe(4);
    expect(distinct(p)).toBe(4);
    // The best-connected node in the middle, the others on the first ring around it.
    expect(p.get('DomainName:d')).toEqual({ x: 0, y: 0 });
    for (const k of ['File:a', 'File:b', 'File:c']) expect(Math.max(Math.abs(p.get(k)!.x), Math.abs(p.get(k)!.y))).toBe(RING_SPACING);
    expect(layoutPositions([]).size).toBe(0);
  });

  it('asks for a layout only when a node is new', () => {
    const e = els(['File:a', 'File:b'], []);
    expect(newNodes(new Set(['File:a', 'File:b', 'File:gone']), e)).toEqual([]);
    expect(newNodes(new Set(['File:a']), e)).toEqual(['File:b']);
  });
});

describe('graph style', () => {
  it('gives every kind a distinct shape and colour', () => {
    const styles = Object.values(KIND_STYLES);
    expect(new Set(styles.map((s) => s.shape)).size).toBe(styles.length);
    expect(new Set(styles.map((s) => s.colour)).size).toBe(styles.length);
    expect(kindStyle('Nope')).toBe(UNKNOWN_KIND);
  });

  it('draws edges straight, curves only parallel ones, and skips labels too small to read', () => {
    const sheet = graphStylesheet();
    const style = (selector: string) => (sheet.find((b) => b.selector === selector) as unknown as { style: Record<string, unknown> }).style;
    expect(style('edge')['curve-style']).toBe('straight');
    expect(style('edge').events).toBe('no');
    expect(style('edge.parallel')['curve-style']).toBe('bezier');
    expect(style('edge')['min-zoomed-font-size']).toBe(MIN_ZOOMED_FONT);
    expect(style('node')['min-zoomed-font-size']).toBe(MIN_ZOOMED_FONT);
  });

  it('details a big graph only where marked near, a small one everywhere', () => {
    expect(detailMode(DETAIL_ELEMENTS)).toBe('all');
    expect(detailMode(DETAIL_ELEMENTS + 1)).toBe('near');
    const near = graphStylesheet('near');
    const selectors = near.map((b) => b.selector);
    for (const kind of Object.keys(KIND_STYLES)) expect(selectors).toContain(`node[kind = "${kind}"]`);
    for (const band of ['none', 'low', 'medium', 'high', 'critical']) expect(selectors).toContain(`node[risk = "${band}"]`);
    expect(selectors).toContain('node:selected');
    const style = (selector: string) => (near.find((b) => b.selector === selector) as unknown as { style: Record<string, unknown> }).style;
    expect(style('node').label).toBeUndefined();
    expect(style('node.near').label).toBe('data(label)');
    expect(style('edge')['curve-style']).toBe('haystack');
    expect(style('edge.near')['target-arrow-shape']).toBe('triangle');
    expect(style('edge.parallel.near')['curve-style']).toBe('bezier');
    expect(style('edge[kind = "ACCESSED"].near, edge[kind = "INJECTED_INTO"].near')['target-arrow-color']).toBe('#ff7b72');
    expect(nearOnly('edge:selected')).toBe('edge.near:selected');
  });

  it('has a rule per kind and per risk band', () => {
    const selectors = graphStylesheet().map((b) => b.selector);
    for (const kind of Object.keys(KIND_STYLES)) expect(selectors).toContain(`node[kind = "${kind}"]`);
    for (const band of ['none', 'low', 'medium', 'high', 'critical'])
      expect(selectors).toContain(`node[risk = "${band}"]`);
  });
});
