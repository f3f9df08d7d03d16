/**
 * The engagement service: lenses for the incident queue and the lens page, the lifecycle, assignment,
 * notes (with versions), tags, scope edits, the audit trail, and the findings export. GraphQL resolvers
 * call these methods with the request's viewer as `actor`; every method parses its input (BAD_INPUT),
 * checks the role (viewers read, analysts and admins change: FORBIDDEN), and throws AppError codes only.
 *
 * Every change runs in one write transaction that first write-locks its lens (or note), re-reads it,
 * decides, writes and appends its audit entry: concurrent changes of one lens happen one after the other,
 * and the audit trail always agrees with the data.
 */
import { randomUUID } from 'node:crypto';
import type { ManagedTransaction } from 'neo4j-driver';
import type { z } from 'zod';
import { AppError, isAppError } from '../../domain/errors';
import type { GraphGateway } from '../../lib/neo4j';
import { recomputeLenses } from '../../pipeline/engagement/engage';
import { PIPELINE_ACTOR, writeAudit, type AuditInput } from '../../pipeline/engagement/repository';
import { allows, can, type Viewer } from '../auth/roles';
import { renderLensMarkdown, toFinding } from './export';
import { planStatusChange } from './lifecycle';
import { buildTimeline } from './present';
import { EngagementRepository, type Cursor, type LensFilter, type LensSort } from './repository';
import {
  AddNoteInput,
  AddToScopeInput,
  AssignInput,
  AssignManyInput,
  EditNoteInput,
  LensId,
  ListLensesInput,
  NodeKey,
  RemoveFromScopeInput,
  SetStatusInput,
  SetStatusManyInput,
  SetTagsInput,
  TAG,
  TAGS_MAX,
  type Actor,
  type FindingRow,
  type LensChangeOutcome,
  type LensDetail,
  type LensPage,
  type LensSummary,
  type NoteVersionView,
  type NoteView,
} from './types';

export interface EngagementServiceDeps {
  gateway: GraphGateway;
  /** Called after a change of a lens committed (live updates); its failure never fails the change. */
  onChange?: () => Promise<void>;
  /** Wall clock (tests). */
  now?: () => number;
  /** Smaller caps of the lens page (tests of truncation). */
  limits?: Partial<DetailLimits>;
}

/**
 * Caps of one lens page (getLens). `nodes` is what the browser draws: LensGraph draws a 1,000-node lens
 * in under 2 s (docs/benchmarks.md, `npm run bench -- --only ui --ui-nodes N` measures other sizes);
 * beyond the cap the scope is cut (risky first, then by key) and `truncated.nodes` says so. `edges` leaves
 * room for the edges among that many nodes (a 1,000-node lens of the kill chain has 5,447); only edges
 * among the nodes shown count, and beyond the cap the first in a fixed order are kept (more risky ends,
 * then the process tree, then by key: EngagementRepository.scopeEdges) and `truncated.edges` says so.
 */
export const DETAIL_LIMITS = {
  nodes: 2000,
  edges: 6000,
  risks: 2000,
  timeline: 1000,
  timelinePerNode: 60,
  audit: 200,
} as const;

export type DetailLimits = { [K in keyof typeof DETAIL_LIMITS]: number };

function parse<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const r = schema.safeParse(input);
  if (!r.success) {
    const msg = r.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ');
    throw new AppError('BAD_INPUT', `Invalid input: ${msg}`.slice(0, 500));
  }
  return r.data;
}

/**
 * Whether the actor holds `permission`: by role, and for an API request's viewer (server/auth/roles.ts)
 * also by how it signed in, so an `ingest` token (whose viewer carries the role viewer) cannot read.
 */
function allowed(actor: Actor | null, permission: 'read' | 'work'): boolean {
  if (!actor) throw new AppError('UNAUTHENTICATED');
  if (typeof actor.username !== 'string' || !can(actor.role, permission)) return false;
  return 'via' in actor ? allows(actor as Viewer, permission) : true;
}

