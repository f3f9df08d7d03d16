/**
 * The generic JSON event format (docs/generic-event-format.md): a small, flat, documented shape for
 * sensors that are neither Windows nor osquery. Each type maps to the Sysmon id of the same meaning.
 */
import { Channels, type NormalizedEvent } from '../../domain/event';
import { formatUtcTime, isEventTime, parseTimestamp } from './field-values';
import type { ParseResult } from './types';

type Obj = Record<string, unknown>;

export const GENERIC_EVENT_IDS = {
  process_start: 1,
  process_stop: 5,
  connection_outbound: 3,
  connection_inbound: 3,
  file_create: 11,
  file_write: 11,
  file_delete: 23,
} as const;
type GenericType = keyof typeof GENERIC_EVENT_IDS;

/** Types that are valid but have no Sysmon counterpart (and no edge in the graph): counted as skipped. */
const KNOWN_SKIPPED = new Set(['file_read']);

export function isGenericRecord(r: Obj): boolean {
  return typeof r.type === 'string' && r.host !== undefined && r.time !== undefined;
}

class FieldError extends Error {}

function optString(r: Obj, key: string): string | undefined {
  const v = r[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new FieldError(`invalid field: ${key} must be a string`);
  return v;
}

function reqString(r: Obj, key: string): string {
  const v = optString(r, key);
  if (v === undefined || v === '') throw new FieldError(`missing field: ${key}`);
  return v;
}

function optInt(r: Obj, key: string, max: number): string | undefined {
  const v = r[key];
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0 || n > max) {
    throw new FieldError(`invalid field: ${key} must be an integer between 0 and ${max}`);
  }
  return String(n);
}

function reqInt(r: Obj, key: string, max: number): string {
  const v = optInt(r, key, max);
  if (v === undefined) throw new FieldError(`missing field: ${key}`);
  return v;
}

const MAX_PID = 2 ** 32 - 1;

function put(fields: Record<string, string>, key: string, v: string | undefined): void {
  if (v !== undefined) fields[key] = v;
}

function eventTime(v: unknown): number {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new FieldError('invalid time: not a finite number');
    if (!isEventTime(v)) throw new FieldError('invalid time: outside the range of dates');
    // Seconds would silently land in January 1970: refuse rather than guess.
    if (v < 1e11)
      throw new FieldError('invalid time: epoch numbers are milliseconds (this looks like seconds)');
    return v;
  }
  if (typeof v === 'string') {
    const t = parseTimestamp(v.trim());
    if (Number.isNaN(t)) throw new FieldError(`invalid time: "${v.slice(0, 40)}" is not ISO-8601`);
    return t;
  }
  throw new FieldError('invalid time: must be an ISO-8601 string or epoch milliseconds');
}

export function normalizeGeneric(r: Obj): ParseResult {
  const type = r.type as string;
  try {
    const hostRaw = r.host;
    if (typeof hostRaw !== 'string' || hostRaw.trim() === '')
      return { kind: 'rejected', reason: 'missing host: "host" must be a non-empty string' };
    if (!Object.hasOwn(GENERIC_EVENT_IDS, type)) {
      return {
        kind: 'skipped',
        type: `${Channels.generic}:${KNOWN_SKIPPED.has(type) ? type : type.slice(0, 40)}`,
      };
    }
    const t = type as GenericType;
    const time = eventTime(r.time);
    const fields: Record<string, string> = {};
    switch (t) {
      case 'process_start':
        fields.ProcessId = reqInt(r, 'pid', MAX_PID);
        fields.Image = reqString(r, 'image');
        put(fields, 'ParentProcessId', optInt(r, 'ppid', MAX_PID));
        put(fields, 'CommandLine', optString(r, 'command_line'));
        put(fields, 'User', optString(r, 'user'));
        put(fields, 'ParentImage', optString(r, 'parent_image'));
        put(fields, 'ParentCommandLine', optString(r, 'parent_command_line'));
        put(fields, 'CurrentDirectory', optString(r, 'cwd'));
        put(fields, 'Hashes', optString(r, 'hashes'));
        put(fields, 'IntegrityLevel', optString(r, 'integrity_level'));
        break;
      case 'process_stop':
        fields.ProcessId = reqInt(r, 'pid', MAX_PID);
        put(fields, 'Image', optString(r, 'image'));
        put(fields, 'User', optString(r, 'user'));
        break;
      case 'file_create':
      case 'file_write':
      case 'file_delete':
        fields.TargetFilename = reqString(r, 'path');
        put(fields, 'ProcessId', optInt(r, 'pid', MAX_PID));
        put(fields, 'Image', optString(r, 'image'));
        put(fields, 'User', optString(r, 'user'));
        put(fields, 'Hashes', optString(r, 'hashes'));
        break;
      case 'connection_outbound':
      case 'connection_inbound': {
        const outbound = t === 'connection_outbound';
        const remoteIp = reqString(r, 'remote_ip');
        const localIp = optString(r, 'local_ip');
        const remotePort = optInt(r, 'remote_port', 65535);
        const localPort = optInt(r, 'local_port', 65535);
        put(fields, 'ProcessId', optInt(r, 'pid', MAX_PID));
        put(fields, 'Image', optString(r, 'image'));
        put(fields, 'User', optString(r, 'user'));
        const protocol = optString(r, 'protocol');
        if (protocol !== undefined) fields.Protocol = protocol.toLowerCase();
        fields.Initiated = outbound ? 'true' : 'false';
        // Sysmon's Source is the side that opened the connection.
        put(fields, 'SourceIp', outbound ? localIp : remoteIp);
        put(fields, 'SourcePort', outbound ? localPort : remotePort);
        put(fields, 'DestinationIp', outbound ? remoteIp : localIp);
        put(fields, 'DestinationPort', outbound ? remotePort : localPort);
        if (fields.SourceIp !== undefined)
          fields.SourceIsIpv6 = fields.SourceIp.includes(':') ? 'true' : 'false';
        if (fields.DestinationIp !== undefined) {
          fields.DestinationIsIpv6 = fields.DestinationIp.includes(':') ? 'true' : 'false';
        }
        break;
      }
    }
    fields.UtcTime = formatUtcTime(time);
    const event: NormalizedEvent = {
      source: 'generic',
      channel: Channels.generic,
      provider: undefined,
      eventId: GENERIC_EVENT_IDS[t],
      host: hostRaw.trim(),
      time,
      recordId: undefined,
      fields,
    };
    return { kind: 'event', event };
  } catch (err) {
    if (err instanceof FieldError) return { kind: 'rejected', reason: err.message };
    throw err;
  }
}
