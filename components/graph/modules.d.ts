/** Type declarations for the two cytoscape add-ons that ship none. */
declare module 'react-cytoscapejs' {
  import type { Component, CSSProperties } from 'react';
  import type { Core, ElementDefinition, StylesheetJson } from 'cytoscape';

  export interface CytoscapeComponentProps {
    id?: string;
    className?: string;
    style?: CSSProperties;
    elements: ElementDefinition[];
    stylesheet?: StylesheetJson;
    layout?: Record<string, unknown>;
    cy?: (cy: Core) => void;
    zoom?: number;
    pan?: { x: number; y: number };
    minZoom?: number;
    maxZoom?: number;
    boxSelectionEnabled?: boolean;
    autounselectify?: boolean;
    wheelSensitivity?: number;
    pixelRatio?: number | 'auto';
    hideEdgesOnViewport?: boolean;
    textureOnViewport?: boolean;
    motionBlur?: boolean;
  }

  export default class CytoscapeComponent extends Component<CytoscapeComponentProps> {}
}
