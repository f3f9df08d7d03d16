/**
 * The JSON shapes of Windows events: flat NXLog/Logstash, winlogbeat (6 and 7+), and the EVTX JSON of
 * converters (`{"Event":{"System":{..},"EventData":{..}}}`, python-evtx and Rust evtx_dump alike).
 */
import { fieldString, setField } from './field-values';
import type { ClockSample, NormalizeOptions, ParseResult } from './types';
import { finishWindowsEvent, rejected, windowsClockSample, windowsEnvelope } from './windows-event';

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Top-level keys of a flat record that are envelope or collector metadata, not EventData. Dropping them
 * keeps `fields` the same across shapes (and keeps collector noise out of keyword searches).
 */
const FLAT_NOT_EVENT_DATA = new Set([
  'EventID',
  'Channel',
  'Hostname',
  'Computer',
  'SourceName',
  'ProviderGuid',
  'TimeCreated',
  'RecordNumber',
  'Keywords',
  'Level',
  'Task',
  'Opcode',
  'OpcodeValue',
  'Version',
  'ThreadID',
  'ExecutionProcessID',
  'Category',
  'AccountName',
  'AccountType',
  'Domain',
  'UserID',
  'Message',
  'Severity',
  'SeverityValue',
  'EventTime',
  'EventReceivedTime',
  'EventTypeOrignal',
  'SourceModuleName',
  'SourceModuleType',
  'ERROR_EVT_UNRESOLVED',
  '@timestamp',
  '@version',
  '@metadata',
  'host',
  'port',
  'tags',
]);

/**
 * NXLog writes its own severity into `EventType`, except for Sysmon registry events whose real EventType
 * (SetValue, CreateKey, ...) it keeps (renaming its own to EventTypeOrignal).
 */
const NXLOG_EVENT_TYPES = new Set([
  'INFO',
  'AUDIT_SUCCESS',
  'AUDIT_FAILURE',
  'WARNING',
  'ERROR',
  'VERBOSE',
  'CRITICAL',
]);

/** Flat NXLog/Logstash: every EventData field at top level, next to the collector's own. */
export function normalizeFlat(r: Obj, opts: NormalizeOptions | undefined): ParseResult {
  const host = r.Hostname ?? r.Computer ?? r.computer_name;
  const env = windowsEnvelope(r.EventID, r.Channel, r.SourceName, host, r.RecordNumber, opts);
  if (env.kind !== 'envelope') return env;
  const fields: Record<string, string> = {};
  for (const k in r) {
    if (FLAT_NOT_EVENT_DATA.has(k)) continue;
    const v = r[k];
    if (k === 'EventType' && typeof v === 'string' && NXLOG_EVENT_TYPES.has(v)) continue;
    setField(fields, k, v);
  }
  if (r.SourceModuleType === NXLOG_EVENTLOG_MODULE) unescapeNxlogFields(fields);
  return finishWindowsEvent(env, fields, r.TimeCreated ?? r['@timestamp'], r.ExecutionProcessID);
}

/**
 * NXLog's Windows event log input (`im_msvistalog`) takes EventData from the event's XML rendering and, in
 * the versions that recorded the shared data, leaves XML's escapes in the values: `&lt;Anonymous Pipe&gt;`,
 * `...\UMB\2&amp;2c22bcc9&amp;0&amp;Session2Mouse0`, script blocks with `&lt;#`. Kept as shipped, one
 * registry key would be two nodes (this spelling and the EVTX one), Sigma's `<`, `>`, `&` and `"` would not
 * match, and the analyst would read the escapes. Every im_msvistalog record of the shared data escapes
 * every field (none holds a bare `<`, `>` or `&`; its rendered Message is unescaped), and no other
 * collector's record does.
 */
