/**
 * osquery result logs: the evented tables process_events (and bpf_/es_/etw variants), socket_events and
 * file_events, plus the `processes` table through differential results. Rows are mapped to the Sysmon id of
 * the same meaning with Sysmon field names; osquery has no process GUID, so none is invented.
 */
import { Channels, type NormalizedEvent } from '../../domain/event';
import { formatUtcTime, isEventTime } from './field-values';
import type { ParseResult } from './types';

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Event-format line (`columns`) or a batch (`snapshot`, `diffResults`). */
export function isOsqueryRecord(r: Obj): boolean {
  if (typeof r.hostIdentifier === 'string') return true;
  return (
    typeof r.name === 'string' && (isObj(r.columns) || Array.isArray(r.snapshot) || isObj(r.diffResults))
  );
}

export function isOsqueryBatch(r: Obj): boolean {
  return Array.isArray(r.snapshot) || isObj(r.diffResults);
}

/**
 * One event-format record per row of a batch record (snapshot / diffResults), so that every row is judged
 * on its own. Returns undefined for records that are not batches.
 */
export function expandOsqueryBatch(r: Obj): Obj[] | undefined {
  const base = {
    name: r.name,
    hostIdentifier: r.hostIdentifier,
    unixTime: r.unixTime,
    calendarTime: r.calendarTime,
    decorations: r.decorations,
  };
  if (Array.isArray(r.snapshot)) {
    return r.snapshot.map((row) => ({ ...base, columns: row, action: 'snapshot' }));
  }
  if (isObj(r.diffResults)) {
    const out: Obj[] = [];
    for (const action of ['added', 'removed'] as const) {
      const rows = r.diffResults[action];
      if (Array.isArray(rows)) for (const row of rows) out.push({ ...base, columns: row, action });
    }
    return out;
  }
  return undefined;
}

// Order matters: the more specific names contain the generic ones.
const TABLES = [
  'process_etw_events',
  'es_process_events',
  'bpf_process_events',
  'process_events',
  'bpf_socket_events',
  'socket_events',
  'file_events',
  'processes',
] as const;
type Table = (typeof TABLES)[number];

function tableOf(name: string, cols: Obj): Table | undefined {
  for (const t of TABLES) if (name.includes(t)) return t;
  // Query names are free text; fall back on the columns.
  if (cols.remote_address !== undefined) return 'socket_events';
  if (cols.target_path !== undefined) return 'file_events';
  if (cols.cmdline !== undefined && cols.pid !== undefined) return 'process_events';
  return undefined;
}

function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

function intString(v: unknown): string | undefined {
  const s = str(v);
  if (s === undefined || s === '') return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? String(n) : undefined;
}

function put(fields: Record<string, string>, key: string, v: string | undefined): void {
  if (v !== undefined && v !== '') fields[key] = v;
}

function epochSecondsToMs(v: unknown): number {
  const s = str(v);
  if (s === undefined || s === '') return Number.NaN;
  const ms = Number(s) * 1000;
  // Past the Date range (e.g. "1e300") formatUtcTime would throw: unusable like any other bad time.
  return ms > 0 && isEventTime(ms) ? ms : Number.NaN;
}

function protocolName(v: unknown): string | undefined {
  const s = str(v);
  if (s === '6') return 'tcp';
  if (s === '17') return 'udp';
  if (s === 'tcp' || s === 'udp') return s;
  return undefined;
}

function isIpv6(family: unknown, ip: string | undefined): string {
  return str(family) === '10' || (ip !== undefined && ip.includes(':')) ? 'true' : 'false';
}

function userOf(cols: Obj): string | undefined {
  const name = str(cols.username);
  if (name !== undefined && name !== '') return name;
  const uid = intString(cols.uid);
  return uid === undefined ? undefined : `uid:${uid}`;
}

const skip = (table: string, what: string): ParseResult => ({
  kind: 'skipped',
  type: `osquery:${table}:${what}`,
});

