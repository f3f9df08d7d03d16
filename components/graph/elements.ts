/**
 * API data to cytoscape elements: the one pure transform between the engagement API and the canvas
 * (ENGINEERING.md §9). Tested in elements.test.ts. Labels drawn on the canvas are never parsed as HTML.
 */
import type { ElementDefinition } from 'cytoscape';
import type { GraphEdge, NodeSummary, ScopeRole } from '../engagement/api';
import { formatScore, riskLevel } from '../engagement/format';

export interface GraphInput {
  /** Nodes in the lens's scope, with their role. */
  scope: ReadonlyArray<{ node: NodeSummary; role: ScopeRole }>;
  /** Nodes shown but not (yet) in scope: just expanded or added, until the lens is refetched. */
  extra?: readonly NodeSummary[];
  edges: readonly GraphEdge[];
  hidden?: ReadonlySet<string>;
  pinned?: ReadonlySet<string>;
  /** Nodes to mark (e.g. the selected timeline entries). */
  highlighted?: ReadonlySet<string>;
}

export const LABEL_MAX = 48;

export function edgeId(e: Pick<GraphEdge, 'kind' | 'from' | 'to'>): string {
  return `${e.kind}|${e.from}|${e.to}`;
}

export function truncate(text: string, max = LABEL_MAX): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** `CONNECTED_TO` -> `connected to`, with `×3` when the edge was seen more than once. */
export function edgeLabel(e: Pick<GraphEdge, 'kind' | 'count'>): string {
  const name = e.kind.toLowerCase().replace(/_/g, ' ');
  return e.count && e.count > 1 ? `${name} ×${e.count}` : name;
}

/** The node's canvas label: short text, and the risk score as a badge line when it has risks. */
export function nodeLabel(n: Pick<NodeSummary, 'label' | 'key' | 'riskScore'>): string {
  const text = splitPid(n.label || n.key);
  return n.riskScore > 0 ? `${text}\n▲ ${formatScore(n.riskScore)}` : text;
}

/** Characters of a label that fit one line of the canvas at its font size (graph-style.ts text-max-width). */
const LINE_CHARS = 14;

/**
 * `GruntHTTP.exe (6172)` wraps inside the pid (`(617` / `2)`), which reads as another process: a process
 * label too long for one line puts its pid on a line of its own.
 */
function splitPid(label: string): string {
  const m = /^(.+) (\(\d+\))$/.exec(label);
  if (!m || label.length <= LINE_CHARS) return truncate(label);
  return `${truncate(m[1]!)}\n${m[2]!}`;
}

/** The two nodes of an edge, either way round. */
function pairKey(e: Pick<GraphEdge, 'from' | 'to'>): string {
  return e.from < e.to ? `${e.from}\n${e.to}` : `${e.to}\n${e.from}`;
}

export function toElements(input: GraphInput): ElementDefinition[] {
  const hidden = input.hidden ?? new Set<string>();
  const pinned = input.pinned ?? new Set<string>();
  const highlighted = input.highlighted ?? new Set<string>();
  const nodes = new Map<string, { node: NodeSummary; role: ScopeRole | 'shown' }>();
  for (const s of input.scope) if (!nodes.has(s.node.key)) nodes.set(s.node.key, s);
  for (const n of input.extra ?? []) if (!nodes.has(n.key)) nodes.set(n.key, { node: n, role: 'shown' });

  const out: ElementDefinition[] = [];
  for (const [key, { node, role }] of nodes) {
    if (hidden.has(key)) continue;
    const classes = [role === 'risky' ? 'risky' : 'context'];
    if (pinned.has(key)) classes.push('pinned');
    if (highlighted.has(key)) classes.push('highlight');
    out.push({
      group: 'nodes',
      data: {
        id: key,
        label: nodeLabel(node),
        kind: node.kind ?? 'Unknown',
        host: node.host ?? '',
        riskScore: node.riskScore,
        risk: riskLevel(node.riskScore),
        role,
      },
      classes: classes.join(' '),
      locked: pinned.has(key),
    });
  }

  const seen = new Set<string>();
  const shown: GraphEdge[] = [];
  const perPair = new Map<string, number>();
  for (const e of input.edges) {
    const id = edgeId(e);
    if (seen.has(id)) continue;
    if (!nodes.has(e.from) || !nodes.has(e.to) || hidden.has(e.from) || hidden.has(e.to)) continue;
    seen.add(id);
    shown.push(e);
    const pair = pairKey(e);
    perPair.set(pair, (perPair.get(pair) ?? 0) + 1);
  }
  for (const e of shown) {
    out.push({
      group: 'edges',
      data: { id: edgeId(e), source: e.from, target: e.to, kind: e.kind, label: edgeLabel(e) },
      // Edges are drawn straight (cheap); only edges sharing their two nodes curve apart (graph-style.ts).
      ...(perPair.get(pairKey(e))! > 1 ? { classes: 'parallel' } : {}),
    });
  }
  return out;
}