function requireRead(actor: Actor | null): void {
  if (!allowed(actor, 'read')) throw new AppError('FORBIDDEN');
}

/** Analysts and admins change engagements; viewers only read. `pipeline` is the pipeline's own name. */
function requireWork(actor: Actor | null): string {
  if (!allowed(actor, 'work') || !actor || actor.username === '') {
    throw new AppError('FORBIDDEN', 'Your role does not allow changing engagements.');
  }
  if (actor.username === PIPELINE_ACTOR) throw new AppError('FORBIDDEN', 'This account name is reserved.');
  return actor.username;
}

/**
 * `change` applied to each lens once, in order; a refusal (an AppError: not found, merged, not allowed from
 * its status, a backing service gone) is that lens's outcome, anything else a bug that fails the call.
 */
async function eachLens(
  lenses: readonly string[],
  change: (lens: string) => Promise<LensSummary>,
): Promise<LensChangeOutcome[]> {
  const out: LensChangeOutcome[] = [];
  for (const id of new Set(lenses)) {
    try {
      out.push({ id, lens: await change(id) });
    } catch (e) {
      if (!isAppError(e)) throw e;
      out.push({ id, error: { code: e.code, message: e.message } });
    }
  }
  return out;
}

export function encodeCursor(sort: LensSort, c: Cursor): string {
  return Buffer.from(JSON.stringify({ s: sort, v: c.v, t: c.t, k: c.k })).toString('base64url');
}

export function decodeCursor(sort: LensSort, cursor: string): Cursor {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as {
      s?: unknown;
      v?: unknown;
      t?: unknown;
      k?: unknown;
    };
    const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
    if (v.s === sort && finite(v.v) && finite(v.t) && typeof v.k === 'string') return { v: v.v, t: v.t, k: v.k };
  } catch {
    // fall through
  }
  throw new AppError(
    'BAD_INPUT',
    'The cursor is not valid for this list (it belongs to another sort order or is damaged).',
  );
}

/** Tags as stored: trimmed, inner whitespace folded, first spelling of case-insensitive duplicates kept. */
export function normalizeTags(tags: readonly string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const raw of tags) {
    const t = raw.trim().replace(/\s+/g, ' ');
    if (t === '') continue;
    if (!TAG.test(t))
      throw new AppError(
        'BAD_INPUT',
        `Tag "${t.slice(0, 50)}" is not valid: letters, digits, space and _ . : / - only, up to 40 characters.`,
      );
    const k = t.toLowerCase();
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(t);
  }
  if (out.length > TAGS_MAX) throw new AppError('BAD_INPUT', `At most ${TAGS_MAX} tags per lens.`);
  return out;
}

const sameList = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

export class EngagementService {
  private readonly repo: EngagementRepository;
  private readonly now: () => number;
  private readonly onChange: () => Promise<void>;
  private readonly limits: DetailLimits;

  constructor(deps: EngagementServiceDeps) {
    this.repo = new EngagementRepository(deps.gateway);
    this.now = deps.now ?? Date.now;
    this.onChange = deps.onChange ?? (() => Promise.resolve());
    this.limits = { ...DETAIL_LIMITS, ...deps.limits };
  }

  // ------------------------------------------------------------------------------------------ reads

