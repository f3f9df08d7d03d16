/**
 * Inputs (zod, parsed by the service: they come from GraphQL arguments) and outputs of the engagement
 * service. Outputs are plain objects in camelCase; times are epoch milliseconds.
 */
import { z } from 'zod';
import { LensStatus, LensType, Resolution } from '../../domain/detection';
import type { ErrorCode } from '../../domain/errors';
import { MAX_SCORE_FILTER } from '../../domain/lens-score';
import { BULK_LENSES_MAX } from '../../domain/lens-triage';
import type { EdgeKind, NodeKind, PropValue } from '../../domain/model';
import type { Role } from '../auth/roles';

/** Who acts: the GraphQL context's viewer (username and role) fits. */
export interface Actor {
  username: string;
  role: Role;
}

export const LensId = z
  .string()
  .min(1)
  .max(200)
  .regex(/^(eng|asset):[^\s]+$/, 'not a lens id');

export const NodeKey = z
  .string()
  .min(1)
  .max(2000)
  .regex(/^[A-Za-z]+:/, 'not a node key');

export const PAGE_SIZE_MAX = 100;
export const PAGE_SIZE_DEFAULT = 25;

export const ListLensesInput = z
  .object({
    status: z.array(LensStatus).max(3).optional(),
    type: LensType.optional(),
    host: z.string().min(1).max(255).optional(),
    technique: z
      .string()
      .regex(/^T\d{4}(\.\d{3})?$/)
      .optional(),
    tag: z.string().min(1).max(40).optional(),
    minScore: z.number().min(0).max(MAX_SCORE_FILTER).optional(),
    maxScore: z.number().min(0).max(MAX_SCORE_FILTER).optional(),
    /** A username, or null for unassigned lenses. */
    assignee: z.string().min(1).max(100).nullable().optional(),
    /** Case-insensitive substring of the title, id, tags or hosts. */
    text: z.string().min(1).max(200).optional(),
    includeMerged: z.boolean().optional(),
    sort: z.enum(['score', 'lastActivity']).default('score'),
    first: z.number().int().min(1).max(PAGE_SIZE_MAX).default(PAGE_SIZE_DEFAULT),
    after: z.string().max(500).optional(),
  })
  .strict();
export type ListLensesInput = z.input<typeof ListLensesInput>;

export const SetStatusInput = z
  .object({
    lens: LensId,
    status: LensStatus,
    resolution: Resolution.nullable().optional(),
    summary: z.string().max(20_000).nullable().optional(),
    duplicateOf: LensId.nullable().optional(),
  })
  .strict();
export type SetStatusInput = z.input<typeof SetStatusInput>;

export const AssignInput = z
  .object({ lens: LensId, assignee: z.string().min(1).max(100).nullable() })
  .strict();
export type AssignInput = z.input<typeof AssignInput>;

const BulkLenses = z.array(LensId).min(1).max(BULK_LENSES_MAX);

/** A status change for several lenses; a duplicate names one lens it duplicates, so it is not a bulk change. */
export const SetStatusManyInput = SetStatusInput.omit({ lens: true, duplicateOf: true })
  .extend({ lenses: BulkLenses })
  .refine((v) => v.resolution !== 'Duplicate', {
    message: 'Duplicate names the one lens it duplicates: close duplicates one at a time.',
    path: ['resolution'],
  });
export type SetStatusManyInput = z.input<typeof SetStatusManyInput>;

export const AssignManyInput = AssignInput.omit({ lens: true }).extend({ lenses: BulkLenses });
export type AssignManyInput = z.input<typeof AssignManyInput>;

/** What a bulk change did to one lens: the lens afterwards, or why it was refused. */
export type LensChangeOutcome =
  | { id: string; lens: LensSummary; error?: undefined }
  | { id: string; lens?: undefined; error: { code: ErrorCode; message: string } };

export const NOTE_MAX = 20_000;
export const NoteTarget = z.union([
  z.object({ lens: LensId }).strict(),
  z.object({ node: NodeKey }).strict(),
]);
export const AddNoteInput = z.object({ target: NoteTarget, text: z.string().max(NOTE_MAX) }).strict();
export type AddNoteInput = z.input<typeof AddNoteInput>;
export const EditNoteInput = z.object({ note: z.string().uuid(), text: z.string().max(NOTE_MAX) }).strict();
export type EditNoteInput = z.input<typeof EditNoteInput>;