// ------------------------------------------------------------------------------------------- layout
//
// A lens can hold thousands of nodes, most of them files, registry keys and the like hanging off a few
// process trees. A force layout (cose) of that many nodes takes seconds in the browser, dagre over every
// edge minutes, and even dagre over the process trees alone a few hundred milliseconds on a busy
// two-core machine. So the layout is plain arithmetic, deterministic and linear or n log n: each process
// tree (PARENT_OF) top-down in layers, children centred under their parent (a process has one parent, so
// the trees are trees); the trees packed in rows; every other node in a slot on rings around them, on the
// side of the trees it is attached to. Tested in elements.test.ts; LensGraph only applies the positions.

export interface Position {
  x: number;
  y: number;
}

interface Box {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/** How LensGraph lays out a set of elements. */
export interface LayoutPlan {
  /** Process trees: groups of two or more nodes joined by PARENT_OF, largest first. */
  trees: string[][];
  /** The PARENT_OF edges inside the trees, parent -> child, in element order. */
  treeEdges: EdgeEnds[];
  /** Every other node, placed on rings around the trees. */
  rest: string[];
}

/**
 * Spacing (px at zoom 1) of the trees: between neighbouring leaves, between layers. A label wraps at
 * 100 px (graph-style.ts), so neighbours' labels do not run into each other once readable.
 */
export const TREE_COLUMN = 110;
export const TREE_LAYER = 120;
/** Childless siblings per row. */
export const TREE_WRAP = 10;
/** Columns a node's children may spread over before their subtrees wrap into further rows. */
export const TREE_ROW_COLUMNS = 16;
/** Spacing of the rings: between neighbours on a ring, between rings; and between trees. */
export const RING_SPACING = 110;
export const RING_GAP = 100;
export const TREE_GAP = 100;
/** Room kept around each tree's node centres (a node is 30-38 px wide plus its risk ring). */
const TREE_PAD = 30;
/** Width to height of the area the trees are packed into: about the graph panel's (beside the timeline). */
const PACK_ASPECT = 1.5;

export interface EdgeEnds {
  source: string;
  target: string;
}

function nodeIds(elements: readonly ElementDefinition[]): string[] {
  const out: string[] = [];
  for (const e of elements) if (e.group === 'nodes') out.push(String(e.data.id));
  return out;
}

function edgeEnds(elements: readonly ElementDefinition[]): EdgeEnds[] {
  const out: EdgeEnds[] = [];
  for (const e of elements)
    if (e.group === 'edges') out.push({ source: String(e.data.source), target: String(e.data.target) });
  return out;
}

/** Splits the nodes into process trees and the rest (rings). */
export function planLayout(elements: readonly ElementDefinition[]): LayoutPlan {
  const ids = nodeIds(elements);
  const present = new Set(ids);
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let root = x;
    while (parent.get(root) !== root) root = parent.get(root)!;
    for (let y = x; y !== root;) {
      const next = parent.get(y)!;
      parent.set(y, root);
      y = next;
    }
    return root;
  };
  for (const id of ids) parent.set(id, id);
  const treeEdges: EdgeEnds[] = [];
  for (const e of elements) {
    if (e.group !== 'edges' || e.data.kind !== 'PARENT_OF') continue;
    const a = String(e.data.source);
    const b = String(e.data.target);
    if (a === b || !present.has(a) || !present.has(b)) continue;
    parent.set(find(a), find(b));
    treeEdges.push({ source: a, target: b });
  }
  const groups = new Map<string, string[]>();
  for (const id of ids) {
    const root = find(id);
    const g = groups.get(root);
    if (g) g.push(id);
    else groups.set(root, [id]);
  }
  const trees: string[][] = [];
  const rest: string[] = [];
  for (const g of groups.values()) {
    if (g.length >= 2) trees.push(g);
    else rest.push(g[0]!);
  }
  // Largest first; equal sizes keep the order of their first node (Array.prototype.sort is stable).
  trees.sort((a, b) => b.length - a.length);
  return { trees, treeEdges, rest };
}

