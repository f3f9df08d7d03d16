/**
 * What every Windows shape (flat NXLog, winlogbeat, EVTX JSON, event XML, .evtx) has in common once its
 * envelope is found: which events are supported, how channel, host and time are chosen, and the fields
 * Security 4688 gains so the rest of the pipeline speaks Sysmon's vocabulary.
 */
import { Channels, type EventSource, type NormalizedEvent } from '../../domain/event';
import { hexOrDecimalToDecimal, isEventTime, parseTimestamp } from './field-values';
import type { ClockSample, NormalizeOptions, ParseResult, RecordClock } from './types';

/** Longest channel or host name accepted (Windows caps channel paths at 255, DNS names at 253). */
const MAX_NAME_LENGTH = 255;

export const SUPPORTED_SYSMON_IDS: readonly number[] = [
  1, 3, 5, 7, 8, 10, 11, 12, 13, 14, 15, 17, 18, 22, 23, 26,
];
export const SUPPORTED_SECURITY_IDS: readonly number[] = [4624, 4688];

const sysmonSupported = new Uint8Array(256);
for (const id of SUPPORTED_SYSMON_IDS) sysmonSupported[id] = 1;

const SYSMON_PROVIDER = 'Microsoft-Windows-Sysmon';

/** Channel names whose case varies between collectors (`security`), keyed by lower case. */
const CANONICAL_CHANNELS = new Map<string, string>(
  [
    Channels.sysmon,
    Channels.security,
    Channels.system,
    Channels.powershell,
    Channels.powershellClassic,
    'Application',
    'Microsoft-Windows-WMI-Activity/Operational',
    'Microsoft-Windows-TaskScheduler/Operational',
    'Microsoft-Windows-Windows Defender/Operational',
    'Microsoft-Windows-Bits-Client/Operational',
    'Microsoft-Windows-WinRM/Operational',
    'Microsoft-Windows-TerminalServices-LocalSessionManager/Operational',
    'Microsoft-Windows-TerminalServices-RemoteConnectionManager/Operational',
  ].map((c) => [c.toLowerCase(), c]),
);

/**
 * PowerShell's own logs: the process that writes one of their events (System/Execution/@ProcessID) is the
 * PowerShell host that ran the pipeline or script block, so it is kept on the event (`executionPid`).
 * Other channels' writer is a service (the event log, lsass, Sysmon itself), not the subject.
 */
const POWERSHELL_CHANNELS: ReadonlySet<string> = new Set([
  Channels.powershell,
  Channels.powershellClassic,
  'PowerShellCore/Operational',
]);

/** The executing pid of a PowerShell event, from an int or a decimal string; undefined for 0 and junk. */
function executionPidOf(env: WindowsEnvelope, raw: unknown): number | undefined {
  if (raw === undefined || !POWERSHELL_CHANNELS.has(env.channel)) return undefined;
  let n = Number.NaN;
  if (typeof raw === 'number') n = raw;
  else if (typeof raw === 'string' && /^\s*\d{1,10}\s*$/.test(raw)) n = Number(raw);
  return Number.isSafeInteger(n) && n > 0 && n <= 0xffffffff ? n : undefined;
}

export function canonicalChannel(raw: string): string {
  if (raw === Channels.sysmon || raw === Channels.security) return raw;
  return CANONICAL_CHANNELS.get(raw.toLowerCase()) ?? raw;
}

export interface WindowsEnvelope {
  kind: 'envelope';
  source: EventSource;
  channel: string;
  eventId: number;
  host: string;
  provider: string | undefined;
  recordId: number | undefined;
}

export function rejected(reason: string): ParseResult {
  return { kind: 'rejected', reason };
}

/** A Windows EventID (16-bit) from an int, a numeric string or `{"#text": ..}`; a reason string when it is not. */
export function toEventId(v: unknown): number | string {
  if (typeof v === 'number') {
    return Number.isInteger(v) && v >= 0 && v <= 65535 ? v : `invalid EventID: ${String(v).slice(0, 40)}`;
  }
  if (typeof v === 'string') {
    const s = v.trim();
    if (s.length === 0 || s.length > 5) return `invalid EventID: "${v.slice(0, 40)}" is not an integer`;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 48 || c > 57) return `invalid EventID: "${v.slice(0, 40)}" is not an integer`;
    }
    const n = Number(s);
    return n <= 65535 ? n : `invalid EventID: ${s} is out of range`;
  }
  if (v === undefined || v === null) return 'missing EventID: no EventID in the record';
  if (typeof v === 'object' && !Array.isArray(v)) {
    const text = (v as Record<string, unknown>)['#text'];
    if (typeof text === 'number' || typeof text === 'string') return toEventId(text);
  }
  return `invalid EventID: a ${Array.isArray(v) ? 'array' : typeof v} is not an integer`;
}

