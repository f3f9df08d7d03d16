/**
 * Value-level normalisation shared by every input shape. These run once per field of every record on the
 * parse stage's hot path, so they use char codes instead of regular expressions.
 */

/** Sysmon fields whose booleans come as "true", "True" or true depending on the collector. */
const BOOLEAN_FIELDS = new Set([
  'Initiated',
  'SourceIsIpv6',
  'DestinationIsIpv6',
  'Signed',
  'IsExecutable',
  'Archived',
]);

/**
 * A field value as the string the rest of the pipeline sees, or undefined to drop it.
 * - GUIDs (field name ending in Guid/GUID): braces stripped, upper-case, as Windows renders them.
 * - Zero-padded 32/64-bit hex (`0x00001010`, python-evtx and some collectors): shortened to `0x1010`,
 *   the Windows rendering Sigma rules are written against.
 * - Booleans of the known Sysmon boolean fields: lower-case.
 * - Numbers: decimal strings. null: empty string (an empty `<Data>` element).
 */
export function fieldString(key: string, value: unknown, depth = 0): string | undefined {
  switch (typeof value) {
    case 'string':
      return normalizeStringField(key, value);
    case 'number':
      return Number.isFinite(value) ? String(value) : undefined;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString();
    case 'object':
      return objectFieldString(key, value, depth);
    default:
      return undefined;
  }
}

function objectFieldString(key: string, value: object | null, depth: number): string | undefined {
  if (value === null) return '';
  // Bounded so that a hostile record handed to normalizeRecord directly cannot blow the stack.
  if (depth > 8) return undefined;
  if (Array.isArray(value)) {
    const parts: string[] = [];
    for (const v of value) {
      const s = fieldString(key, v, depth + 1);
      if (s !== undefined) parts.push(s);
    }
    // Repeated values (unnamed <Data> elements) are joined with newlines, the same in every shape.
    return parts.join('\n');
  }
  const text = (value as Record<string, unknown>)['#text'];
  if (text !== undefined) return fieldString(key, text, depth + 1);
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

export function normalizeStringField(key: string, v: string): string {
  const last = key.charCodeAt(key.length - 1);
  // 'd' / 'D': only then can the key end in Guid / GUID.
  if ((last === 100 || last === 68) && (key.endsWith('Guid') || key.endsWith('GUID')))
    return normalizeGuid(v);
  // '0x0...' of exactly 8 or 16 hex digits: a zero-padded HexInt32/HexInt64 rendering.
  if (v.charCodeAt(0) === 48 && v.charCodeAt(2) === 48 && (v.length === 10 || v.length === 18)) {
    const x = v.charCodeAt(1);
    if (x === 120 || x === 88) return unpadHex(v);
  }
  if (BOOLEAN_FIELDS.has(key)) {
    const c = v.charCodeAt(0);
    if (c === 84 || c === 70) {
      // 'T' / 'F'
      const low = v.toLowerCase();
      if (low === 'true' || low === 'false') return low;
    }
  }
  return v;
}

/** `{d273d0f0-d905-5f63-6a05-000000000400}` -> `D273D0F0-D905-5F63-6A05-000000000400`; other values unchanged. */
export function normalizeGuid(v: string): string {
  if (v.length === 38 && v.charCodeAt(0) === 123 && v.charCodeAt(37) === 125) {
    const inner = v.slice(1, 37);
    return isGuidBody(inner) ? inner.toUpperCase() : v;
  }
  if (v.length === 36 && isGuidBody(v)) return v.toUpperCase();
  return v;
}

function isGuidBody(s: string): boolean {
  for (let i = 0; i < 36; i++) {
    const c = s.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 45) return false;
    } else if (!isHexDigit(c)) return false;
  }
  return true;
}