/**
 * One process tree top-down: a node's first PARENT_OF edge makes its parent; every leaf takes the next
 * column, every parent sits over the middle of its children, one layer per generation; when more than
 * `wrap` of a node's children have none of their own, those go in rows of `wrap` right of their siblings.
 * When a node has more than `wrap` children with children of their own and they would spread wider than
 * `rowColumns` columns (a shell that ran seventy commands, each with a child of its own), their subtrees
 * wrap into further rows below the first, each row under the last layer of the one before, in rows about
 * as wide as the panel's shape for the room they take (at least `rowColumns`), so the tree reads as a block
 * rather than as a strip too thin to read when the whole graph is in view. Children keep the order of
 * `nodes`. A node without a parent starts a tree of its own, left to right; a cycle, which no process tree
 * has, is cut where it is first met. Positions start at 0,0.
 */
export function treeLayout(
  nodes: readonly string[],
  edges: readonly EdgeEnds[],
  column = TREE_COLUMN,
  layer = TREE_LAYER,
  wrap = TREE_WRAP,
  rowColumns = TREE_ROW_COLUMNS,
): Map<string, Position> {
  const inTree = new Set(nodes);
  const parentOf = new Map<string, string>();
  for (const e of edges) {
    if (e.source === e.target || !inTree.has(e.source) || !inTree.has(e.target) || parentOf.has(e.target))
      continue;
    parentOf.set(e.target, e.source);
  }
  const children = new Map<string, string[]>();
  for (const id of nodes) {
    const p = parentOf.get(id);
    if (p === undefined) continue;
    const list = children.get(p);
    if (list) list.push(id);
    else children.set(p, [id]);
  }
  // Each subtree is laid out on its own as a box (in columns and layers from its top-left corner) and
  // placed in its parent's box; absolute positions are summed top-down at the end.
  interface Subtree {
    /** Columns between its leftmost and rightmost node. */
    w: number;
    /** Layers below its root's. */
    h: number;
    /** Its root's column in the box. */
    rx: number;
  }
  const box = new Map<string, Subtree>();
  /** Where a node sits in its parent's box, relative to the parent's box corner (columns, layers). */
  const offset = new Map<string, { dx: number; dy: number }>();
  const roots: string[] = [];
  const seen = new Set<string>();
  const place = (root: string) => {
    // Iterative post-order (a tree can be deeper than the call stack is kind): children before parent.
    seen.add(root);
    roots.push(root);
    type Frame = { id: string; kids: string[] | null; grid: string[] };
    const stack: Frame[] = [{ id: root, kids: null, grid: [] }];
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.kids === null) {
        const kids = (children.get(top.id) ?? []).filter((k) => !seen.has(k));
        for (const k of kids) seen.add(k);
        // Many childless children (a service host's, a browser's): rows of `wrap`, right of the others.
        const childless = kids.filter((k) => !children.has(k));
        if (childless.length > wrap) top.grid = childless;
        top.kids = top.grid.length > 0 ? kids.filter((k) => children.has(k)) : kids;
        for (let i = top.kids.length - 1; i >= 0; i--) stack.push({ id: top.kids[i]!, kids: null, grid: [] });
        if (top.kids.length > 0) continue;
      }
      stack.pop();
      // The items under this node, left to right: each child's subtree, then the grid of childless ones.
      type Item = {
        w: number;
        h: number;
        left: number;
        right: number;
        put: (dx: number, dy: number) => void;
      };
      const items: Item[] = top.kids.map((k) => {
        const b = box.get(k)!;
        return { w: b.w, h: b.h, left: b.rx, right: b.rx, put: (dx, dy) => offset.set(k, { dx, dy }) };
      });
      if (top.grid.length > 0) {
        const grid = top.grid;
        items.push({
          w: wrap - 1,
          h: Math.ceil(grid.length / wrap) - 1,
          left: 0,
          right: wrap - 1,
          put: (dx, dy) =>
            grid.forEach((k, i) => offset.set(k, { dx: dx + (i % wrap), dy: dy + Math.floor(i / wrap) })),
        });
      }
      if (items.length === 0) {
        box.set(top.id, { w: 0, h: 0, rx: 0 });
        continue;
      }
      const spread = items.reduce((n, it) => n + it.w + 1, -1);
      const widest = Math.max(...items.map((it) => it.w));
      // Rows about as wide as the panel's shape for the room the children take, and never narrower than
      // `rowColumns` or the widest child.
      const cells = items.reduce((n, it) => n + (it.w + 1) * (it.h + 1), 0);
      const columns = Math.max(rowColumns, Math.ceil(Math.sqrt((cells * PACK_ASPECT * layer) / column)));
      const rowWidth =
        top.kids.length > wrap && spread > columns - 1 ? Math.max(columns - 1, widest) : Infinity;
      let x = 0;
      let dy = 1;
      let rowHeight = 0;
      let w = 0;
      let firstRow = true;
      let anchorL = 0;
      let anchorR = 0;
      items.forEach((it, i) => {
        if (x > 0 && x + it.w > rowWidth) {
          x = 0;
          dy += rowHeight + 1;
          rowHeight = 0;
          firstRow = false;
        }
        it.put(x, dy);
        if (i === 0) anchorL = x + it.left;
        if (firstRow) anchorR = x + it.right;
        w = Math.max(w, x + it.w);
        rowHeight = Math.max(rowHeight, it.h);
        x += it.w + 1;
      });
      box.set(top.id, { w, h: dy + rowHeight, rx: (anchorL + anchorR) / 2 });
    }
  };
  for (const id of nodes) if (!parentOf.has(id) && !seen.has(id)) place(id);
  for (const id of nodes) if (!seen.has(id)) place(id); // only on a cycle
  // Trees side by side, a column apart; then every node at its box corner plus its own column.
  const out = new Map<string, Position>();
  const corner = new Map<string, { x: number; y: number }>();
  let next = 0;
  for (const r of roots) {
    corner.set(r, { x: next, y: 0 });
    next += box.get(r)!.w + 1;
  }
  const order = [...roots];
  while (order.length > 0) {
    const id = order.pop()!;
    const c = corner.get(id)!;
    const b = box.get(id)!;
    out.set(id, { x: column * (c.x + b.rx), y: layer * c.y });
    for (const k of children.get(id) ?? []) {
      const o = offset.get(k);
      if (!o || corner.has(k)) continue;
      corner.set(k, { x: c.x + o.dx, y: c.y + o.dy });
      // A subtree's offset is of its box's corner; a node in a grid of childless children has no box.
      if (box.has(k)) order.push(k);
      else out.set(k, { x: column * (c.x + o.dx), y: layer * (c.y + o.dy) });
    }
  }
  return out;
}