export function toOptionalInt(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : undefined;
  if (typeof v === 'string' && v.length > 0 && v.length < 16) {
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : undefined;
  }
  return undefined;
}

function nonEmptyString(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const s = v.trim();
  return s.length > 0 ? s : undefined;
}

/**
 * Checks the envelope of a Windows event and decides whether it is produced, skipped (unsupported) or
 * rejected. Host and channel are checked before the skip decision: a record without them is malformed
 * whatever its type. Fields are built only after this, so skipped records cost little.
 */
export function windowsEnvelope(
  eventIdRaw: unknown,
  channelRaw: unknown,
  providerRaw: unknown,
  hostRaw: unknown,
  recordIdRaw: unknown,
  opts: NormalizeOptions | undefined,
): WindowsEnvelope | ParseResult {
  const eventId = toEventId(eventIdRaw);
  if (typeof eventId === 'string') return rejected(eventId);
  const provider = nonEmptyString(providerRaw);
  let channel = nonEmptyString(channelRaw);
  if (channel === undefined) {
    // ETW-only logs have no channel; the provider names the log, as in the EVTX labels.
    if (provider === undefined) return rejected('missing Channel: neither Channel nor provider name');
    channel = provider === SYSMON_PROVIDER ? Channels.sysmon : provider;
  } else {
    channel = canonicalChannel(channel);
  }
  // Channel names end up as counting keys (skipped by type) and Sigma service matches: real ones are short.
  if (channel.length > MAX_NAME_LENGTH)
    return rejected(`invalid Channel: longer than ${MAX_NAME_LENGTH} characters`);
  const host = nonEmptyString(hostRaw);
  if (host !== undefined && host.length > MAX_NAME_LENGTH) {
    return rejected(`invalid host: longer than ${MAX_NAME_LENGTH} characters`);
  }
  if (host === undefined) {
    return rejected('missing host: no endpoint name (Computer / Hostname / computer_name)');
  }
  let source: EventSource;
  let supported: boolean;
  if (channel === Channels.sysmon) {
    source = 'sysmon';
    supported = eventId < 256 && sysmonSupported[eventId] === 1;
  } else if (channel === Channels.security) {
    source = 'security';
    supported = eventId === 4688 || eventId === 4624;
  } else {
    source = 'windows';
    supported = false;
  }
  if (!supported && opts?.keepUnsupported !== true) return { kind: 'skipped', type: `${channel}:${eventId}` };
  return { kind: 'envelope', source, channel, eventId, host, provider, recordId: toOptionalInt(recordIdRaw) };
}

/** Epoch ms from a collector/system time (ISO string, Sysmon-style string or epoch ms); NaN when unusable. */
export function fallbackTime(v: unknown): number {
  if (typeof v === 'string') return parseTimestamp(v.trim());
  if (typeof v === 'number') return isEventTime(v) ? v : Number.NaN;
  if (v !== null && typeof v === 'object') {
    // EVTX JSON: {"#attributes": {"SystemTime": ".."}}; some converters: {"SystemTime": ".."}.
    const o = v as Record<string, unknown>;
    const attrs = o['#attributes'];
    const st =
      attrs !== null && typeof attrs === 'object'
        ? (attrs as Record<string, unknown>).SystemTime
        : o.SystemTime;
    if (typeof st === 'string') return parseTimestamp(st.trim());
  }
  return Number.NaN;
}

/**
 * Completes the event: time (Sysmon UtcTime first, it is the endpoint's UTC clock; collector and
 * TimeCreated times are hours off in this data), and the derived fields of Security 4688. The record's own
 * time stamp is returned next to the event (`clock`): the parse stage learns a shipper's offset from the
 * Sysmon records that carry both and corrects the host's other records with it.
 */
