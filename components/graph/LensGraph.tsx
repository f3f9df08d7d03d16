'use client';
/**
 * The one component that owns the cytoscape instance (ENGINEERING.md §9). It draws the elements it is
 * given (see elements.ts), reports taps, and exposes runLayout / fit / focus / zoomBy / png through its
 * ref. Layout runs when nodes come (not when they go, nor when a badge or class changes): process trees
 * top-down, every other node on rings around them (elements.ts layoutPositions, plain arithmetic), no
 * animation, so a lens of thousands of nodes is placed in milliseconds. A big graph shows text and arrow
 * heads only on what is in view once zoomed in (graph-style.ts, `near`).
 * Everything drawn is canvas text: no markup from the data ever reaches the DOM.
 */
import type { BoundingBox12, Collection, Core, ElementDefinition } from 'cytoscape';
import {
  useCallback,
  useEffect,
  useImperativeHandle,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
  type Ref,
} from 'react';
import CytoscapeComponent from 'react-cytoscapejs';
import { layoutPositions, newNodes, structureSignature } from './elements';
import { DETAIL_ZOOM, detailMode, graphStylesheet, type DetailMode } from './graph-style';

export interface LensGraphHandle {
  runLayout(): void;
  fit(): void;
  /** Select the node and bring it into view. */
  focus(key: string): void;
  zoomBy(factor: number): void;
  /** The whole graph as a PNG data URL. */
  png(): string | null;
}

const PADDING = 30;
/** The automatic fit never zooms in further than this (a lens of a few nodes need not fill the panel). */
const FIT_MAX_ZOOM = 2;
/** Longest side of the exported picture, px. */
const PNG_MAX = 8000;
/** How long the view must rest after a pan or zoom before the elements in view are restyled. */
const SETTLE_MS = 150;

/**
 * Fits the view to the node centres, with room for a node and its label below it. Cytoscape's own fit
 * measures every label and edge first: seconds for thousands of them, while at an overview's zoom no
 * label is drawn anyway.
 */
function fitView(cy: Core): void {
  if (cy.nodes().empty()) return;
  const box: BoundingBox12 = { x1: Infinity, y1: Infinity, x2: -Infinity, y2: -Infinity };
  for (const n of cy.nodes()) {
    const p = n.position();
    box.x1 = Math.min(box.x1, p.x - 40);
    box.y1 = Math.min(box.y1, p.y - 30);
    box.x2 = Math.max(box.x2, p.x + 40);
    box.y2 = Math.max(box.y2, p.y + 60);
  }
  cy.fit(box as never, PADDING);
  if (cy.zoom() > FIT_MAX_ZOOM) {
    cy.viewport({
      zoom: FIT_MAX_ZOOM,
      pan: {
        x: cy.width() / 2 - ((box.x1 + box.x2) / 2) * FIT_MAX_ZOOM,
        y: cy.height() / 2 - ((box.y1 + box.y2) / 2) * FIT_MAX_ZOOM,
      },
    });
  }
}

/**
 * Marks `near` what is in view (with a margin of a quarter view each way) once zoomed in to DETAIL_ZOOM:
 * the nodes there, and the edges whose arrow head or label would be there (target or midpoint); unmarks
 * the rest. Only elements that change are restyled.
 */
function markNear(cy: Core): void {
  const was = cy.elements('.near');
  let now: Collection = cy.collection();
  if (cy.zoom() >= DETAIL_ZOOM) {
    const e = cy.extent();
    const mx = e.w / 4;
    const my = e.h / 4;
    const inView = (p: { x: number; y: number }) =>
      p.x >= e.x1 - mx && p.x <= e.x2 + mx && p.y >= e.y1 - my && p.y <= e.y2 + my;
    const nodes = cy.nodes().filter((n) => inView(n.position()));
    const edges = cy.edges().filter((edge) => {
      const a = edge.source().position();
      const b = edge.target().position();
      return inView(b) || inView({ x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 });
    });
    now = nodes.union(edges);
  }
  const leaving = was.difference(now);
  const coming = now.difference(was);
  if (leaving.empty() && coming.empty()) return;
  cy.batch(() => {
    leaving.removeClass('near');
    coming.addClass('near');
  });
}