/**
 * Top-left corners for boxes packed in rows (shelves), in the given order, into an area about `aspect`
 * times as wide as high; no row is narrower than the widest box.
 */
export function packBoxes(
  sizes: ReadonlyArray<{ w: number; h: number }>,
  gap = TREE_GAP,
  aspect = PACK_ASPECT,
): Position[] {
  let area = 0;
  let widest = 0;
  for (const s of sizes) {
    area += (s.w + gap) * (s.h + gap);
    widest = Math.max(widest, s.w);
  }
  const rowWidth = Math.max(widest, Math.sqrt(area * aspect));
  const out: Position[] = [];
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  for (const s of sizes) {
    if (x > 0 && x + s.w > rowWidth) {
      x = 0;
      y += rowHeight + gap;
      rowHeight = 0;
    }
    out.push({ x, y });
    x += s.w + gap;
    rowHeight = Math.max(rowHeight, s.h);
  }
  return out;
}

/** The point `d` px along the outline of the rectangle, clockwise from its top-left corner. */
function alongRect(b: Box, d: number): Position {
  const w = b.x2 - b.x1;
  const h = b.y2 - b.y1;
  if (d < w) return { x: b.x1 + d, y: b.y1 };
  if (d < w + h) return { x: b.x2, y: b.y1 + (d - w) };
  if (d < 2 * w + h) return { x: b.x2 - (d - w - h), y: b.y2 };
  return { x: b.x1, y: b.y2 - (d - 2 * w - h) };
}

