/** Thin resolvers: destructure arguments and context, call a service, shape the answer. */
import { GraphQLScalarType, Kind, type ValueNode } from 'graphql';
import type { LensStatus, LensType, Resolution } from '../../domain/detection';
import { AppError } from '../../domain/errors';
import { STAGES } from '../../domain/stages';
import type { RejectedRecord, UploadProgress } from '../../lib/uploads';
import type { AccountSummary } from '../auth/account-repository';
import type { ApiTokenRecord } from '../auth/api-token';
import { clearSessionCookie, sessionCookie } from '../auth/cookies';
import { requirePermission } from '../auth/roles';
import type {
  AuditView,
  LensChangeOutcome,
  LensDetail,
  LensSummary,
  NoteVersionView,
  NoteView,
  RiskView,
  ScopeEdge,
  ScopeNode,
  TimelineEvent,
} from '../engagements/types';
import type { AnalyzerReport, SigmaReport } from '../graph/detections';
import type { EdgeView, NodeView } from '../graph/node-view';
import type { NeighbourPage } from '../graph/service';
import type { Health } from '../health/health-service';
import type { LensEvent } from '../live/lens-feed';
import type { GraphQLContext } from './context';

type NoArgs = Record<string, never>;
const iso = (ms: number) => new Date(ms).toISOString();

const account = (a: AccountSummary) => ({ ...a, createdAt: iso(a.createdAt) });

const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));

const apiToken = (t: ApiTokenRecord) => ({
  ...t,
  createdAt: iso(t.createdAt),
  expiresAt: isoOrNull(t.expiresAt),
  lastUsedAt: isoOrNull(t.lastUsedAt),
  active: !t.revoked && (t.expiresAt === null || t.expiresAt > Date.now()),
});

const keyCounts = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([key, count]) => ({ key, count }))
    .sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

export const upload = (p: UploadProgress) => ({
  id: p.id,
  name: p.name,
  createdAt: iso(p.createdAt),
  createdBy: p.createdBy,
  sealed: p.sealed,
  totalChunks: p.totalChunks,
  stages: STAGES.map((stage) => ({ stage, done: p.stages[stage] ?? 0, total: p.totalChunks })),
  records: {
    read: p.records.read,
    accepted: p.records.accepted,
    skipped: sum(p.records.skipped),
    rejected: sum(p.records.rejected),
    skippedByType: keyCounts(p.records.skipped),
    rejectedByReason: keyCounts(p.records.rejected),
  },
  graph: { nodesWritten: p.graph.nodesWritten, edgesWritten: p.graph.edgesWritten },
  findings: p.findings,
  done: p.done,
  failed: p.failed,
  error: p.error ?? null,
});

const rejectedRecord = ({ source, recordNo, reason, firstBytes }: RejectedRecord) => ({
  source,
  recordNo,
  reason,
  firstBytes,
});

const health = (h: Health) => ({
  ...h,
  checkedAt: iso(h.checkedAt),
  workers: h.workers.map((w) => ({ ...w, startedAt: iso(w.startedAt), lastSeen: iso(w.lastSeen) })),
});


// ---------------------------------------------------------------------------- engagements and graph

export const lens = (l: LensSummary) => ({
  ...l,
  createdAt: iso(l.createdAt),
  updatedAt: iso(l.updatedAt),
  statusChangedAt: isoOrNull(l.statusChangedAt),
  closedAt: isoOrNull(l.closedAt),
  firstSeen: isoOrNull(l.firstSeen),
  lastSeen: isoOrNull(l.lastSeen),
});

const node = ({ key, kind, host, label, riskScore, props }: NodeView) => ({ key, kind, host, label, riskScore, props });

const scopeNode = (n: ScopeNode) => ({
  node: node(n),
  role: n.role,
  addedBy: n.addedBy,
  addedAt: isoOrNull(n.addedAt),
});

const edge = (e: ScopeEdge | EdgeView) => ({ ...e, firstSeen: isoOrNull(e.firstSeen), lastSeen: isoOrNull(e.lastSeen) });

const risk = (r: RiskView) => ({ ...r, firstSeen: isoOrNull(r.firstSeen), lastSeen: isoOrNull(r.lastSeen) });

const timelineEvent = (t: TimelineEvent) => ({ ...t, time: iso(t.time) });

const note = (n: NoteView) => ({ ...n, createdAt: iso(n.createdAt), updatedAt: iso(n.updatedAt) });

const noteVersion = ({ version, text, author, at }: NoteVersionView) => ({ version, text, author, at: iso(at) });

