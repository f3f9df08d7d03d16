/**
 * One normalised event -> the nodes and edges it proves, with the processes it mentions left as
 * *unresolved references* (`@actor`, `@parent`, `@target`): a process's key depends on state across
 * payloads (sessions on host and pid, see pipeline/identity), everything else is keyed here.
 *
 * Pure and total: an event this code does not understand yields fewer facts, never an exception.
 * Every node and edge carries first_seen = last_seen = the event time; edges count = 1; properties are
 * set only when the event has a value for them.
 */
import type { NormalizedEvent } from '../../domain/event';
import type { EdgeKind, GraphNode, NodeKind, PropValue } from '../../domain/model';
import {
  assetKey,
  clean,
  domainKey,
  endpointKey,
  fileKey,
  ipKey,
  logonSessionKey,
  normalizeDomain,
  normalizeGuid,
  normalizeIp,
  normalizePath,
  normalizeRegistryPath,
  parseHost,
  parsePid,
  parsePort,
  parseUser,
  pipeKey,
  registryKey,
  splitRegistryValue,
  type HostName,
} from './keys';
import type { Props } from './rules';

export type ProcessRefName = 'actor' | 'parent' | 'target';

/** Edge endpoints that stand for a process reference of the same event. */
export const ACTOR = '@actor';
export const PARENT = '@parent';
export const TARGET = '@target';

export function refName(endpoint: string): ProcessRefName | undefined {
  if (endpoint === ACTOR) return 'actor';
  if (endpoint === PARENT) return 'parent';
  if (endpoint === TARGET) return 'target';
  return undefined;
}

/** A process as an event mentions it, before identity resolution. */
export interface ProcessRef {
  /** Asset short name (upper-case): processes are sessions on (asset, pid). */
  asset: string;
  /** Sysmon ProcessGuid, normalised. */
  guid?: string;
  pid?: number;
  /** This event is the creation of this process (Sysmon 1, Security 4688, osquery/generic 1). */
  created?: boolean;
  /** This event is the end of this process (Sysmon 5, Security 4689). */
  terminated?: boolean;
  /** Properties for the Process node (merge rules of domain/model.ts). */
  props: Props;
}

export interface FactEdge {
  kind: EdgeKind;
  /** A node key, or ACTOR / PARENT / TARGET. */
  from: string;
  to: string;
  props: Props;
}

export interface EventFacts {
  time: number;
  /** Asset short name. */
  asset: string;
  refs: Partial<Record<ProcessRefName, ProcessRef>>;
  /** Nodes with final keys (everything but processes). */
  nodes: GraphNode[];
  edges: FactEdge[];
  /** ACTOR when the event has an acting process. */
  process?: string;
  /** The node the event acts on: a key, or TARGET for a target process (Sysmon 8, 10). */
  target?: string;
}

const DETAILS_MAX = 256;
const CALL_TRACE_MAX = 2000;
const COMMAND_LINE_MAX = 32_768;

/**
 * Accounts a 4688 names by SID as the machine account (`WORKGROUP\\WS5$` for S-1-5-18): spelled as
 * Sysmon spells them, so both sources name the same User.
 */
const WELL_KNOWN_SIDS: Record<string, string> = {
  'S-1-5-18': 'NT AUTHORITY\\SYSTEM',
  'S-1-5-19': 'NT AUTHORITY\\LOCAL SERVICE',
  'S-1-5-20': 'NT AUTHORITY\\NETWORK SERVICE',
};

const INTEGRITY_BY_LABEL: Record<string, string> = {
  'S-1-16-0': 'Untrusted',
  'S-1-16-4096': 'Low',
  'S-1-16-8192': 'Medium',
  'S-1-16-8448': 'MediumPlus',
  'S-1-16-12288': 'High',
  'S-1-16-16384': 'System',
  'S-1-16-20480': 'Protected',
};