/**
 * `count` slots on rectangular rings around `box`, `gap` apart, about `spacing` apart on each ring; the
 * outermost ring spreads its slots evenly. With no box (nothing in the middle) the first slot is the
 * centre and the rings, `spacing` apart, make a square grid. Slots come ring by ring, each clockwise
 * from its top-left.
 */
export function ringSlots(
  box: Box | null,
  count: number,
  spacing = RING_SPACING,
  gap = RING_GAP,
): Position[] {
  const out: Position[] = [];
  if (count <= 0) return out;
  const b = box ?? { x1: 0, y1: 0, x2: 0, y2: 0 };
  if (!box) {
    out.push({ x: 0, y: 0 });
    gap = spacing;
  }
  for (let ring = 1; out.length < count; ring++) {
    const m = gap * ring;
    const r = { x1: b.x1 - m, y1: b.y1 - m, x2: b.x2 + m, y2: b.y2 + m };
    const perimeter = 2 * (r.x2 - r.x1 + (r.y2 - r.y1));
    const n = Math.min(Math.max(1, Math.floor(perimeter / spacing)), count - out.length);
    for (let k = 0; k < n; k++) out.push(alongRect(r, (k * perimeter) / n));
  }
  return out;
}

/**
 * The order in which the ring nodes take their slots: by the direction, seen from `centre`, of the placed
 * nodes they are joined to (the mean of their positions); a node joined only to other ring nodes takes the
 * direction of the one it is reached from (breadth first), so neighbours stay together; nodes reached
 * from nothing placed come last, each group breadth first from its best-connected node.
 */