export const TAG = /^[\p{L}\p{N}][\p{L}\p{N} _.:/-]{0,39}$/u;
export const TAGS_MAX = 20;
export const SetTagsInput = z.object({ lens: LensId, tags: z.array(z.string().max(100)).max(100) }).strict();
export type SetTagsInput = z.input<typeof SetTagsInput>;

export const ScopeRole = z.enum(['risky', 'context']);
export type ScopeRole = z.infer<typeof ScopeRole>;
export const AddToScopeInput = z
  .object({ lens: LensId, node: NodeKey, role: ScopeRole.optional() })
  .strict();
export type AddToScopeInput = z.input<typeof AddToScopeInput>;
export const RemoveFromScopeInput = z.object({ lens: LensId, node: NodeKey }).strict();
export type RemoveFromScopeInput = z.input<typeof RemoveFromScopeInput>;

// ------------------------------------------------------------------------------------------- outputs

export interface LensSummary {
  id: string;
  type: LensType;
  title: string;
  status: LensStatus;
  score: number;
  hosts: string[];
  techniques: string[];
  tags: string[];
  assignee: string | null;
  riskCount: number;
  riskyCount: number;
  nodeCount: number;
  detectionCount: number;
  hitCount: number;
  resolution: Resolution | null;
  resolutionSummary: string | null;
  duplicateOf: string | null;
  mergedInto: string | null;
  reopenedByPipeline: boolean;
  reopenReason: string | null;
  createdAt: number;
  updatedAt: number;
  statusChangedAt: number | null;
  closedAt: number | null;
  closedBy: string | null;
  /** Event times of the lens's risks. */
  firstSeen: number | null;
  lastSeen: number | null;
}

export interface LensPage {
  lenses: LensSummary[];
  /** Pass as `after` for the next page; null on the last page. */
  nextCursor: string | null;
  total: number;
}

export interface ScopeNode {
  key: string;
  kind: NodeKind | null;
  role: ScopeRole;
  addedBy: string | null;
  addedAt: number | null;
  host: string | null;
  /** Short display text: image file name, path, ip:port, name. */
  label: string;
  /** Highest risk score on the node (0 without risks). */
  riskScore: number;
  props: Record<string, PropValue>;
}

export interface ScopeEdge {
  kind: EdgeKind;
  from: string;
  to: string;
  count: number | null;
  firstSeen: number | null;
  lastSeen: number | null;
}

export interface RiskView {
  key: string;
  node: string;
  detection: string;
  source: string;
  title: string;
  summary: string;
  score: number;
  techniques: string[];
  count: number;
  firstSeen: number | null;
  lastSeen: number | null;
}

export interface TimelineEvent {
  time: number;
  /** process.created, process.terminated, detection, or the edge kind (CREATED, CONNECTED_TO, ...). */
  kind: string;
  node: string;
  target: string | null;
  text: string;
}

export interface NoteView {
  id: string;
  target: string;
  targetKind: 'lens' | 'node';
  text: string;
  author: string;
  createdAt: number;
  updatedAt: number;
  version: number;
  editedBy: string | null;
  movedFrom: string | null;
}

export interface NoteVersionView {
  note: string;
  version: number;
  text: string;
  author: string;
  at: number;
}

export interface AuditView {
  id: string;
  target: string;
  targetKind: 'lens' | 'node';
  at: number;
  actor: string;
  action: string;
  before: unknown;
  after: unknown;
}

export interface LensDetail {
  lens: LensSummary;
  /** The id asked for, when that lens was merged into this one. */
  redirectedFrom: string | null;
  nodes: ScopeNode[];
  edges: ScopeEdge[];
  risks: RiskView[];
  timeline: TimelineEvent[];
  notes: NoteView[];
  audit: AuditView[];
  truncated: { nodes: boolean; edges: boolean; timeline: boolean; audit: boolean };
}

/** One exported finding (scripts/findings.ts --format jsonl): a risk on a node, with its lens. */
export interface FindingRow {
  lens: string | null;
  lens_type: LensType | null;
  lens_score: number | null;
  status: LensStatus | null;
  detection: string;
  title: string;
  risk_score: number;
  techniques: string[];
  node_kind: NodeKind | null;
  node_key: string;
  host: string | null;
  process_guid: string | null;
  image: string | null;
  command_line: string | null;
  first_seen: string | null;
  last_seen: string | null;
  dataset: string | null;
}