  async listLenses(actor: Actor | null, input: ListLensesInput = {}): Promise<LensPage> {
    requireRead(actor);
    const q = parse(ListLensesInput, input);
    if (q.minScore !== undefined && q.maxScore !== undefined && q.minScore > q.maxScore) {
      throw new AppError('BAD_INPUT', 'minScore is greater than maxScore.');
    }
    const filter: LensFilter = {
      statuses: q.status,
      type: q.type,
      host: q.host,
      technique: q.technique,
      tag: q.tag,
      minScore: q.minScore,
      maxScore: q.maxScore,
      assignee: q.assignee,
      text: q.text,
      includeMerged: q.includeMerged,
    };
    const cursor = q.after ? decodeCursor(q.sort, q.after) : null;
    const [rows, total] = await Promise.all([
      this.repo.listLenses(filter, q.sort, cursor, q.first + 1),
      this.repo.countLenses(filter),
    ]);
    const lenses = rows.slice(0, q.first);
    const last = lenses[lenses.length - 1];
    const nextCursor =
      rows.length > q.first && last
        ? encodeCursor(q.sort, {
            v: q.sort === 'score' ? last.score : last.updatedAt,
            t: q.sort === 'score' ? last.updatedAt : last.score,
            k: last.id,
          })
        : null;
    return { lenses, nextCursor, total };
  }

  /** A lens with its scope, risks, timeline, notes and audit trail. A merged lens answers with the lens it went into. */
  async getLens(actor: Actor | null, id: string): Promise<LensDetail> {
    requireRead(actor);
    const asked = parse(LensId, id);
    let lens = await this.repo.findLens(asked);
    for (let hops = 0; lens?.mergedInto && hops < 10; hops++)
      lens = await this.repo.findLens(lens.mergedInto);
    if (!lens) throw new AppError('NOT_FOUND', `No lens ${asked}.`);
    const key = lens.id;
    const limits = this.limits;
    const [nodes, risks, sources] = await Promise.all([
      this.repo.scopeNodes(key, limits.nodes + 1),
      this.repo.risks(key, limits.risks),
      this.repo.timelineSources(key, limits.timelinePerNode, limits.nodes),
    ]);
    const shown = nodes.slice(0, limits.nodes);
    const nodesCut = nodes.length > limits.nodes;
    const labels = new Map(shown.map((n) => [n.key, n.label] as const));
    const timeline = buildTimeline(
      {
        ...sources,
        risks: risks.map((r) => ({
          node: r.node,
          nodeLabel: labels.get(r.node) ?? r.node,
          title: r.title,
          score: r.score,
          firstSeen: r.firstSeen,
          lastSeen: r.lastSeen,
          count: r.count,
        })),
      },
      limits.timeline,
    );
    const targets = [key, ...shown.map((n) => n.key)];
    // Edges wait for the nodes: with the scope cut, only edges among the nodes shown may take a place
    // under the edge cap (the browser drops an edge whose end it does not draw).
    const [edges, notes, audit] = await Promise.all([
      this.repo.scopeEdges(key, limits.edges + 1, nodesCut ? shown.map((n) => n.key) : null),
      this.repo.notes(targets),
      this.repo.audit(targets, limits.audit + 1),
    ]);
    return {
      lens,
      redirectedFrom: key === asked ? null : asked,
      nodes: shown,
      edges: edges.slice(0, limits.edges),
      risks,
      timeline: timeline.events,
      notes,
      audit: audit.slice(0, limits.audit),
      truncated: {
        nodes: nodesCut,
        edges: edges.length > limits.edges,
        timeline: timeline.truncated,
        audit: audit.length > limits.audit,
      },
    };
  }

  async nodeNotes(actor: Actor | null, node: string): Promise<NoteView[]> {
    requireRead(actor);
    return this.repo.notes([parse(NodeKey, node)]);
  }

  async noteHistory(actor: Actor | null, noteId: string): Promise<NoteVersionView[]> {
    requireRead(actor);
    const id = parse(EditNoteInput.shape.note, noteId);
    if (!(await this.repo.findNote(id))) throw new AppError('NOT_FOUND', 'No such note.');
    return this.repo.noteVersions(id);
  }

  // ----------------------------------------------------------------------------------------- changes

