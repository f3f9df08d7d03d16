/**
 * The incidents list's filters and sort, held in the URL query string so a filtered list can be shared
 * by link. Pure: parse from and write to URLSearchParams. Tested in lens-filters.test.ts.
 */
import { MAX_SCORE_FILTER } from '../../domain/lens-score';
import { LENS_STATUSES, type LensFilter, type LensSort, type LensStatus } from '../engagement/api';

/** Which lenses: engagements (the default: incidents to work), per-host asset lenses, or both. */
export type TypeChoice = 'engagement' | 'asset' | 'all';

export interface ListState {
  /** Everything but the type; `type` below decides that. */
  filter: LensFilter;
  sort: LensSort;
  type: TypeChoice;
}

const isStatus = (s: string): s is LensStatus => (LENS_STATUSES as readonly string[]).includes(s);
const TECHNIQUE = /^T\d{4}(\.\d{3})?$/;

export function parseListState(params: URLSearchParams): ListState {
  const filter: LensFilter = {};
  const status = params.getAll('status').flatMap((s) => s.split(',')).filter(isStatus);
  if (status.length) filter.status = [...new Set(status)];
  const host = params.get('host')?.trim();
  if (host) filter.host = host.slice(0, 255);
  const technique = params.get('technique')?.trim().toUpperCase();
  if (technique && TECHNIQUE.test(technique)) filter.technique = technique;
  const min = Number(params.get('minScore'));
  if (params.get('minScore') && Number.isFinite(min) && min > 0) filter.minScore = Math.min(MAX_SCORE_FILTER, min);
  // "-" in the URL selects unassigned lenses (the API's empty string).
  const assignee = params.get('assignee');
  if (assignee === '-') filter.assignee = '';
  else if (assignee?.trim()) filter.assignee = assignee.trim().slice(0, 100);
  const text = params.get('q')?.trim();
  if (text) filter.text = text.slice(0, 200);
  const sort: LensSort = params.get('sort') === 'lastActivity' ? 'lastActivity' : 'score';
  const t = params.get('type');
  const type: TypeChoice = t === 'asset' || t === 'all' ? t : 'engagement';
  return { filter, sort, type };
}

export function listStateToParams(state: ListState): URLSearchParams {
  const p = new URLSearchParams();
  const f = state.filter;
  if (f.status?.length) p.set('status', f.status.join(','));
  if (f.host) p.set('host', f.host);
  if (f.technique) p.set('technique', f.technique);
  if (f.minScore !== undefined) p.set('minScore', String(f.minScore));
  if (f.assignee !== undefined) p.set('assignee', f.assignee === '' ? '-' : f.assignee);
  if (f.text) p.set('q', f.text);
  if (state.sort !== 'score') p.set('sort', state.sort);
  if (state.type !== 'engagement') p.set('type', state.type);
  return p;
}

/** The API's LensFilter input for this state (the empty string for "unassigned" is kept). */
export function apiFilter(state: ListState): LensFilter {
  const out: LensFilter = { ...state.filter };
  if (state.type !== 'all') out.type = state.type;
  for (const k of Object.keys(out) as Array<keyof LensFilter>) if (out[k] === undefined) delete out[k];
  return out;
}

export function isFiltered(filter: LensFilter): boolean {
  return Object.values(filter).some((v) => v !== undefined);
}