function isHexDigit(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/** `0x00001010` -> `0x1010`, `0x00000000` -> `0x0`; anything not pure hex is returned unchanged. */
export function unpadHex(v: string): string {
  let i = 2;
  for (let j = 2; j < v.length; j++) if (!isHexDigit(v.charCodeAt(j))) return v;
  while (i < v.length - 1 && v.charCodeAt(i) === 48) i++;
  return '0x' + v.slice(i);
}

/** `0x1660` (Security PIDs) or `5728` -> `5728`; undefined when it is neither. */
export function hexOrDecimalToDecimal(v: string): string | undefined {
  const s = v.trim();
  if (s.length === 0) return undefined;
  if (s.length > 2 && s.charCodeAt(0) === 48 && (s.charCodeAt(1) === 120 || s.charCodeAt(1) === 88)) {
    for (let i = 2; i < s.length; i++) if (!isHexDigit(s.charCodeAt(i))) return undefined;
    const n = Number.parseInt(s.slice(2), 16);
    return Number.isSafeInteger(n) ? String(n) : undefined;
  }
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  return String(Number(s));
}

function digits(s: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/**
 * Parses `YYYY-MM-DD HH:MM:SS[.fff...]` (Sysmon UtcTime) and ISO-8601 (`T` separator, `Z` or `+hh:mm`
 * offset) to epoch milliseconds. A time without zone is taken as UTC. NaN when malformed.
 */
export function parseTimestamp(s: string): number {
  const len = s.length;
  if (len < 19) return Number.NaN;
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 2);
  const day = digits(s, 8, 2);
  const hour = digits(s, 11, 2);
  const minute = digits(s, 14, 2);
  const second = digits(s, 17, 2);
  const sep = s.charCodeAt(10);
  if (
    year < 0 ||
    s.charCodeAt(4) !== 45 ||
    s.charCodeAt(7) !== 45 ||
    (sep !== 32 && sep !== 84 && sep !== 116) ||
    s.charCodeAt(13) !== 58 ||
    s.charCodeAt(16) !== 58 ||
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > 31 ||
    hour < 0 ||
    hour > 23 ||
    minute < 0 ||
    minute > 59 ||
    second < 0 ||
    second > 60
  ) {
    return Number.NaN;
  }
  let i = 19;
  let ms = 0;
  if (i < len && (s.charCodeAt(i) === 46 || s.charCodeAt(i) === 44)) {
    i++;
    let n = 0;
    while (i < len) {
      const d = s.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      if (n < 3) ms = ms * 10 + d;
      n++;
      i++;
    }
    if (n === 0) return Number.NaN;
    for (; n < 3; n++) ms *= 10;
  }
  let offsetMinutes = 0;
  if (i < len) {
    const c = s.charCodeAt(i);
    if ((c === 90 || c === 122) && i === len - 1) {
      // 'Z'
    } else if (c === 43 || c === 45) {
      const oh = digits(s, i + 1, 2);
      const colon = s.charCodeAt(i + 3) === 58;
      const om = digits(s, i + (colon ? 4 : 3), 2);
      if (oh < 0 || om < 0 || i + (colon ? 6 : 5) !== len) return Number.NaN;
      offsetMinutes = (oh * 60 + om) * (c === 45 ? -1 : 1);
    } else {
      return Number.NaN;
    }
  }
  const t = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  return t - offsetMinutes * 60_000;
}

/**
 * Largest epoch ms a JS Date holds (±100,000,000 days). An event time beyond it cannot be rendered
 * (formatUtcTime, the API's ISO dates throw a RangeError), so parsers reject it as an invalid time.
 */
export const MAX_EVENT_TIME_MS = 8.64e15;

export function isEventTime(ms: number): boolean {
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_EVENT_TIME_MS;
}

/** Epoch ms -> `YYYY-MM-DD HH:MM:SS.mmm`, Sysmon's UtcTime format (for sources that have no UtcTime). */
export function formatUtcTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.slice(0, 10) + ' ' + iso.slice(11, 23);
}

/**
 * Cheap guard against deeply nested JSON before parsing. Counting the openers with indexOf (native, fast)
 * settles almost every record; only a record with more openers than the limit is scanned properly
 * (brackets inside strings do not count).
 */
export function jsonNestingExceeds(text: string, max: number): boolean {
  let count = 0;
  let i = -1;
  while ((i = text.indexOf('{', i + 1)) !== -1) if (++count > max) break;
  if (count <= max) {
    i = -1;
    while ((i = text.indexOf('[', i + 1)) !== -1) if (++count > max) break;
  }
  if (count <= max) return false;
  let depth = 0;
  let inString = false;
  for (let j = 0; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (inString) {
      if (c === 92) j++;
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > max) return true;
    } else if (c === 125 || c === 93) depth--;
  }
  return false;
}

const FIRST_BYTES_MAX = 200;

/**
 * The first characters of a bad record, safe to show in a UI or a log line: at most 200 characters,
 * control characters, invisible/bidi-override characters and lone surrogates replaced by '.'.
 */
export function safeFirstBytes(input: string | Uint8Array): string {
  const text =
    typeof input === 'string'
      ? input.slice(0, FIRST_BYTES_MAX + 1)
      : new TextDecoder('utf-8', { fatal: false }).decode(input.subarray(0, FIRST_BYTES_MAX * 4));
  let out = '';
  let n = 0;
  for (let i = 0; i < text.length && n < FIRST_BYTES_MAX; i++, n++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        out += text[i]! + text[i + 1]!;
        i++;
        continue;
      }
      out += '.';
    } else if (
      c < 0x20 ||
      (c >= 0x7f && c <= 0x9f) ||
      (c >= 0xdc00 && c <= 0xdfff) ||
      c === 0xfffd ||
      (c >= 0x200b && c <= 0x200f) ||
      (c >= 0x202a && c <= 0x202e) ||
      (c >= 0x2066 && c <= 0x2069) ||
      c === 0xfeff
    ) {
      out += c === 9 ? ' ' : '.';
    } else {
      out += text[i]!;
    }
  }
  return out;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Stores one field. Sysmon itself names the GUIDs of EventID 10 `SourceProcessGUID`/`TargetProcessGUID`
 * but those of EventID 8 `...Guid`; both spellings are kept as written and a `...GUID` field also gets the
 * `...Guid` name, so consumers can rely on one spelling.
 */
export function setField(fields: Record<string, string>, key: string, value: unknown): void {
  const s = fieldString(key, value);
  if (s === undefined) return;
  fields[key] = s;
  if (key.charCodeAt(key.length - 1) === 68 && key.length > 4 && key.endsWith('GUID')) {
    fields[key.slice(0, -4) + 'Guid'] = s;
  }
}