  /** New -> Investigating -> Closed (resolution + summary) -> Investigating (reopen). */
  async setStatus(actor: Actor | null, input: SetStatusInput): Promise<LensSummary> {
    const who = requireWork(actor);
    const q = parse(SetStatusInput, input);
    return this.changed('engagement.set-status', async (tx) => {
      const now = this.now();
      const cur = await this.lockLive(tx, q.lens, now, false);
      const change = planStatusChange({ key: cur.id, status: cur.status, mergedInto: cur.mergedInto }, q);
      if (change.duplicateOf) {
        const other = await this.repo.lensExists(tx, change.duplicateOf);
        if (!other) throw new AppError('NOT_FOUND', `No lens ${change.duplicateOf} to be a duplicate of.`);
        if (other.duplicateOf === cur.id || other.mergedInto === cur.id) {
          throw new AppError('BAD_INPUT', `${change.duplicateOf} is itself a duplicate of this lens.`);
        }
      }
      await this.repo.applyStatus(tx, cur.id, change, who, now);
      await this.audit(tx, now, {
        target: cur.id,
        actor: who,
        action: change.action,
        before: {
          status: cur.status,
          resolution: cur.resolution,
          summary: cur.resolutionSummary,
          duplicateOf: cur.duplicateOf,
        },
        after: {
          status: change.status,
          resolution: change.resolution,
          summary: change.summary,
          duplicateOf: change.duplicateOf,
        },
      });
      return (await this.repo.lockLens(tx, cur.id, now))!;
    });
  }

  async assign(actor: Actor | null, input: AssignInput): Promise<LensSummary> {
    const who = requireWork(actor);
    const q = parse(AssignInput, input);
    await this.requireAssignable(q.assignee);
    return this.assignChecked(who, q.lens, q.assignee);
  }

  /** NOT_FOUND unless `assignee` is null (unassign) or an enabled account. */
  private async requireAssignable(assignee: string | null): Promise<void> {
    if (assignee !== null && !(await this.repo.accountActive(assignee))) {
      throw new AppError('NOT_FOUND', `No active account named ${assignee}.`);
    }
  }

  /** assign once the actor and the assignee have been checked. */
  private async assignChecked(who: string, lens: string, assignee: string | null): Promise<LensSummary> {
    return this.changed('engagement.assign', async (tx) => {
      const now = this.now();
      const cur = await this.lockLive(tx, lens, now);
      if (cur.assignee === assignee) return cur;
      await this.repo.setAssignee(tx, cur.id, assignee, now);
      await this.audit(tx, now, {
        target: cur.id,
        actor: who,
        action: 'assign',
        before: { assignee: cur.assignee },
        after: { assignee },
      });
      return (await this.repo.lockLens(tx, cur.id, now))!;
    });
  }

  /**
   * One status change for several lenses (the incident list's triage): each lens on its own, in its own
   * transaction and with its own audit entry, exactly as setStatus; a lens that cannot take the change (gone,
   * merged, already in that status) is reported with its error and the others go ahead.
   */
  async setStatusMany(actor: Actor | null, input: SetStatusManyInput): Promise<LensChangeOutcome[]> {
    requireWork(actor);
    const { lenses, ...change } = parse(SetStatusManyInput, input);
    return eachLens(lenses, (lens) => this.setStatus(actor, { lens, ...change }));
  }

  /** assign for several lenses, each on its own (setStatusMany). */
  async assignMany(actor: Actor | null, input: AssignManyInput): Promise<LensChangeOutcome[]> {
    const who = requireWork(actor);
    const { lenses, assignee } = parse(AssignManyInput, input);
    // The assignee is checked once for all lenses, not again per lens.
    await this.requireAssignable(assignee);
    return eachLens(lenses, (lens) => this.assignChecked(who, lens, assignee));
  }

  async setTags(actor: Actor | null, input: SetTagsInput): Promise<LensSummary> {
    const who = requireWork(actor);
    const q = parse(SetTagsInput, input);
    const tags = normalizeTags(q.tags);
    return this.changed('engagement.set-tags', async (tx) => {
      const now = this.now();
      const cur = await this.lockLive(tx, q.lens, now);
      if (sameList(cur.tags, tags)) return cur;
      await this.repo.setTags(tx, cur.id, tags, now);
      await this.audit(tx, now, {
        target: cur.id,
        actor: who,
        action: 'tags.set',
        before: { tags: cur.tags },
        after: { tags },
      });
      return (await this.repo.lockLens(tx, cur.id, now))!;
    });
  }

