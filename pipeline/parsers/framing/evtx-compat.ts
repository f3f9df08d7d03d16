/**
 * Work-arounds for @ts-evtx/core 1.1.1, found by comparing its output with the python-evtx twins of the
 * shared EVTX samples (evtx-jsonl/). Without them:
 * 1. a Boolean substitution (4 bytes on disk) is read as 1 byte, so every later value of the record is
 *    read 3 bytes off: Sysmon 3 events of older Sysmon versions came out with garbage IPs and ports;
 * 2. HexInt32/HexInt64 values are formatted by the template's declared type, so Security PIDs such as
 *    `ProcessId` came out decimal instead of Windows' `0x1a2b`;
 * 3. the XML pretty-printer indents every line of multi-line values (PowerShell ScriptBlockText) and
 *    drops values made only of whitespace.
 * 4. its XML escaper deletes C1 control characters, legal in XML and present in mis-decoded command lines.
 * (1) and (2) are fixed where substitutions are parsed (the library's own VariantValueParser, patched once
 * here); (3) and (4) by hiding line breaks, control characters and whitespace-only values behind
 * private-use characters during rendering, turned into character references afterwards (`restoreRendered`).
 */
import { VariantValueParser } from '@ts-evtx/core/dist/src/evtx/VariantValueParser.js';

const HEX32 = 20;
const HEX64 = 21;
const WSTRING = 1;
const STRING = 2;

/** Renders like Windows (`0x1a2b`) whether the library calls String(v) or `0x${v.toString(16)}`. */
class HexValue {
  constructor(private readonly v: number | bigint) {}
  toString(radix?: number): string {
    return radix === 16 ? this.v.toString(16) : `0x${this.v.toString(16)}`;
  }
}

// Private-use stand-ins (U+E000 + the character's code); a genuine one in event data would come out as the
// character it stands for.
const SENTINEL_BASE = 0xe000;
const WHITESPACE = /[\t\n\r ]/g;
// Line breaks (indented by the pretty-printer) and C1 control characters (deleted by its escaper although
// XML 1.0 allows them; they occur in mis-decoded command lines). C0 controls stay dropped, as python-evtx
// and XML 1.0 drop them.
const HIDDEN = /[\n\r\u007F-\u009F]/g;
const RESTORE = /[\uE009\uE00A\uE00D\uE020\uE07F-\uE09F]/g;

function toSentinel(c: string): string {
  return String.fromCharCode(SENTINEL_BASE + c.charCodeAt(0));
}

function hide(s: string): string {
  if (s.length === 0) return s;
  if (s.trim().length === 0) return s.replace(WHITESPACE, toSentinel).replace(HIDDEN, toSentinel);
  HIDDEN.lastIndex = 0;
  return HIDDEN.test(s) ? s.replace(HIDDEN, toSentinel) : s;
}

/** Turns the stand-ins of `hide` into character references, which survive XML parsing exactly. */
export function restoreRendered(xml: string): string {
  RESTORE.lastIndex = 0;
  if (!RESTORE.test(xml)) return xml;
  return xml.replace(RESTORE, (c) => `&#x${(c.charCodeAt(0) - SENTINEL_BASE).toString(16)};`);
}

interface ParserInternals {
  r: { tell(): number; seek(p: number): void; readonly size: number };
}

let installed = false;

export function installEvtxCompat(): void {
  if (installed) return;
  installed = true;
  const proto = VariantValueParser.prototype;
  const original = proto.parse;
  proto.parse = function patchedParse(this: VariantValueParser, type, expectedLength) {
    const reader = (this as unknown as ParserInternals).r;
    const start = reader.tell();
    const result = original.call(this, type, expectedLength);
    if (expectedLength === undefined) return result;
    // Substitution values have a declared size: the next value starts there, whatever was read.
    const end = start + expectedLength;
    if (expectedLength > 0 && reader.tell() !== end && end <= reader.size) {
      reader.seek(end);
      result.consumedBytes = expectedLength;
    }
    const v = result.value;
    if ((type === HEX32 || type === HEX64) && (typeof v === 'number' || typeof v === 'bigint')) {
      result.value = new HexValue(v);
    } else if ((type === WSTRING || type === STRING) && typeof v === 'string') {
      result.value = hide(v);
    } else if (Array.isArray(v)) {
      result.value = v.map((s) => (typeof s === 'string' ? hide(s) : s));
    }
    return result;
  };
}