const auditEntry = (a: AuditView) => ({ ...a, at: iso(a.at) });

const outcome = (o: LensChangeOutcome) => ({ id: o.id, lens: o.lens ? lens(o.lens) : null, error: o.error ?? null });

const lensDetail = (d: LensDetail) => ({
  lens: lens(d.lens),
  redirectedFrom: d.redirectedFrom,
  nodes: d.nodes.map(scopeNode),
  edges: d.edges.map(edge),
  risks: d.risks.map(risk),
  timeline: d.timeline.map(timelineEvent),
  notes: d.notes.map(note),
  audit: d.audit.map(auditEntry),
  truncated: d.truncated,
});

const neighbourPage = (p: NeighbourPage) => ({ ...p, nodes: p.nodes.map(node), edges: p.edges.map(edge) });

const sigmaReport = (r: SigmaReport) => ({ ...r, loadedAt: isoOrNull(r.loadedAt) });

const analyzerReport = (r: AnalyzerReport) => ({ ...r, loadedAt: iso(r.loadedAt) });

/** Arguments as the services take them: null (GraphQL's "not given") becomes absent. */
function given<T extends Record<string, unknown>>(args: T): { [K in keyof T]?: Exclude<T[K], null> } {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(args)) if (v !== null && v !== undefined) out[k] = v;
  return out as { [K in keyof T]?: Exclude<T[K], null> };
}

type Maybe<T> = T | null | undefined;

interface LensFilterArg {
  status?: Maybe<LensStatus[]>;
  type?: Maybe<LensType>;
  host?: Maybe<string>;
  technique?: Maybe<string>;
  tag?: Maybe<string>;
  minScore?: Maybe<number>;
  maxScore?: Maybe<number>;
  assignee?: Maybe<string>;
  text?: Maybe<string>;
  includeMerged?: Maybe<boolean>;
}

/** The lens filter of the API: `assignee: ""` selects unassigned lenses (the service's null). */
function lensFilter(f: Maybe<LensFilterArg>) {
  if (!f) return {};
  const { assignee, ...rest } = f;
  return { ...given(rest), ...(assignee === '' ? { assignee: null } : assignee ? { assignee } : {}) };
}

/** Output-only JSON (node properties, audit before/after); as input it takes any JSON value. */
const JSONScalar = new GraphQLScalarType({
  name: 'JSON',
  serialize: (v) => v,
  parseValue: (v) => v,
  parseLiteral: function literal(ast: ValueNode): unknown {
    switch (ast.kind) {
      case Kind.STRING:
      case Kind.BOOLEAN:
        return ast.value;
      case Kind.INT:
      case Kind.FLOAT:
        return Number(ast.value);
      case Kind.LIST:
        return ast.values.map(literal);
      case Kind.OBJECT:
        return Object.fromEntries(ast.fields.map((f) => [f.name.value, literal(f.value)]));
      default:
        return null;
    }
  },
});

/** Null for a lens that does not exist (the schema's answer), the error otherwise. */
async function orNull<T>(p: Promise<T>): Promise<T | null> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof AppError && err.code === 'NOT_FOUND') return null;
    throw err;
  }
}

type NodeDetailParent = { node: ReturnType<typeof node> };