interface ProcessSpec {
  guid?: string | undefined;
  pid?: string | undefined;
  image?: string | undefined;
  user?: string | undefined;
  created?: boolean;
  terminated?: boolean;
  props?: Record<string, PropValue | undefined>;
}

class FactsBuilder {
  readonly host: Readonly<HostName>;
  readonly asset: string;
  readonly facts: EventFacts;
  private assetAdded = false;
  private readonly fields: Record<string, string>;

  constructor(
    private readonly e: NormalizedEvent,
    private readonly origin: string | undefined,
  ) {
    this.host = hostOf(e.host);
    this.asset = this.host.short;
    this.fields = e.fields;
    this.facts = { time: e.time, asset: this.asset, refs: {}, nodes: [], edges: [] };
  }

  f(name: string): string | undefined {
    return clean(this.fields[name]);
  }

  /** First present value among several field spellings. */
  any(...names: string[]): string | undefined {
    for (const n of names) {
      const v = clean(this.fields[n]);
      if (v !== undefined) return v;
    }
    return undefined;
  }

  // node, edge and process fill one props object in place, in the key order the merge payload has always
  // had (given properties, then first_seen, last_seen): this runs several times per event, and spreading
  // into fresh objects made the builder one of the stage's largest sources of garbage.

  node(kind: NodeKind, key: string, props: Record<string, PropValue | undefined>): string {
    const p = defined(props);
    p.first_seen = this.e.time;
    p.last_seen = this.e.time;
    this.facts.nodes.push({ kind, key, props: p });
    return key;
  }

  edge(kind: EdgeKind, from: string, to: string, props?: Record<string, PropValue | undefined>): void {
    const t = this.e.time;
    let p: Props;
    if (props) {
      p = defined(props);
      p.first_seen = t;
      p.last_seen = t;
      p.count = 1;
    } else {
      p = { first_seen: t, last_seen: t, count: 1 };
    }
    this.facts.edges.push({ kind, from, to, props: p });
  }

  assetNode(): string {
    const key = assetKey(this.asset);
    if (!this.assetAdded) {
      this.assetAdded = true;
      this.node('Asset', key, { hostname: this.host.hostname, fqdn: this.host.fqdn });
    }
    return key;
  }

  file(path: string | undefined, hashes?: string): string | undefined {
    if (!path) return undefined;
    const key = fileKey(this.asset, path);
    this.node('File', key, { path: normalizePath(path), host: this.asset, hashes: splitHashes(hashes) });
    return key;
  }

  /** The event's upload/file name as a `sources` value (none without one). */
  origins(): string[] | undefined {
    return this.origin ? [this.origin] : undefined;
  }

  user(user: string | undefined, domain?: string, sid?: string): string | undefined {
    const u = parseUser(this.asset, user, domain);
    if (!u) return undefined;
    return this.node('User', u.key, { name: u.name, domain: u.domain, sid: clean(sid) });
  }

  /** Adds a process reference (with RUNS_ON, and RAN_AS when the user is known); returns its endpoint. */
  process(name: ProcessRefName, spec: ProcessSpec): string | undefined {
    const guid = normalizeGuid(spec.guid);
    const pid = parsePid(spec.pid);
    if (guid === undefined && pid === undefined) return undefined;
    const image = clean(spec.image);
    const props: Props = {};
    put(props, 'process_guid', guid);
    put(props, 'pid', pid);
    put(props, 'image', image && image !== '<unknown process>' ? image : undefined);
    put(props, 'user', clean(spec.user));
    put(props, 'host', this.asset);
    put(props, 'provisional', spec.created ? 0 : 1);
    if (this.origin) props.sources = [this.origin];
    if (spec.props) for (const k in spec.props) put(props, k, spec.props[k]);
    props.first_seen = this.e.time;
    props.last_seen = this.e.time;
    if (spec.terminated) props.terminate_time = this.e.time;
    const ref: ProcessRef = { asset: this.asset, props };
    if (guid !== undefined) ref.guid = guid;
    if (pid !== undefined) ref.pid = pid;
    if (spec.created) ref.created = true;
    if (spec.terminated) ref.terminated = true;
    this.facts.refs[name] = ref;
    const endpoint = ENDPOINTS[name];
    this.edge('RUNS_ON', endpoint, this.assetNode());
    const userKey = this.user(spec.user);
    if (userKey) this.edge('RAN_AS', endpoint, userKey);
    return endpoint;
  }
}

