/**
 * The graph model, declared once: node kinds, edge kinds, how each node is identified and how every
 * property merges. Workers, API and UI import this; nothing else re-declares it (ENGINEERING.md §1).
 *
 * Merge rules are enforced by the Cypher that writes them (pipeline/merge), so concurrent and
 * out-of-order writes converge:
 *   immutable  set once; when sources disagree the smallest value wins (so arrival order cannot matter)
 *   increment  only grows (max)
 *   decrement  only shrinks (min)
 *   counter    sums contributions (exactly-once per payload, see pipeline/merge)
 *   union      set of strings, grows by union
 */
import { z } from 'zod';

export const MergeRule = z.enum(['immutable', 'increment', 'decrement', 'counter', 'union']);
export type MergeRule = z.infer<typeof MergeRule>;

export const PropType = z.enum(['string', 'number', 'strings']);
export type PropType = z.infer<typeof PropType>;

export interface PropSpec {
  readonly type: PropType;
  readonly merge: MergeRule;
  /** Included in the full-text search index. */
  readonly searchable?: boolean;
}

const s = (merge: MergeRule = 'immutable', searchable = false): PropSpec => ({ type: 'string', merge, searchable });
const n = (merge: MergeRule): PropSpec => ({ type: 'number', merge });
const set = (): PropSpec => ({ type: 'strings', merge: 'union' });

/** Properties every node carries. Times are epoch milliseconds (UTC). */
const common = {
  first_seen: n('decrement'),
  last_seen: n('increment'),
} as const;

export const NodeKinds = {
  Asset: {
    identity: 'static',
    props: { hostname: s('immutable', true), fqdn: s(), ...common },
  },
  Process: {
    // Sysmon ProcessGuid when present, otherwise a session on (asset, pid, create time): see pipeline/identity.
    identity: 'session',
    props: {
      process_guid: s(),
      pid: n('immutable'),
      image: s('immutable', true),
      command_line: s('immutable', true),
      current_directory: s(),
      user: s(),
      integrity_level: s(),
      hashes: s(),
      parent_guid: s(),
      parent_pid: n('immutable'),
      host: s(),
      create_time: n('decrement'),
      terminate_time: n('increment'),
      /** Set when the process is known only from non-creation events (no image yet). */
      provisional: n('decrement'),
      /** Upload/file names the process was seen in. */
      sources: set(),
      ...common,
    },
  },
  File: {
    identity: 'static',
    props: { path: s('immutable', true), host: s(), hashes: set(), ...common },
  },
  IpAddress: {
    identity: 'static',
    props: { ip: s('immutable', true), ...common },
  },
  NetworkEndpoint: {
    identity: 'static',
    props: { ip: s(), port: n('immutable'), protocol: s(), hostname: s(), ...common },
  },
  DomainName: {
    identity: 'static',
    props: { name: s('immutable', true), ...common },
  },
  RegistryKey: {
    identity: 'static',
    props: { path: s('immutable', true), host: s(), values: set(), ...common },
  },
  Pipe: {
    identity: 'static',
    props: { name: s('immutable', true), host: s(), ...common },
  },
  User: {
    identity: 'static',
    props: { name: s('immutable', true), domain: s(), sid: s(), ...common },
  },
  LogonSession: {
    identity: 'static',
    /** `sources`: upload/file names the session was seen in (the findings export names them). */
    props: { logon_id: s(), logon_type: s(), host: s(), user: s(), source_ip: s(), sources: set(), ...common },
  },
} as const satisfies Record<string, { identity: 'static' | 'session'; props: Record<string, PropSpec> }>;

export type NodeKind = keyof typeof NodeKinds;
export const NODE_KINDS = Object.keys(NodeKinds) as NodeKind[];
export const NodeKindSchema = z.enum(NODE_KINDS as [NodeKind, ...NodeKind[]]);

/** Properties every edge carries. */
const edgeCommon = { count: n('counter'), first_seen: n('decrement'), last_seen: n('increment') } as const;