export function finishWindowsEvent(
  env: WindowsEnvelope,
  fields: Record<string, string>,
  fallback: unknown,
  /** System/Execution/@ProcessID as the shape gives it (kept for PowerShell's logs only). */
  executionPid?: unknown,
): ParseResult {
  let time: number;
  let clock: RecordClock | undefined;
  const utc = env.source === 'sysmon' ? fields.UtcTime : undefined;
  if (utc !== undefined) {
    const c = utcClock(utc, fallback);
    time = c.time;
    if (Number.isNaN(time)) return rejected(`invalid time: UtcTime "${utc.slice(0, 40)}"`);
    // An unreadable time stamp costs nothing here: UtcTime is the event's time.
    if (!Number.isNaN(c.record)) clock = { record: c.record, from: 'UtcTime' };
  } else {
    if (fallback === undefined || fallback === null)
      return rejected('missing time: no UtcTime or TimeCreated');
    time = fallbackTime(fallback);
    if (Number.isNaN(time)) return rejected(`invalid time: ${JSON.stringify(fallback).slice(0, 60)}`);
    clock = { record: time, from: 'record' };
  }
  if (env.eventId === 4688 && env.source === 'security') deriveProcessCreation(fields);
  const event: NormalizedEvent = {
    source: env.source,
    channel: env.channel,
    provider: env.provider,
    eventId: env.eventId,
    host: env.host,
    time,
    recordId: env.recordId,
    fields,
  };
  const pid = executionPidOf(env, executionPid);
  if (pid !== undefined) event.executionPid = pid;
  return clock === undefined ? { kind: 'event', event } : { kind: 'event', event, clock };
}

/**
 * The clock sample finishWindowsEvent's event would carry, without building the event: for a Sysmon
 * envelope whose UtcTime (`utc`, the field as normalised) parses, next to a readable time stamp of the
 * record (`fallback`); undefined whenever finishWindowsEvent would reject the record or give it no
 * `UtcTime` clock. Keep the two in step (parseClockSample's tests compare them).
 */
export function windowsClockSample(
  env: WindowsEnvelope,
  utc: string | undefined,
  fallback: unknown,
): ClockSample | undefined {
  if (env.source !== 'sysmon' || utc === undefined) return undefined;
  const c = utcClock(utc, fallback);
  return Number.isNaN(c.time) || Number.isNaN(c.record) ? undefined : { host: env.host, record: c.record, utc: c.time };
}

/** A Sysmon record's clock: UtcTime (the event's time) and the record's own time stamp; NaN where unreadable. */
function utcClock(utc: string, fallback: unknown): { time: number; record: number } {
  return {
    time: parseTimestamp(utc),
    record: fallback === undefined || fallback === null ? Number.NaN : fallbackTime(fallback),
  };
}

/**
 * Security 4688 in Sysmon's terms. Its own `ProcessId` is the creator's PID in hex, so it becomes
 * ParentProcessId (decimal) and ProcessId becomes the new process's PID (decimal of NewProcessId): nothing
 * is lost, NewProcessId keeps the hex original.
 */
function deriveProcessCreation(fields: Record<string, string>): void {
  const creator = fields.ProcessId;
  const created = fields.NewProcessId;
  const pid = created === undefined ? undefined : hexOrDecimalToDecimal(created);
  if (pid !== undefined) fields.ProcessId = pid;
  else delete fields.ProcessId;
  const ppid = creator === undefined ? undefined : hexOrDecimalToDecimal(creator);
  if (ppid !== undefined) fields.ParentProcessId = ppid;
  if (fields.NewProcessName !== undefined) fields.Image = fields.NewProcessName;
  if (fields.ParentProcessName !== undefined && fields.ParentProcessName !== '') {
    fields.ParentImage = fields.ParentProcessName;
  }
  // The new process runs as the Target account when one is given (Windows 10+), else as the Subject.
  const targetUser = fields.TargetUserName;
  if (targetUser !== undefined && targetUser !== '' && targetUser !== '-') {
    fields.User = joinAccount(fields.TargetDomainName, targetUser);
  } else if (fields.SubjectUserName !== undefined && fields.SubjectUserName !== '') {
    fields.User = joinAccount(fields.SubjectDomainName, fields.SubjectUserName);
  }
}

function joinAccount(domain: string | undefined, user: string): string {
  return domain !== undefined && domain !== '' && domain !== '-' ? `${domain}\\${user}` : user;
}