const ENDPOINTS: Readonly<Record<ProcessRefName, string>> = { actor: ACTOR, parent: PARENT, target: TARGET };

/** Sets `out[k] = v` unless v is empty (undefined, '', [], a non-finite number). */
function put(out: Props, k: string, v: PropValue | undefined): void {
  if (v === undefined || v === '' || (Array.isArray(v) && v.length === 0)) return;
  if (typeof v === 'number' && !Number.isFinite(v)) return;
  out[k] = v;
}

function defined(props: Record<string, PropValue | undefined>): Props {
  const out: Props = {};
  for (const k in props) put(out, k, props[k]);
  return out;
}

/**
 * parseHost of the last host seen: a payload's events nearly always share one host, and the parsed name
 * is only read. One entry, so nothing grows with the input.
 */
let lastHost: { raw: string; parsed: Readonly<HostName> } | undefined;

function hostOf(raw: string): Readonly<HostName> {
  if (lastHost?.raw !== raw) lastHost = { raw, parsed: parseHost(raw) };
  return lastHost.parsed;
}

function splitHashes(h: string | undefined): string[] | undefined {
  const t = clean(h);
  if (!t) return undefined;
  const out = t
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '' && x !== '-');
  return out.length ? out : undefined;
}

function truncate(s: string | undefined, max: number): string | undefined {
  if (s === undefined) return undefined;
  return s.length > max ? s.slice(0, max) : s;
}

/** IPs of a Sysmon 22 QueryResults (`type:  5 cname;::ffff:1.2.3.4;`): CNAME entries are skipped. */
export function queryResultIps(results: string | undefined): string[] {
  const t = clean(results);
  if (!t) return [];
  const out: string[] = [];
  for (const part of t.split(';')) {
    const p = part.trim();
    if (p === '' || p.startsWith('type:')) continue;
    const ip = normalizeIp(p);
    if (ip && !out.includes(ip)) out.push(ip);
  }
  return out;
}

function direction(initiated: string | undefined): string | undefined {
  const v = initiated?.toLowerCase();
  if (v === 'true') return 'outbound';
  if (v === 'false') return 'inbound';
  return undefined;
}

// ------------------------------------------------------------------------------------ per event family