export const EdgeKinds = {
  PARENT_OF: { from: 'Process', to: 'Process', props: { ...edgeCommon } },
  EXECUTED: { from: 'Process', to: 'File', props: { ...edgeCommon } },
  RUNS_ON: { from: 'Process', to: 'Asset', props: { ...edgeCommon } },
  CREATED: { from: 'Process', to: 'File', props: { ...edgeCommon } },
  DELETED: { from: 'Process', to: 'File', props: { ...edgeCommon } },
  MODIFIED: { from: 'Process', to: 'File', props: { ...edgeCommon } },
  READ: { from: 'Process', to: 'File', props: { ...edgeCommon } },
  LOADED: { from: 'Process', to: 'File', props: { ...edgeCommon, signed: s(), signature: s() } },
  CONNECTED_TO: {
    from: 'Process',
    to: 'NetworkEndpoint',
    props: { ...edgeCommon, src_ip: set(), src_port: set(), direction: set() },
  },
  ENDPOINT_OF: { from: 'NetworkEndpoint', to: 'IpAddress', props: { ...edgeCommon } },
  RESOLVED: { from: 'Process', to: 'DomainName', props: { ...edgeCommon } },
  RESOLVES_TO: { from: 'DomainName', to: 'IpAddress', props: { ...edgeCommon } },
  ACCESSED: {
    from: 'Process',
    to: 'Process',
    props: { ...edgeCommon, granted_access: set(), call_trace: s() },
  },
  INJECTED_INTO: {
    from: 'Process',
    to: 'Process',
    props: { ...edgeCommon, start_address: s(), start_module: s(), start_function: s() },
  },
  SET_VALUE: { from: 'Process', to: 'RegistryKey', props: { ...edgeCommon, details: set() } },
  CREATED_KEY: { from: 'Process', to: 'RegistryKey', props: { ...edgeCommon } },
  DELETED_KEY: { from: 'Process', to: 'RegistryKey', props: { ...edgeCommon } },
  RENAMED_KEY: { from: 'Process', to: 'RegistryKey', props: { ...edgeCommon, new_name: s() } },
  CREATED_PIPE: { from: 'Process', to: 'Pipe', props: { ...edgeCommon } },
  CONNECTED_PIPE: { from: 'Process', to: 'Pipe', props: { ...edgeCommon } },
  RAN_AS: { from: 'Process', to: 'User', props: { ...edgeCommon } },
  LOGGED_ON: { from: 'User', to: 'Asset', props: { ...edgeCommon, logon_type: set(), source_ip: set() } },
  IN_SESSION: { from: 'User', to: 'LogonSession', props: { ...edgeCommon } },
  SESSION_ON: { from: 'LogonSession', to: 'Asset', props: { ...edgeCommon } },
} as const satisfies Record<string, { from: NodeKind; to: NodeKind; props: Record<string, PropSpec> }>;

export type EdgeKind = keyof typeof EdgeKinds;
export const EDGE_KINDS = Object.keys(EdgeKinds) as EdgeKind[];
export const EdgeKindSchema = z.enum(EDGE_KINDS as [EdgeKind, ...EdgeKind[]]);

export type PropValue = string | number | string[];

/** A node as produced by the pipeline: identity key plus properties (merged by the rules above). */
export const GraphNode = z.object({
  kind: NodeKindSchema,
  key: z.string().min(1),
  props: z.record(z.string(), z.union([z.string(), z.number(), z.array(z.string())])),
});
export type GraphNode = z.infer<typeof GraphNode>;

export const GraphEdge = z.object({
  kind: EdgeKindSchema,
  from: z.string().min(1),
  to: z.string().min(1),
  props: z.record(z.string(), z.union([z.string(), z.number(), z.array(z.string())])),
});
export type GraphEdge = z.infer<typeof GraphEdge>;

export const Subgraph = z.object({ nodes: z.array(GraphNode), edges: z.array(GraphEdge) });
export type Subgraph = z.infer<typeof Subgraph>;

export function propSpec(kind: NodeKind, prop: string): PropSpec | undefined {
  return (NodeKinds[kind].props as Record<string, PropSpec>)[prop];
}

export function edgePropSpec(kind: EdgeKind, prop: string): PropSpec | undefined {
  return (EdgeKinds[kind].props as Record<string, PropSpec>)[prop];
}

/** The node kind encoded in a key (`Process:...`). Keys always start with their kind. */
export function kindOfKey(key: string): NodeKind | undefined {
  const i = key.indexOf(':');
  if (i <= 0) return undefined;
  const k = key.slice(0, i);
  return k in NodeKinds ? (k as NodeKind) : undefined;
}
