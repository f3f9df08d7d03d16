/**
 * Per-request DataLoaders for fields resolved once per parent (ENGINEERING.md §5): the nodes of a request
 * (several `node` fields) and their risks, notes, neighbour counts and lenses are fetched in one batch each.
 * The nodes come through a loader too, so that all of them resolve at once and their fields batch together.
 * A request's loaders act as its viewer (the services check the viewer on every batch).
 */
import DataLoader from 'dataloader';
import type { Viewer } from '../auth/roles';
import type { LensSummary, NoteView, RiskView } from '../engagements/types';
import { GRAPH_LIMITS } from '../graph/service';
import type { NodeView } from '../graph/node-view';
import type { NeighbourGroup } from '../graph/repository';
import type { Services } from '../services';

export interface Loaders {
  /** Null for a key that names no node. */
  nodes: DataLoader<string, NodeView | null>;
  risks: DataLoader<string, RiskView[]>;
  notes: DataLoader<string, NoteView[]>;
  neighbourGroups: DataLoader<string, NeighbourGroup[]>;
  lenses: DataLoader<string, LensSummary[]>;
}

export function createLoaders(services: Services, viewer: Viewer | null): Loaders {
  const opts = { maxBatchSize: GRAPH_LIMITS.batchMax };
  const g = services.graph;
  return {
    nodes: new DataLoader((keys) => g.nodes(viewer, keys), opts),
    risks: new DataLoader((keys) => g.risks(viewer, keys), opts),
    notes: new DataLoader((keys) => g.notes(viewer, keys), opts),
    neighbourGroups: new DataLoader((keys) => g.neighbourGroups(viewer, keys), opts),
    lenses: new DataLoader((keys) => g.lenses(viewer, keys), opts),
  };
}