  /** A markdown note on a lens or on a node (stored raw; rendering is the UI's job). */
  async addNote(actor: Actor | null, input: AddNoteInput): Promise<NoteView> {
    const who = requireWork(actor);
    const q = parse(AddNoteInput, input);
    const text = q.text.trim();
    if (!text) throw new AppError('BAD_INPUT', 'A note needs text.');
    return this.changed('engagement.add-note', async (tx) => {
      const now = this.now();
      let target: string;
      let targetKind: 'lens' | 'node';
      if ('lens' in q.target) {
        target = (await this.lockLive(tx, q.target.lens, now)).id;
        targetKind = 'lens';
      } else {
        target = q.target.node;
        targetKind = 'node';
        if (!(await this.repo.nodeExistsTx(tx, target)))
          throw new AppError('NOT_FOUND', `No node ${target}.`);
      }
      const note = await this.repo.createNote(
        tx,
        { id: randomUUID(), target, targetKind, text, author: who },
        now,
      );
      await this.audit(tx, now, {
        target,
        targetKind,
        actor: who,
        action: 'note.add',
        after: { note: note.id, version: 1, text },
      });
      return note;
    });
  }

  /** Edits keep every earlier text as a version. Only the author (or an admin) edits a note. */
  async editNote(actor: Actor | null, input: EditNoteInput): Promise<NoteView> {
    const who = requireWork(actor);
    const q = parse(EditNoteInput, input);
    const text = q.text.trim();
    if (!text) throw new AppError('BAD_INPUT', 'A note needs text.');
    return this.changed('engagement.edit-note', async (tx) => {
      const now = this.now();
      const cur = await this.repo.lockNote(tx, q.note);
      if (!cur) throw new AppError('NOT_FOUND', 'No such note.');
      if (cur.author !== who && actor?.role !== 'admin')
        throw new AppError('FORBIDDEN', 'Only the author or an admin edits a note.');
      if (cur.text === text) return cur;
      const note = await this.repo.updateNote(tx, cur.id, text, who, now);
      if (cur.targetKind === 'lens') await this.repo.touchLens(tx, cur.target, now);
      await this.audit(tx, now, {
        target: cur.target,
        targetKind: cur.targetKind,
        actor: who,
        action: 'note.edit',
        before: { note: cur.id, version: cur.version, text: cur.text },
        after: { note: note.id, version: note.version, text: note.text },
      });
      return note;
    });
  }

  /**
   * Adds a node to the lens's scope, or changes its role. Without a role a new node joins as context and a
   * node already in the scope keeps its role: adding what the pipeline marked risky must not demote it.
   */
  async addToScope(actor: Actor | null, input: AddToScopeInput): Promise<LensSummary> {
    const who = requireWork(actor);
    const q = parse(AddToScopeInput, input);
    return this.changed('engagement.add-to-scope', async (tx) => {
      const now = this.now();
      const cur = await this.lockLive(tx, q.lens, now);
      if (!(await this.repo.nodeExistsTx(tx, q.node))) throw new AppError('NOT_FOUND', `No node ${q.node}.`);
      const prev = await this.repo.scopeOf(tx, cur.id, q.node);
      const role = q.role ?? prev?.role ?? 'context';
      if (prev?.role === role) return cur;
      await this.repo.clearExclusion(tx, cur.id, q.node);
      await this.repo.setScope(tx, cur.id, q.node, role, who, now);
      await this.audit(tx, now, {
        target: cur.id,
        actor: who,
        action: prev ? 'scope.role' : 'scope.add',
        before: { node: q.node, role: prev?.role ?? null },
        after: { node: q.node, role },
      });
      await recomputeLenses(tx, [cur.id], now);
      return (await this.repo.lockLens(tx, cur.id, now))!;
    });
  }