function processCreate(b: FactsBuilder, security: boolean): void {
  const time = b.facts.time;
  let pid: string | undefined;
  let parentPid: string | undefined;
  let user: string | undefined;
  let integrity: string | undefined;
  if (security) {
    // 4688: the parser derives ProcessId (new process) and ParentProcessId (creator); if it has not, the
    // raw fields are NewProcessId (new process) and ProcessId (the creator).
    const newPid = b.f('NewProcessId');
    pid = newPid ?? b.f('ProcessId');
    parentPid = newPid !== undefined ? (b.f('ParentProcessId') ?? b.f('ProcessId')) : b.f('ParentProcessId');
    // The new process runs as the target account when the log names one, else as its creator (subject).
    const targetUser = b.f('TargetUserName');
    const targetSid = b.f('TargetUserSid');
    const hasTarget = targetUser !== undefined && targetSid !== 'S-1-0-0';
    const sid = hasTarget ? targetSid : b.f('SubjectUserSid');
    user =
      (sid ? WELL_KNOWN_SIDS[sid.toUpperCase()] : undefined) ??
      (hasTarget ? joinUser(b.f('TargetDomainName'), targetUser) : undefined) ??
      b.f('User') ??
      joinUser(b.f('SubjectDomainName'), b.f('SubjectUserName'));
    const label = b.f('MandatoryLabel');
    integrity = b.f('IntegrityLevel') ?? (label ? INTEGRITY_BY_LABEL[label.toUpperCase()] : undefined);
  } else {
    pid = b.f('ProcessId');
    parentPid = b.f('ParentProcessId');
    user = b.f('User');
    integrity = b.f('IntegrityLevel');
  }
  const image = b.any('Image', 'NewProcessName');
  const hashes = b.f('Hashes');
  const parentGuid = normalizeGuid(b.f('ParentProcessGuid'));
  const actor = b.process('actor', {
    guid: b.f('ProcessGuid'),
    pid,
    image,
    user,
    created: true,
    props: {
      command_line: truncate(b.f('CommandLine'), COMMAND_LINE_MAX),
      current_directory: b.f('CurrentDirectory'),
      integrity_level: integrity,
      hashes,
      parent_guid: parentGuid,
      parent_pid: parsePid(parentPid),
      create_time: time,
    },
  });
  if (!actor) return;
  b.facts.process = actor;
  const parent = b.process('parent', {
    guid: parentGuid,
    pid: parentPid,
    image: b.any('ParentImage', 'ParentProcessName'),
    user: b.f('ParentUser'),
    props: { command_line: truncate(b.f('ParentCommandLine'), COMMAND_LINE_MAX) },
  });
  if (parent) b.edge('PARENT_OF', parent, actor);
  const file = b.file(image, hashes);
  if (file) {
    b.edge('EXECUTED', actor, file);
    b.facts.target = file;
  }
}

function joinUser(domain: string | undefined, name: string | undefined): string | undefined {
  if (!name) return undefined;
  return domain ? `${domain}\\${name}` : name;
}

/** The acting process of an ordinary Sysmon-shaped event. */
function actor(b: FactsBuilder, extra: Partial<ProcessSpec> = {}): string | undefined {
  const a = b.process('actor', {
    guid: b.f('ProcessGuid'),
    pid: b.f('ProcessId'),
    image: b.f('Image'),
    user: b.f('User'),
    ...extra,
  });
  if (a) b.facts.process = a;
  return a;
}

function network(b: FactsBuilder): void {
  const a = actor(b);
  const ip = normalizeIp(b.f('DestinationIp'));
  if (!a || !ip) return;
  const port = parsePort(b.f('DestinationPort'));
  const protocol = b.f('Protocol')?.toLowerCase();
  const hostname = b.f('DestinationHostname');
  const ep = b.node('NetworkEndpoint', endpointKey(ip, port, protocol, b.asset), {
    ip,
    port,
    protocol,
    hostname,
  });
  const srcPort = parsePort(b.f('SourcePort'));
  const srcIp = normalizeIp(b.f('SourceIp'));
  const dir = direction(b.f('Initiated'));
  b.edge('CONNECTED_TO', a, ep, {
    src_ip: srcIp ? [srcIp] : undefined,
    src_port: srcPort !== undefined ? [String(srcPort)] : undefined,
    direction: dir ? [dir] : undefined,
  });
  const ipNode = b.node('IpAddress', ipKey(ip, b.asset), { ip });
  b.edge('ENDPOINT_OF', ep, ipNode);
  b.facts.target = ep;
}

function fileEdge(b: FactsBuilder, kind: EdgeKind, pathField: string, hashField = 'Hashes'): void {
  const a = actor(b);
  const file = b.file(b.f(pathField), b.f(hashField));
  if (!file) return;
  b.facts.target = file;
  if (a) b.edge(kind, a, file);
}

function imageLoad(b: FactsBuilder): void {
  const a = actor(b);
  const file = b.file(b.f('ImageLoaded'), b.f('Hashes'));
  if (!file) return;
  b.facts.target = file;
  if (a) b.edge('LOADED', a, file, { signed: b.f('Signed'), signature: b.f('Signature') });
}