export const resolvers = {
  JSON: JSONScalar,
  Query: {
    me: (_: unknown, _args: NoArgs, { viewer }: GraphQLContext) => {
      const { username, role } = requirePermission(viewer, 'read');
      return { username, role };
    },
    health: async (_: unknown, _args: NoArgs, { services, viewer }: GraphQLContext) =>
      health(await services.health.health(viewer)),
    users: async (_: unknown, _args: NoArgs, { services, viewer }: GraphQLContext) =>
      (await services.users.list(viewer)).map(account),
    apiTokens: async (_: unknown, _args: NoArgs, { services, viewer }: GraphQLContext) =>
      (await services.apiTokens.list(viewer)).map(apiToken),
    uploads: async (_: unknown, { limit }: { limit?: number | null }, { services, viewer }: GraphQLContext) =>
      (await services.uploads.list(viewer, limit)).map(upload),
    upload: async (_: unknown, { id }: { id: string }, { services, viewer }: GraphQLContext) => {
      const p = await services.uploads.get(viewer, id);
      return p ? upload(p) : null;
    },
    rejectedRecords: async (
      _: unknown,
      { uploadId, limit }: { uploadId: string; limit?: number | null },
      { services, viewer }: GraphQLContext,
    ) => (await services.uploads.rejected(viewer, uploadId, limit)).map(rejectedRecord),

    lenses: async (
      _: unknown,
      args: {
        filter?: Maybe<LensFilterArg>;
        sort?: Maybe<'score' | 'lastActivity'>;
        first?: Maybe<number>;
        after?: Maybe<string>;
      },
      { services, viewer }: GraphQLContext,
    ) => {
      const { sort, first, after } = given({ sort: args.sort, first: args.first, after: args.after });
      const page = await services.engagements.listLenses(viewer, {
        ...lensFilter(args.filter),
        ...(sort ? { sort } : {}),
        ...(first !== undefined ? { first } : {}),
        ...(after ? { after } : {}),
      });
      return { ...page, lenses: page.lenses.map(lens) };
    },
    lens: async (_: unknown, { id }: { id: string }, { services, viewer }: GraphQLContext) => {
      const d = await orNull(services.engagements.getLens(viewer, id));
      return d ? lensDetail(d) : null;
    },
    lensReport: (_: unknown, { id }: { id: string }, { services, viewer }: GraphQLContext) =>
      services.engagements.lensReport(viewer, id),
    node: async (_: unknown, { key }: { key: string }, { loaders }: GraphQLContext) => {
      const found = await loaders.nodes.load(key);
      return found ? { node: node(found) } : null;
    },
    neighbours: async (
      _: unknown,
      args: { key: string; edgeKind?: Maybe<string>; direction?: Maybe<string>; limit?: Maybe<number>; after?: Maybe<string> },
      { services, viewer }: GraphQLContext,
    ) => neighbourPage(await services.graph.neighbours(viewer, args)),
    path: async (
      _: unknown,
      args: { from: string; to: string; maxHops?: Maybe<number> },
      { services, viewer }: GraphQLContext,
    ) => {
      const p = await services.graph.path(viewer, args);
      return p ? { nodes: p.nodes.map(node), edges: p.edges.map(edge) } : null;
    },
    search: async (
      _: unknown,
      args: { text: string; kinds?: Maybe<string[]>; limit?: Maybe<number> },
      { services, viewer }: GraphQLContext,
    ) => (await services.graph.search(viewer, args)).map(node),
    noteHistory: async (_: unknown, { id }: { id: string }, { services, viewer }: GraphQLContext) =>
      (await services.engagements.noteHistory(viewer, id)).map(noteVersion),
    sigmaReport: async (_: unknown, _args: NoArgs, { services, viewer }: GraphQLContext) =>
      sigmaReport(await services.detections.sigmaReport(viewer)),
    analyzerReport: async (_: unknown, _args: NoArgs, { services, viewer }: GraphQLContext) =>
      analyzerReport(await services.detections.analyzerReport(viewer)),
  },
  NodeDetail: {
    risks: async ({ node: n }: NodeDetailParent, _args: NoArgs, { loaders }: GraphQLContext) =>
      (await loaders.risks.load(n.key)).map(risk),
    notes: async ({ node: n }: NodeDetailParent, _args: NoArgs, { loaders }: GraphQLContext) =>
      (await loaders.notes.load(n.key)).map(note),
    neighbourGroups: ({ node: n }: NodeDetailParent, _args: NoArgs, { loaders }: GraphQLContext) =>
      loaders.neighbourGroups.load(n.key),
    lenses: async ({ node: n }: NodeDetailParent, _args: NoArgs, { loaders }: GraphQLContext) =>
      (await loaders.lenses.load(n.key)).map(lens),
  },
  Subscription: {
    uploadProgress: {
      subscribe: (_: unknown, { id }: { id: string }, { services, viewer, signal }: GraphQLContext) =>
        services.uploads.watch(viewer, id, signal),
      resolve: (p: UploadProgress) => upload(p),
    },
    lensChanged: {
      subscribe: (_: unknown, _args: NoArgs, { services, viewer, signal }: GraphQLContext) =>
        services.lensFeed.subscribe(viewer, signal),
      resolve: (e: LensEvent) => ({ kind: e.kind, lens: lens(e.lens) }),
    },
  },
  Mutation: {
    login: async (
      _: unknown,
      { username, password }: { username: string; password: string },
      { services, viewer: previous, clientAddress, setCookie }: GraphQLContext,
    ) => {
      const { viewer, sessionId } = await services.auth.login(username, password, clientAddress, previous);
      const { secureCookies, sessionTtlSeconds } = services.settings;
      setCookie(sessionCookie(sessionId, { secure: secureCookies, maxAgeSeconds: sessionTtlSeconds }));
      return { username: viewer.username, role: viewer.role };
    },
    logout: async (_: unknown, _args: NoArgs, { services, viewer, setCookie }: GraphQLContext) => {
      // Clear the cookie even when the session already expired, so the browser drops it.
      setCookie(clearSessionCookie({ secure: services.settings.secureCookies }));
      await services.auth.logout(requirePermission(viewer, 'read'));
      return true;
    },
    createUser: async (
      _: unknown,
      args: { username: string; role: string; password: string },
      { services, viewer }: GraphQLContext,
    ) => account(await services.users.create(viewer, args)),
    setUserRole: async (
      _: unknown,
      { username, role }: { username: string; role: string },
      { services, viewer }: GraphQLContext,
    ) => account(await services.users.setRole(viewer, username, role)),
    disableUser: async (
      _: unknown,
      { username }: { username: string },
      { services, viewer }: GraphQLContext,
    ) => account(await services.users.setDisabled(viewer, username, true)),
    enableUser: async (
      _: unknown,
      { username }: { username: string },
      { services, viewer }: GraphQLContext,
    ) => account(await services.users.setDisabled(viewer, username, false)),
    createApiToken: async (
      _: unknown,
      args: { name: string; scope: string; expiresInDays?: number | null },
      { services, viewer }: GraphQLContext,
    ) => {
      const { token, secret } = await services.apiTokens.create(viewer, args);
      return { token: apiToken(token), secret };
    },
    revokeApiToken: async (_: unknown, { id }: { id: string }, { services, viewer }: GraphQLContext) =>
      apiToken(await services.apiTokens.revoke(viewer, id)),

    setLensStatus: async (
      _: unknown,
      args: {
        id: string;
        status: LensStatus;
        resolution?: Maybe<Resolution>;
        summary?: Maybe<string>;
        duplicateOf?: Maybe<string>;
      },
      { services, viewer }: GraphQLContext,
    ) => {
      const { id, status, ...rest } = args;
      return lens(await services.engagements.setStatus(viewer, { lens: id, status, ...given(rest) }));
    },
    assignLens: async (
      _: unknown,
      { id, assignee }: { id: string; assignee?: Maybe<string> },
      { services, viewer }: GraphQLContext,
    ) => lens(await services.engagements.assign(viewer, { lens: id, assignee: assignee || null })),
    setLensesStatus: async (
      _: unknown,
      args: { ids: string[]; status: LensStatus; resolution?: Maybe<Resolution>; summary?: Maybe<string> },
      { services, viewer }: GraphQLContext,
    ) => {
      const { ids, status, ...rest } = args;
      return (await services.engagements.setStatusMany(viewer, { lenses: ids, status, ...given(rest) })).map(outcome);
    },
    assignLenses: async (
      _: unknown,
      { ids, assignee }: { ids: string[]; assignee?: Maybe<string> },
      { services, viewer }: GraphQLContext,
    ) => (await services.engagements.assignMany(viewer, { lenses: ids, assignee: assignee || null })).map(outcome),
    setLensTags: async (
      _: unknown,
      { id, tags }: { id: string; tags: string[] },
      { services, viewer }: GraphQLContext,
    ) => lens(await services.engagements.setTags(viewer, { lens: id, tags })),
    addNote: async (
      _: unknown,
      { lens: lensId, node: nodeKey, text }: { lens?: Maybe<string>; node?: Maybe<string>; text: string },
      { services, viewer }: GraphQLContext,
    ) => {
      if (!lensId === !nodeKey) throw new AppError('BAD_INPUT', 'Give exactly one of lens or node.');
      const target = lensId ? { lens: lensId } : { node: nodeKey! };
      return note(await services.engagements.addNote(viewer, { target, text }));
    },
    editNote: async (_: unknown, { id, text }: { id: string; text: string }, { services, viewer }: GraphQLContext) =>
      note(await services.engagements.editNote(viewer, { note: id, text })),
    addToLens: async (
      _: unknown,
      { lens: lensId, node: nodeKey, role }: { lens: string; node: string; role?: Maybe<string> },
      { services, viewer }: GraphQLContext,
    ) =>
      lens(
        await services.engagements.addToScope(viewer, {
          lens: lensId,
          node: nodeKey,
          ...(role ? { role: role === 'risky' ? 'risky' : 'context' } : {}),
        }),
      ),
    removeFromLens: async (
      _: unknown,
      { lens: lensId, node: nodeKey }: { lens: string; node: string },
      { services, viewer }: GraphQLContext,
    ) => lens(await services.engagements.removeFromScope(viewer, { lens: lensId, node: nodeKey })),
  },
};