const NXLOG_EVENTLOG_MODULE = 'im_msvistalog';
/** One XML reference: the five predefined entities and decimal or hexadecimal character references. */
const XML_REFERENCE = /&(?:(lt|gt|amp|quot|apos)|#([0-9]{1,7})|#x([0-9a-fA-F]{1,6}));/g;
/** A character that an escaping writer would never leave bare: its record was not escaped. */
const BARE_XML_MARKUP = /[<>]|&(?!(?:lt|gt|amp|quot|apos|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});)/;
const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function unescapeReference(ref: string, name?: string, dec?: string, hex?: string): string {
  if (name !== undefined) return PREDEFINED[name]!;
  const code = dec !== undefined ? Number(dec) : parseInt(hex!, 16);
  // Not a character XML allows (NUL, surrogates, beyond Unicode): kept as written.
  if (code === 0 || (code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff) return ref;
  return String.fromCodePoint(code);
}

/**
 * Unescapes the fields of an im_msvistalog record in place, unless one of them holds bare markup: then
 * this NXLog did not escape (a newer version, or a record rewritten on the way) and a literal `&amp;` in
 * a value is what the event said.
 */
export function unescapeNxlogFields(fields: Record<string, string>): void {
  // Most records hold no `&` at all: one cheap pass settles them before any regular expression runs.
  let escaped = false;
  for (const k in fields) {
    if (fields[k]!.includes('&')) {
      escaped = true;
      break;
    }
  }
  if (!escaped) return;
  for (const k in fields) if (BARE_XML_MARKUP.test(fields[k]!)) return;
  for (const k in fields) {
    const v = fields[k]!;
    if (v.includes('&')) fields[k] = v.replace(XML_REFERENCE, unescapeReference);
  }
}

/**
 * normalizeFlat's clock sample (windowsClockSample) without building the fields: of every field only
 * UtcTime matters, and normalizeFlat stores it as fieldString makes it (no other key is stored under that
 * name; a JSON value is never undefined, so an absent key is the only undefined).
 */
export function flatClockSample(r: Obj, opts: NormalizeOptions | undefined): ClockSample | undefined {
  const host = r.Hostname ?? r.Computer ?? r.computer_name;
  const env = windowsEnvelope(r.EventID, r.Channel, r.SourceName, host, r.RecordNumber, opts);
  if (env.kind !== 'envelope' || env.source !== 'sysmon') return undefined;
  const utc = r.UtcTime === undefined ? undefined : fieldString('UtcTime', r.UtcTime);
  return windowsClockSample(env, utc, r.TimeCreated ?? r['@timestamp']);
}

/** winlogbeat 6 (`event_id`, `log_name`, `computer_name`, `event_data{}`) and 7+ (`winlog{...}`). */
export function normalizeWinlogbeat(r: Obj, opts: NormalizeOptions | undefined): ParseResult {
  const w = isObj(r.winlog) ? r.winlog : r;
  const env = windowsEnvelope(
    w.event_id,
    w.channel ?? w.log_name,
    w.provider_name ?? w.source_name,
    w.computer_name,
    w.record_id ?? w.record_number,
    opts,
  );
  if (env.kind !== 'envelope') return env;
  const fields: Record<string, string> = {};
  if (isObj(w.event_data)) addEventData(fields, w.event_data);
  if (isObj(w.user_data)) addLeaves(fields, w.user_data, 0);
  // winlogbeat 7+: winlog.process.pid; 6: process_id.
  const pid = isObj(w.process) ? w.process.pid : w.process_id;
  return finishWindowsEvent(env, fields, r['@timestamp'], pid);
}

/** `{"Event":{"System":{..},"EventData":{..}}}` from python-evtx / evtx_dump style converters. */
export function normalizeEvtxJson(r: Obj, opts: NormalizeOptions | undefined): ParseResult {
  const ev = r.Event;
  if (!isObj(ev)) return rejected('invalid record: "Event" is not an object');
  const sys = ev.System;
  if (!isObj(sys)) return rejected('invalid record: Event.System is missing');
  const prov = sys.Provider;
  let provider: unknown;
  if (isObj(prov)) {
    const attrs = prov['#attributes'];
    provider = isObj(attrs) ? attrs.Name : prov.Name;
  }
  const env = windowsEnvelope(sys.EventID, sys.Channel, provider, sys.Computer, sys.EventRecordID, opts);
  if (env.kind !== 'envelope') return env;
  const fields: Record<string, string> = {};
  for (const section in ev) {
    if (section === 'System' || section === '#attributes' || section === 'RenderingInfo') continue;
    const body = ev[section];
    if (section === 'EventData') {
      if (isObj(body)) addEventData(fields, body);
    } else if (isObj(body)) {
      addLeaves(fields, body, 0);
    }
  }
  const exec = sys.Execution;
  let pid: unknown;
  if (isObj(exec)) {
    const attrs = exec['#attributes'];
    pid = isObj(attrs) ? attrs.ProcessID : exec.ProcessID;
  }
  return finishWindowsEvent(env, fields, sys.TimeCreated, pid);
}

/** EventData: named values; unnamed `<Data>` under "Data"; tolerate xmltodict's `[{"@Name":..,"#text":..}]`. */
function addEventData(fields: Record<string, string>, data: Obj): void {
  for (const k in data) {
    if (k === '#attributes') continue;
    const v = data[k];
    if (k === 'Data' && v !== null && typeof v === 'object' && addNamedDataItems(fields, v)) continue;
    setField(fields, k, v);
  }
}

function dataItemName(item: unknown): string | undefined {
  if (!isObj(item)) return undefined;
  const attrs = item['#attributes'];
  const name = item['@Name'] ?? (isObj(attrs) ? attrs.Name : undefined) ?? item.Name;
  return typeof name === 'string' && name.length > 0 ? name : undefined;
}

function addNamedDataItems(fields: Record<string, string>, v: object): boolean {
  const items = Array.isArray(v) ? v : [v];
  if (items.length === 0 || dataItemName(items[0]) === undefined) return false;
  const unnamed: unknown[] = [];
  for (const item of items) {
    const name = dataItemName(item);
    const value = isObj(item) ? (item['#text'] ?? item.Value ?? null) : item;
    if (name === undefined) unnamed.push(value);
    else setField(fields, name, value);
  }
  if (unnamed.length > 0) setField(fields, 'Data', unnamed);
  return true;
}

/** UserData and other sections: every leaf under its own element name, as the XML path does. */
function addLeaves(fields: Record<string, string>, node: Obj, depth: number): void {
  if (depth > 8) return;
  for (const k in node) {
    if (k === '#attributes') continue;
    const v = node[k];
    if (isObj(v) && v['#text'] === undefined) {
      // An element with attributes only is an empty leaf, as in XML.
      if (v['#attributes'] !== undefined && Object.keys(v).length === 1) setField(fields, k, '');
      else addLeaves(fields, v, depth + 1);
    } else {
      setField(fields, k, v);
    }
  }
}