function processPair(b: FactsBuilder, kind: 'INJECTED_INTO' | 'ACCESSED'): void {
  const source = b.process('actor', {
    guid: b.any('SourceProcessGuid', 'SourceProcessGUID'),
    pid: b.f('SourceProcessId'),
    image: b.f('SourceImage'),
    user: b.f('SourceUser'),
  });
  if (source) b.facts.process = source;
  const target = b.process('target', {
    guid: b.any('TargetProcessGuid', 'TargetProcessGUID'),
    pid: b.f('TargetProcessId'),
    image: b.f('TargetImage'),
    user: b.f('TargetUser'),
  });
  if (target) b.facts.target = target;
  if (!source || !target) return;
  if (kind === 'ACCESSED') {
    const access = b.f('GrantedAccess');
    b.edge('ACCESSED', source, target, {
      granted_access: access ? [access] : undefined,
      call_trace: truncate(b.f('CallTrace'), CALL_TRACE_MAX),
    });
  } else {
    b.edge('INJECTED_INTO', source, target, {
      start_address: b.f('StartAddress'),
      start_module: b.f('StartModule'),
      start_function: b.f('StartFunction'),
    });
  }
}

function registry(b: FactsBuilder, eventId: number): void {
  const a = actor(b);
  const target = b.f('TargetObject');
  if (!target) return;
  const type = b.f('EventType')?.toLowerCase();
  const regNode = (path: string, values?: string[]) =>
    b.node('RegistryKey', registryKey(b.asset, path), { path, host: b.asset, values });
  if (eventId === 13 || type === 'setvalue' || type === 'deletevalue') {
    const { key, value } = splitRegistryValue(target);
    const details = type === 'deletevalue' ? '(deleted)' : (b.f('Details') ?? '');
    const k = regNode(key, value !== undefined ? [value] : undefined);
    b.facts.target = k;
    const entry = truncate(value !== undefined ? `${value}=${details}` : details, DETAILS_MAX);
    if (a) b.edge('SET_VALUE', a, k, { details: entry ? [entry] : undefined });
    return;
  }
  const path = normalizeRegistryPath(target);
  const k = regNode(path);
  b.facts.target = k;
  if (!a) return;
  if (eventId === 14 || type === 'renamekey') {
    const newName = b.f('NewName');
    b.edge('RENAMED_KEY', a, k, { new_name: newName ? normalizeRegistryPath(newName) : undefined });
  } else if (type === 'deletekey') {
    b.edge('DELETED_KEY', a, k);
  } else {
    // CreateKey, or no EventType at all (some collectors drop it): the key exists.
    b.edge('CREATED_KEY', a, k);
  }
}

function pipe(b: FactsBuilder, kind: 'CREATED_PIPE' | 'CONNECTED_PIPE'): void {
  const a = actor(b);
  const name = b.f('PipeName');
  // Anonymous pipes all share one name; as a node they would only tie unrelated processes together.
  if (!name || name === '<Anonymous Pipe>') return;
  const p = b.node('Pipe', pipeKey(b.asset, name), { name, host: b.asset });
  b.facts.target = p;
  if (a) b.edge(kind, a, p);
}

function dns(b: FactsBuilder): void {
  const a = actor(b);
  const name = normalizeDomain(b.f('QueryName'));
  if (!name) return;
  const d = b.node('DomainName', domainKey(name), { name });
  b.facts.target = d;
  if (a) b.edge('RESOLVED', a, d);
  for (const ip of queryResultIps(b.f('QueryResults'))) {
    const node = b.node('IpAddress', ipKey(ip, b.asset), { ip });
    b.edge('RESOLVES_TO', d, node);
  }
}