export function normalizeOsquery(r: Obj): ParseResult {
  if (isOsqueryBatch(r)) {
    return {
      kind: 'rejected',
      reason:
        'osquery batch: snapshot/diffResults records hold many rows; expand them with expandOsqueryBatch first',
    };
  }
  const cols = r.columns;
  if (!isObj(cols)) return { kind: 'rejected', reason: 'invalid osquery record: "columns" is not an object' };
  const name = typeof r.name === 'string' ? r.name : '';
  const decorations = isObj(r.decorations) ? r.decorations : undefined;
  const hostRaw = r.hostIdentifier ?? decorations?.hostname;
  const host = typeof hostRaw === 'string' ? hostRaw.trim() : '';
  if (host === '') return { kind: 'rejected', reason: 'missing host: no hostIdentifier' };
  const action = typeof r.action === 'string' ? r.action : 'added';
  const table = tableOf(name, cols);
  // The query name becomes a counting key (skipped by type): keep it bounded.
  if (table === undefined) return { kind: 'skipped', type: `osquery:${name.slice(0, 100) || 'unknown'}` };

  let time = epochSecondsToMs(cols.time);
  if (Number.isNaN(time) && table === 'processes' && action !== 'removed')
    time = epochSecondsToMs(cols.start_time);
  if (Number.isNaN(time)) time = epochSecondsToMs(r.unixTime);
  if (Number.isNaN(time) && typeof r.calendarTime === 'string') time = Date.parse(r.calendarTime);
  if (Number.isNaN(time))
    return { kind: 'rejected', reason: 'missing time: no columns.time, unixTime or calendarTime' };

  const fields: Record<string, string> = {};
  let eventId: number;
  if (action === 'removed' && table !== 'processes') return skip(table, 'removed');
  switch (table) {
    case 'process_etw_events':
    case 'es_process_events':
    case 'bpf_process_events':
    case 'process_events':
    case 'processes': {
      const kind = processKind(table, cols, action);
      if (typeof kind === 'string') return skip(table, kind);
      eventId = kind;
      put(fields, 'ProcessId', intString(cols.pid));
      put(fields, 'Image', str(cols.path));
      if (eventId === 1) {
        put(fields, 'CommandLine', str(cols.cmdline));
        put(fields, 'ParentProcessId', intString(cols.parent ?? cols.ppid));
        put(fields, 'CurrentDirectory', str(cols.cwd));
      }
      put(fields, 'User', userOf(cols));
      break;
    }
    case 'bpf_socket_events':
    case 'socket_events': {
      const op = str(cols.action) ?? str(cols.syscall) ?? '';
      const outbound = op === 'connect';
      if (!outbound && op !== 'accept' && op !== 'accept4') return skip(table, op || 'unknown');
      eventId = 3;
      const local = str(cols.local_address);
      const remote = str(cols.remote_address);
      put(fields, 'ProcessId', intString(cols.pid));
      put(fields, 'Image', str(cols.path));
      put(fields, 'User', userOf(cols));
      put(fields, 'Protocol', protocolName(cols.protocol));
      fields.Initiated = outbound ? 'true' : 'false';
      // Sysmon's Source is the side that opened the connection.
      const [srcIp, srcPort, dstIp, dstPort] = outbound
        ? [local, cols.local_port, remote, cols.remote_port]
        : [remote, cols.remote_port, local, cols.local_port];
      put(fields, 'SourceIp', srcIp);
      put(fields, 'SourcePort', intString(srcPort));
      put(fields, 'DestinationIp', dstIp);
      put(fields, 'DestinationPort', intString(dstPort));
      fields.SourceIsIpv6 = isIpv6(cols.family, srcIp);
      fields.DestinationIsIpv6 = isIpv6(cols.family, dstIp);
      break;
    }
    case 'file_events': {
      const op = (str(cols.action) ?? '').toUpperCase();
      if (op === 'CREATED' || op === 'UPDATED' || op === 'MOVED_TO') eventId = 11;
      else if (op === 'DELETED' || op === 'MOVED_FROM') eventId = 23;
      else return skip(table, op || 'unknown');
      put(fields, 'TargetFilename', str(cols.target_path));
      put(fields, 'ProcessId', intString(cols.pid));
      put(fields, 'Image', str(cols.executable));
      const hashes: string[] = [];
      for (const [alg, col] of [
        ['MD5', 'md5'],
        ['SHA1', 'sha1'],
        ['SHA256', 'sha256'],
      ] as const) {
        const h = str(cols[col]);
        if (h !== undefined && h !== '') hashes.push(`${alg}=${h.toUpperCase()}`);
      }
      if (hashes.length > 0) fields.Hashes = hashes.join(',');
      break;
    }
  }
  fields.UtcTime = formatUtcTime(time);
  const event: NormalizedEvent = {
    source: 'osquery',
    channel: Channels.osquery,
    provider: name || undefined,
    eventId,
    host,
    time,
    recordId: undefined,
    fields,
  };
  return { kind: 'event', event };
}

/** 1 (start), 5 (stop) or the name of the skipped kind (fork, clone, ...). */
function processKind(table: Table, cols: Obj, action: string): number | string {
  if (table === 'processes') return action === 'removed' ? 5 : 1;
  if (table === 'process_etw_events') {
    const t = str(cols.type) ?? '';
    return t === 'ProcessStart' ? 1 : t === 'ProcessStop' ? 5 : t || 'unknown';
  }
  if (table === 'es_process_events') {
    const t = str(cols.event_type) ?? '';
    return t === 'exec' ? 1 : t === 'exit' ? 5 : t || 'unknown';
  }
  const sc = str(cols.syscall) ?? '';
  if (sc === '' || sc === 'execve' || sc === 'execveat' || sc === 'exec') return 1;
  if (sc === 'exit' || sc === 'exit_group') return 5;
  return sc;
}
