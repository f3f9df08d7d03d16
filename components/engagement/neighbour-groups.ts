/** Readable names for neighbour groups (edge kind + direction), for the Expand list. Tested. */
import type { Direction } from './api';

const NAMES: Record<string, Partial<Record<Direction, string>>> = {
  PARENT_OF: { out: 'Child processes', in: 'Parent process' },
  CONNECTED_TO: { out: 'Network connections', in: 'Processes connecting here' },
  EXECUTED: { out: 'Executed image', in: 'Processes running this file' },
  LOADED: { out: 'Loaded modules', in: 'Processes loading this file' },
  CREATED: { out: 'Files created', in: 'Created by' },
  MODIFIED: { out: 'Files modified', in: 'Modified by' },
  DELETED: { out: 'Files deleted', in: 'Deleted by' },
  READ: { out: 'Files read', in: 'Read by' },
  RESOLVED: { out: 'Domains resolved', in: 'Resolved by' },
  RESOLVES_TO: { out: 'Addresses', in: 'Domains' },
  ACCESSED: { out: 'Processes accessed', in: 'Accessed by' },
  INJECTED_INTO: { out: 'Injected into', in: 'Injected by' },
  RUNS_ON: { out: 'Host', in: 'Processes on this host' },
  RAN_AS: { out: 'User', in: 'Processes run as this user' },
  SET_VALUE: { out: 'Registry values set', in: 'Set by' },
  CREATED_KEY: { out: 'Registry keys created', in: 'Created by' },
  ENDPOINT_OF: { out: 'Address', in: 'Endpoints' },
};

export function groupName(edgeKind: string, direction: Direction): string {
  const arrow = direction === 'out' ? '→' : direction === 'in' ? '←' : '↔';
  const known = NAMES[edgeKind]?.[direction];
  return known ? `${known} (${edgeKind} ${arrow})` : `${edgeKind} ${arrow}`;
}