function logon(b: FactsBuilder): void {
  const userKey = b.user(b.f('TargetUserName'), b.f('TargetDomainName'), b.f('TargetUserSid'));
  if (!userKey) return;
  b.facts.target = userKey;
  const asset = b.assetNode();
  const logonType = b.f('LogonType');
  const sourceIp = normalizeIp(b.f('IpAddress'));
  b.edge('LOGGED_ON', userKey, asset, {
    logon_type: logonType ? [logonType] : undefined,
    source_ip: sourceIp ? [sourceIp] : undefined,
  });
  const logonId = b.f('TargetLogonId');
  if (!logonId) return;
  const session = b.node('LogonSession', logonSessionKey(b.asset, logonId), {
    logon_id: logonId.toLowerCase(),
    logon_type: logonType,
    host: b.asset,
    user: joinUser(b.f('TargetDomainName'), b.f('TargetUserName')),
    source_ip: sourceIp,
    sources: b.origins(),
  });
  b.edge('IN_SESSION', userKey, session);
  b.edge('SESSION_ON', session, asset);
  // What a logon rule flags is this session on this host; the user (domain-wide, no host) is reached from it.
  b.facts.target = session;
}

/**
 * The facts of one event. `origin` is the upload/file name the event came from (Process.sources).
 */
export function buildEvent(e: NormalizedEvent, origin?: string): EventFacts {
  const b = new FactsBuilder(e, origin);
  b.assetNode();
  const id = e.eventId;
  if (e.source === 'security' || e.source === 'windows') {
    if (id === 4688) processCreate(b, true);
    else if (id === 4689) {
      const a = b.process('actor', {
        pid: b.f('ProcessId'),
        image: b.any('ProcessName', 'Image'),
        terminated: true,
      });
      if (a) b.facts.process = a;
    } else if (id === 4624) logon(b);
    return b.facts;
  }
  // Sysmon, and osquery / generic records mapped to the Sysmon id of the same meaning.
  switch (id) {
    case 1:
      processCreate(b, false);
      break;
    case 2:
      fileEdge(b, 'MODIFIED', 'TargetFilename');
      break;
    case 3:
      network(b);
      break;
    case 5:
      actor(b, { terminated: true });
      break;
    case 7:
      imageLoad(b);
      break;
    case 8:
      processPair(b, 'INJECTED_INTO');
      break;
    case 9:
      fileEdge(b, 'READ', 'Device');
      break;
    case 10:
      processPair(b, 'ACCESSED');
      break;
    case 11:
      fileEdge(b, 'CREATED', 'TargetFilename');
      break;
    case 12:
    case 13:
    case 14:
      registry(b, id);
      break;
    case 15:
      fileEdge(b, 'CREATED', 'TargetFilename', 'Hash');
      break;
    case 17:
      pipe(b, 'CREATED_PIPE');
      break;
    case 18:
      pipe(b, 'CONNECTED_PIPE');
      break;
    case 22:
      dns(b);
      break;
    case 23:
    case 26:
      fileEdge(b, 'DELETED', 'TargetFilename');
      break;
    default:
      actor(b);
  }
  return b.facts;
}

/**
 * Security events outside the graph model whose `ProcessId` / `ProcessName` is the process that acted:
 * handle requests and object access (4656, 4658, 4660, 4661, 4663), permission changes (4670),
 * privileged services and objects (4673, 4674), token rights (4703), explicit credentials (4648) and audit
 * policy changes (4907). Their Sigma rules (LSASS access by a non-system account, SAM handle requests)
 * are about that process.
 */
const SECURITY_SUBJECT_EVENTS: ReadonlySet<number> = new Set([
  4648, 4656, 4658, 4660, 4661, 4663, 4670, 4673, 4674, 4703, 4907,
]);

/**
 * Security events that concern the logon session they name in `TargetLogonId` (its end, a lock or unlock,
 * a reconnection): the others name the acting session in `SubjectLogonId`.
 */
const SECURITY_TARGET_SESSION_EVENTS: ReadonlySet<number> = new Set([
  4634, 4647, 4778, 4779, 4800, 4801, 4802, 4803,
]);

/** Logon ids of the machine's own accounts: SYSTEM (0x3e7), NETWORK SERVICE (0x3e4), LOCAL SERVICE (0x3e5). */
const MACHINE_LOGON_IDS: ReadonlySet<number> = new Set([0, 0x3e4, 0x3e5, 0x3e7]);