/**
 * Selects `key` alone, touching only elements whose selection changes: a tap has already selected the
 * node, and each change restyles and redraws the whole canvas.
 */
function selectOnly(cy: Core, key: string | null): void {
  const want = key ? cy.getElementById(key) : cy.collection();
  const have = cy.$(':selected');
  have.difference(want).unselect();
  want.difference(have).select();
}

export function LensGraph({
  elements,
  selected,
  onSelect,
  ref,
}: {
  elements: ElementDefinition[];
  selected: string | null;
  onSelect: (key: string | null) => void;
  ref?: Ref<LensGraphHandle>;
}) {
  const cyRef = useRef<Core | null>(null);
  const boxRef = useRef<HTMLDivElement | null>(null);
  const onSelectRef = useRef(onSelect);
  const selectedRef = useRef(selected);
  const elementsRef = useRef(elements);
  /** The nodes on the canvas when it was last laid out or trimmed: a node not among them needs a layout. */
  const knownRef = useRef<ReadonlySet<string>>(new Set());
  // A layout effect, declared first: the layout effects below read the current elements.
  useLayoutEffect(() => {
    onSelectRef.current = onSelect;
    selectedRef.current = selected;
    elementsRef.current = elements;
  });

  const sheets = useMemo(() => ({ all: graphStylesheet('all'), near: graphStylesheet('near') }), []);
  // The sheet given to CytoscapeComponent never changes after the first render (so it never restyles
  // behind our back); setMode swaps it on the instance when the graph grows or shrinks past the limit.
  const [initialMode] = useState(() => detailMode(elements.length));
  const modeRef = useRef<DetailMode>(initialMode);

  /** The sheet for the graph's size now; in `near` mode, the elements in view marked. */
  const setMode = useCallback(
    (mode?: DetailMode) => {
      const cy = cyRef.current;
      if (!cy) return;
      const next = mode ?? detailMode(cy.elements().length);
      if (next !== modeRef.current) {
        modeRef.current = next;
        cy.style(sheets[next]);
      }
      if (next === 'near') markNear(cy);
      if (boxRef.current) boxRef.current.dataset.detail = next;
    },
    [sheets],
  );

  const attach = useCallback(
    (cy: Core) => {
      if (cyRef.current === cy) return;
      cyRef.current = cy;
      cy.minZoom(0.05);
      cy.maxZoom(4);
      cy.on('tap', 'node', (e) => onSelectRef.current(String(e.target.id())));
      cy.on('tap', (e) => {
        if (e.target === cy) onSelectRef.current(null);
      });
      // Once a pan or zoom has settled (not on every wheel step), detail what is now in view.
      let settle: ReturnType<typeof setTimeout> | undefined;
      cy.on('viewport', () => {
        clearTimeout(settle);
        settle = setTimeout(() => setMode(), SETTLE_MS);
      });
      cy.one('destroy', () => clearTimeout(settle));
      // Only bench/ui.ts defines this (before the page loads), to click a node where it is drawn.
      const bench = (window as { __lensgraphBench?: { cy?: Core } }).__lensgraphBench;
      if (bench) bench.cy = cy;
    },
    [setMode],
  );

  /**
   * Readiness for tests and `npm run bench` (bench/ui.ts): cleared while the canvas changes; once cytoscape
   * has drawn a frame of the current nodes in their final places, data-graph-ready holds how many nodes
   * that frame drew. Set on the DOM directly: no React render.
   */
  const markDrawn = useCallback(() => {
    const cy = cyRef.current;
    const box = boxRef.current;
    if (!cy || !box) return;
    delete box.dataset.graphReady;
    cy.one('render', () => {
      box.dataset.graphReady = String(cy.nodes().length);
    });
    cy.forceRender();
  }, []);

  const center = useCallback((key: string, animate: boolean) => {
    const cy = cyRef.current;
    if (!cy) return;
    const node = cy.getElementById(key);
    if (node.empty()) return;
    selectOnly(cy, key);
    const zoom = Math.max(cy.zoom(), 1);
    if (animate) cy.animate({ center: { eles: node }, zoom }, { duration: 250 });
    else cy.center(node);
  }, []);

  const runLayout = useCallback(() => {
    const cy = cyRef.current;
    if (!cy) return;
    knownRef.current = new Set(cy.nodes().map((n) => n.id()));
    if (cy.nodes().empty()) return markDrawn();
    const positions = layoutPositions(elementsRef.current);
    cy.batch(() => {
      cy.nodes().positions((n) => positions.get(n.id()) ?? n.position());
    });
    fitView(cy);
    const key = selectedRef.current;
    if (key) center(key, false);
    setMode();
    markDrawn();
  }, [center, markDrawn, setMode]);

  useImperativeHandle(
    ref,
    () => ({
      runLayout,
      fit: () => {
        if (cyRef.current) fitView(cyRef.current);
      },
      focus: (key) => center(key, true),
      zoomBy: (factor) => {
        const cy = cyRef.current;
        if (!cy) return;
        cy.zoom({
          level: Math.min(cy.maxZoom(), Math.max(cy.minZoom(), cy.zoom() * factor)),
          renderedPosition: { x: cy.width() / 2, y: cy.height() / 2 },
        });
      },
      png: () => {
        const cy = cyRef.current;
        if (!cy) return null;
        // The picture is of the whole graph at full size: every element in full detail.
        const mode = modeRef.current;
        if (mode === 'near') setMode('all');
        try {
          // Twice the size for a sharp picture; a big lens's no larger than an image viewer opens quickly
          // (cytoscape's own maxWidth is ignored once a scale is given).
          const bb = cy.elements().boundingBox();
          const scale = Math.min(2, PNG_MAX / Math.max(bb.w, bb.h, 1));
          return cy.png({ full: true, bg: '#111418', scale, output: 'base64uri' });
        } finally {
          if (mode === 'near') setMode('near');
        }
      },
    }),
    [runLayout, center, setMode],
  );

  // Lay out when nodes come; when they only go (hidden, removed) the others stay where they are. A layout
  // effect: it runs before the browser paints, so cytoscape never draws the new nodes unplaced first.
  const signature = structureSignature(elements);
  useLayoutEffect(() => {
    const cy = cyRef.current;
    if (!cy) return;
    if (newNodes(knownRef.current, elementsRef.current).length > 0) runLayout();
    else {
      knownRef.current = new Set(cy.nodes().map((n) => n.id()));
      setMode();
      markDrawn();
    }
  }, [signature, runLayout, markDrawn, setMode]);

  // CytoscapeComponent replaces an element's classes when its `classes` change (pinned, highlighted):
  // mark again what is in view. Cheap when nothing changed.
  useLayoutEffect(() => {
    if (cyRef.current && modeRef.current === 'near') markNear(cyRef.current);
  });

  // Keep cytoscape's selection in step with the URL-held selection.
  useEffect(() => {
    if (cyRef.current) selectOnly(cyRef.current, selected);
  }, [selected, signature]);

  const nodeCount = elements.filter((e) => e.group === 'nodes').length;
  return (
    <div
      ref={boxRef}
      className="lens-graph"
      data-testid="lens-graph"
      data-node-count={nodeCount}
      data-edge-count={elements.length - nodeCount}
      data-selected={selected ?? ''}
      role="img"
      aria-label={`Graph of ${nodeCount} nodes. The node list below offers the same nodes as text.`}
    >
      <CytoscapeComponent
        elements={elements}
        stylesheet={sheets[initialMode]}
        cy={attach}
        style={{ width: '100%', height: '100%' }}
        boxSelectionEnabled={false}
        // Drawing cost: while panning or zooming, edges are hidden and the rest is a bitmap; one canvas
        // pixel per CSS pixel.
        hideEdgesOnViewport
        textureOnViewport
        motionBlur={false}
        pixelRatio={1}
      />
    </div>
  );
}