  /** Removes a node from the lens's scope; the pipeline will not add it back to this lens. */
  async removeFromScope(actor: Actor | null, input: RemoveFromScopeInput): Promise<LensSummary> {
    const who = requireWork(actor);
    const q = parse(RemoveFromScopeInput, input);
    return this.changed('engagement.remove-from-scope', async (tx) => {
      const now = this.now();
      const cur = await this.lockLive(tx, q.lens, now);
      const prev = await this.repo.scopeOf(tx, cur.id, q.node);
      if (!prev) throw new AppError('NOT_FOUND', `${q.node} is not in the scope of ${cur.id}.`);
      await this.repo.removeScope(tx, cur.id, q.node, who, now);
      await this.audit(tx, now, {
        target: cur.id,
        actor: who,
        action: 'scope.remove',
        before: { node: q.node, role: prev.role, addedBy: prev.addedBy },
        after: { node: q.node, role: null },
      });
      await recomputeLenses(tx, [cur.id], now);
      return (await this.repo.lockLens(tx, cur.id, now))!;
    });
  }

  // ------------------------------------------------------------------------------------------ export

  /** Every risk on a node with its lens (see scripts/findings.ts), in risk-key order, paged. */
  async *exportFindings(
    actor: Actor | null,
    opts: { lens?: string; pageSize?: number } = {},
  ): AsyncGenerator<FindingRow> {
    requireRead(actor);
    let lens: string | undefined;
    if (opts.lens) {
      let l = await this.repo.findLens(parse(LensId, opts.lens));
      for (let hops = 0; l?.mergedInto && hops < 10; hops++) l = await this.repo.findLens(l.mergedInto);
      if (!l) throw new AppError('NOT_FOUND', `No lens ${opts.lens}.`);
      lens = l.id;
    }
    const size = Math.min(Math.max(opts.pageSize ?? 2000, 1), 10_000);
    let after = '';
    for (;;) {
      const rows = await this.repo.exportRows(after, size, lens);
      for (const r of rows) yield toFinding(r);
      if (rows.length < size) return;
      after = rows[rows.length - 1]!.risk.key;
    }
  }

  /** A lens as a markdown ticket: summary, timeline, nodes, risks, notes, resolution. */
  async lensReport(actor: Actor | null, id: string): Promise<string> {
    return renderLensMarkdown(await this.getLens(actor, id));
  }

  /** Ids of live engagement lenses, strongest first (for reports of all of them). */
  async engagementIds(actor: Actor | null, limit = 1000): Promise<string[]> {
    requireRead(actor);
    return this.repo.engagementIds(Math.min(Math.max(limit, 1), 10_000));
  }

  // ----------------------------------------------------------------------------------------- helpers

  /** A write transaction that changes lenses; `onChange` runs once it committed. */
  private async changed<T>(operation: string, work: (tx: ManagedTransaction) => Promise<T>): Promise<T> {
    const out = await this.repo.write(operation, work);
    await this.onChange().catch(() => undefined);
    return out;
  }

  private async lockLive(
    tx: ManagedTransaction,
    id: string,
    now: number,
    refuseMerged = true,
  ): Promise<LensSummary> {
    const cur = await this.repo.lockLens(tx, id, now);
    if (!cur) throw new AppError('NOT_FOUND', `No lens ${id}.`);
    if (refuseMerged && cur.mergedInto) {
      throw new AppError('CONFLICT', `Lens ${id} was merged into ${cur.mergedInto}; work in that lens.`, {
        mergedInto: cur.mergedInto,
      });
    }
    return cur;
  }

  private async audit(
    tx: ManagedTransaction,
    now: number,
    e: Omit<AuditInput, 'targetKind'> & { targetKind?: AuditInput['targetKind'] },
  ): Promise<void> {
    await writeAudit(tx, [{ targetKind: 'lens', ...e }], now);
  }
}