/** `0x3E7` or `999` -> 999; undefined for anything else. */
function parseLogonId(v: string | undefined): number | undefined {
  if (!v) return undefined;
  const t = v.trim();
  const n = /^0x[0-9a-f]{1,16}$/i.test(t)
    ? Number.parseInt(t.slice(2), 16)
    : /^\d{1,20}$/.test(t)
      ? Number(t)
      : NaN;
  return Number.isFinite(n) ? n : undefined;
}

/**
 * The facts of an event outside the graph model that names what it is about, so that a Sigma hit on it
 * sits on that node (and joins its story) rather than on the host. The identify stage builds these only
 * for events a Sigma rule matched. In order:
 *   - the process, when the event names one:
 *       Sysmon events the model does not keep that carry the acting process (process tampering 25,
 *       clipboard 24, blocked executables and shredding 27, 28, executable detected 29, raw disk read 9,
 *       file time changed 2): by ProcessGuid, as every Sysmon event;
 *       PowerShell's logs (`executionPid`, the PowerShell host that wrote the event) and the Security
 *       events above (`ProcessId` / `ProcessName`): by pid, which identity resolves on the (asset, pid)
 *       session timeline like any pid-only reference (to the Sysmon process running then when there is one);
 *   - the driver file of a Sysmon driver load (6), which joins the story of the process that wrote it;
 *   - the logon session of a Security event that names a user's session (`SubjectLogonId`, or
 *     `TargetLogonId` for a logoff, lock or reconnection), the node a 4624 logon of the same id made: a
 *     session is one user's logon on one host, not the whole host for all time. The machine's own
 *     sessions (SYSTEM, NETWORK SERVICE, LOCAL SERVICE) span every boot and are left to the host.
 * Undefined when the event names none of these (a WMI subscription, a service install, a cleared log):
 * its hits stay on the host.
 */
export function subjectFacts(e: NormalizedEvent, origin?: string): EventFacts | undefined {
  const b = new FactsBuilder(e, origin);
  b.assetNode();
  if (e.source === 'sysmon') {
    if (e.eventId === 6) {
      const driver = b.file(b.f('ImageLoaded'), b.f('Hashes'));
      if (!driver) return undefined;
      b.facts.target = driver;
      return b.facts;
    }
    if (!b.f('ProcessGuid')) return undefined;
    return actor(b) ? b.facts : undefined;
  }
  let pid: number | undefined;
  let image: string | undefined;
  if (e.executionPid !== undefined) pid = e.executionPid;
  else if (e.source === 'security' && SECURITY_SUBJECT_EVENTS.has(e.eventId)) {
    pid = parsePid(e.fields.ProcessId);
    image = e.fields.ProcessName;
  }
  if (pid !== undefined && pid !== 0) {
    const a = b.process('actor', { pid: String(pid), image });
    if (a) {
      b.facts.process = a;
      return b.facts;
    }
  }
  if (e.source !== 'security') return undefined;
  const side = SECURITY_TARGET_SESSION_EVENTS.has(e.eventId) ? 'Target' : 'Subject';
  const raw = b.f(`${side}LogonId`);
  const id = parseLogonId(raw);
  if (raw === undefined || id === undefined || MACHINE_LOGON_IDS.has(id)) return undefined;
  const name = b.f(`${side}UserName`);
  const domain = b.f(`${side}DomainName`);
  const session = b.node('LogonSession', logonSessionKey(b.asset, raw), {
    logon_id: raw.toLowerCase(),
    host: b.asset,
    user: joinUser(domain, name),
    sources: b.origins(),
  });
  const userKey = b.user(name, domain, b.f(`${side}UserSid`));
  if (userKey) b.edge('IN_SESSION', userKey, session);
  b.edge('SESSION_ON', session, b.assetNode());
  b.facts.target = session;
  return b.facts;
}