export function orderAround(
  rest: readonly string[],
  edges: readonly EdgeEnds[],
  placed: ReadonlyMap<string, Position>,
  centre: Position,
): string[] {
  const inRest = new Set(rest);
  const adjacent = new Map<string, string[]>();
  const link = (a: string, b: string) => {
    const list = adjacent.get(a);
    if (list) list.push(b);
    else adjacent.set(a, [b]);
  };
  for (const e of edges) {
    if (e.source === e.target) continue;
    if (inRest.has(e.source)) link(e.source, e.target);
    if (inRest.has(e.target)) link(e.target, e.source);
  }
  const key = new Map<string, { angle: number; depth: number; seq: number }>();
  const anchored: Array<{ id: string; angle: number }> = [];
  for (const id of rest) {
    let sx = 0;
    let sy = 0;
    let n = 0;
    for (const other of adjacent.get(id) ?? []) {
      const p = placed.get(other);
      if (!p) continue;
      sx += p.x;
      sy += p.y;
      n++;
    }
    if (n > 0) anchored.push({ id, angle: Math.atan2(sy / n - centre.y, sx / n - centre.x) });
  }
  anchored.sort((a, b) => a.angle - b.angle || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  let seq = 0;
  const spread = (queue: string[]) => {
    for (let i = 0; i < queue.length; i++) {
      const id = queue[i]!;
      const from = key.get(id)!;
      for (const other of adjacent.get(id) ?? []) {
        if (!inRest.has(other) || key.has(other)) continue;
        key.set(other, { angle: from.angle, depth: from.depth + 1, seq: seq++ });
        queue.push(other);
      }
    }
  };
  for (const a of anchored) key.set(a.id, { angle: a.angle, depth: 0, seq: seq++ });
  spread(anchored.map((a) => a.id));
  // Whatever is left hangs off nothing placed: group by group, from the best-connected node.
  const left = rest.filter((id) => !key.has(id));
  left.sort(
    (a, b) => (adjacent.get(b)?.length ?? 0) - (adjacent.get(a)?.length ?? 0) || (a < b ? -1 : a > b ? 1 : 0),
  );
  for (const id of left) {
    if (key.has(id)) continue;
    key.set(id, { angle: Infinity, depth: 0, seq: seq++ });
    spread([id]);
  }
  return [...rest].sort((a, b) => {
    const ka = key.get(a)!;
    const kb = key.get(b)!;
    // Infinity - Infinity is NaN, which || passes over like 0.
    return ka.angle - kb.angle || ka.depth - kb.depth || ka.seq - kb.seq;
  });
}

/**
 * Where every node of `elements` goes: each process tree laid out top-down (treeLayout), the trees packed
 * in rows (packBoxes), every other node in a slot on rings around them (ringSlots), taking the slots in
 * the order of orderAround, by direction from the centre, so a node sits on the side of what it is
 * attached to. LensGraph applies these; a pinned (locked) node keeps its place regardless.
 */
export function layoutPositions(elements: readonly ElementDefinition[]): Map<string, Position> {
  const plan = planLayout(elements);
  const out = new Map<string, Position>();
  // Each tree on its own, then packed: its box is its node centres plus room for a node.
  const treeOf = new Map<string, number>();
  plan.trees.forEach((tree, i) => tree.forEach((id) => treeOf.set(id, i)));
  const edgesOf = plan.trees.map((): EdgeEnds[] => []);
  for (const e of plan.treeEdges) edgesOf[treeOf.get(e.source)!]!.push(e);
  const laid = plan.trees.map((tree, i) => {
    const positions = treeLayout(tree, edgesOf[i]!);
    const box = { x1: Infinity, y1: Infinity, x2: -Infinity, y2: -Infinity };
    for (const p of positions.values()) {
      box.x1 = Math.min(box.x1, p.x - TREE_PAD);
      box.y1 = Math.min(box.y1, p.y - TREE_PAD);
      box.x2 = Math.max(box.x2, p.x + TREE_PAD);
      box.y2 = Math.max(box.y2, p.y + TREE_PAD);
    }
    return { positions, box };
  });
  const corners = packBoxes(laid.map(({ box }) => ({ w: box.x2 - box.x1, h: box.y2 - box.y1 })));
  let middle: Box | null = null;
  for (let i = 0; i < laid.length; i++) {
    const { positions, box } = laid[i]!;
    const c = corners[i]!;
    for (const [id, p] of positions) out.set(id, { x: p.x - box.x1 + c.x, y: p.y - box.y1 + c.y });
    const placed = { x1: c.x, y1: c.y, x2: c.x + box.x2 - box.x1, y2: c.y + box.y2 - box.y1 };
    middle = middle
      ? {
          x1: Math.min(middle.x1, placed.x1),
          y1: Math.min(middle.y1, placed.y1),
          x2: Math.max(middle.x2, placed.x2),
          y2: Math.max(middle.y2, placed.y2),
        }
      : placed;
  }
  const centre = middle ? { x: (middle.x1 + middle.x2) / 2, y: (middle.y1 + middle.y2) / 2 } : { x: 0, y: 0 };
  const order = orderAround(plan.rest, edgeEnds(elements), out, centre);
  const slots = ringSlots(middle, order.length);
  // Around trees: slots by direction from the centre (nearer ring first), so nodes take the slots on
  // their side. Without trees: from the centre outwards, the best-connected node in the middle.
  const taken = middle
    ? slots
        .map((p) => ({
          p,
          angle: Math.atan2(p.y - centre.y, p.x - centre.x),
          d: Math.hypot(p.x - centre.x, p.y - centre.y),
        }))
        .sort((a, b) => a.angle - b.angle || a.d - b.d)
        .map((s) => s.p)
    : slots;
  order.forEach((id, i) => out.set(id, taken[i]!));
  return out;
}

/** Nodes of `elements` that are not in `known` (the nodes at the last layout): a layout is due when any. */
export function newNodes(known: ReadonlySet<string>, elements: readonly ElementDefinition[]): string[] {
  return nodeIds(elements).filter((id) => !known.has(id));
}

/** A key-set signature of the elements: the layout runs again only when nodes come or go. */
export function structureSignature(elements: readonly ElementDefinition[]): string {
  return elements
    .filter((e) => e.group === 'nodes')
    .map((e) => String(e.data.id))
    .sort()
    .join('\n');
}
