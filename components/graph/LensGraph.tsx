'use client';
/**
 * The one component that owns the cytoscape instance (ENGINEERING.md §9). It draws the elements it is
 * given (see elements.ts), reports taps, and exposes runLayout / fit / focus / zoomBy / png through its
 * ref. Layout runs when nodes come or go: dagre top-down for process trees, cose otherwise. Everything
 * drawn is canvas text: no markup from the data ever reaches the DOM.
 */
import cytoscape, { type Core, type ElementDefinition, type LayoutOptions } from 'cytoscape';
import dagre from 'cytoscape-dagre';
import { useCallback, useEffect, useImperativeHandle, useMemo, useRef, type Ref } from 'react';
import CytoscapeComponent from 'react-cytoscapejs';
import { layoutFor, structureSignature, type LayoutName } from './elements';
import { graphStylesheet } from './graph-style';

let registered = false;
function registerExtensions(): void {
  if (registered) return;
  cytoscape.use(dagre);
  registered = true;
}
registerExtensions();

export interface LensGraphHandle {
  runLayout(): void;
  fit(): void;
  /** Select the node and bring it into view. */
  focus(key: string): void;
  zoomBy(factor: number): void;
  /** The whole graph as a PNG data URL. */
  png(): string | null;
}

const LAYOUTS: Record<LayoutName, LayoutOptions> = {
  dagre: {
    name: 'dagre',
    rankDir: 'TB',
    nodeSep: 40,
    rankSep: 70,
    edgeSep: 10,
    fit: true,
    padding: 30,
    animate: false,
  } as LayoutOptions,
  cose: { name: 'cose', fit: true, padding: 30, animate: false, nodeRepulsion: () => 8000 } as LayoutOptions,
};

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
  useEffect(() => {
    onSelectRef.current = onSelect;
    selectedRef.current = selected;
    elementsRef.current = elements;
  });
  const stylesheet = useMemo(() => graphStylesheet(), []);

  const attach = useCallback((cy: Core) => {
    if (cyRef.current === cy) return;
    cyRef.current = cy;
    cy.minZoom(0.1);
    cy.maxZoom(4);
    cy.on('tap', 'node', (e) => onSelectRef.current(String(e.target.id())));
    cy.on('tap', (e) => {
      if (e.target === cy) onSelectRef.current(null);
    });
    // Readiness for tests and `npm run bench` (bench/ui.ts): after each layout, once its result has been
    // drawn, data-graph-ready holds the number of nodes drawn. Set on the DOM directly: no React render.
    cy.on('layoutstop', () => {
      cy.one('render', () => {
        if (boxRef.current) boxRef.current.dataset.graphReady = String(cy.nodes().length);
      });
    });
    // Only bench/ui.ts defines this (before the page loads), to click a node where it is drawn.
    const bench = (window as { __lensgraphBench?: { cy?: Core } }).__lensgraphBench;
    if (bench) bench.cy = cy;
  }, []);

  const center = useCallback((key: string, animate: boolean) => {
    const cy = cyRef.current;
    if (!cy) return;
    const node = cy.getElementById(key);
    if (node.empty()) return;
    cy.$(':selected').unselect();
    node.select();
    const zoom = Math.max(cy.zoom(), 1);
    if (animate) cy.animate({ center: { eles: node }, zoom }, { duration: 250 });
    else cy.center(node);
  }, []);

  const runLayout = useCallback(() => {
    const cy = cyRef.current;
    if (!cy || cy.nodes().empty()) return;
    cy.layout(LAYOUTS[layoutFor(elementsRef.current)]).run();
    const key = selectedRef.current;
    if (key) center(key, false);
  }, [center]);

  useImperativeHandle(
    ref,
    () => ({
      runLayout,
      fit: () => cyRef.current?.fit(undefined, 30),
      focus: (key) => center(key, true),
      zoomBy: (factor) => {
        const cy = cyRef.current;
        if (!cy) return;
        cy.zoom({
          level: Math.min(cy.maxZoom(), Math.max(cy.minZoom(), cy.zoom() * factor)),
          renderedPosition: { x: cy.width() / 2, y: cy.height() / 2 },
        });
      },
      png: () => cyRef.current?.png({ full: true, bg: '#111418', scale: 2, output: 'base64uri' }) ?? null,
    }),
    [runLayout, center],
  );

  // Lay out again only when the set of nodes changes, not when a badge or class does.
  const signature = structureSignature(elements);
  useEffect(() => {
    runLayout();
  }, [signature, runLayout]);

  // Keep cytoscape's selection in step with the URL-held selection.
  useEffect(() => {
    const cy = cyRef.current;
    if (!cy) return;
    cy.$(':selected').unselect();
    if (selected) cy.getElementById(selected).select();
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
        stylesheet={stylesheet}
        cy={attach}
        style={{ width: '100%', height: '100%' }}
        boxSelectionEnabled={false}
      />
    </div>
  );
}
