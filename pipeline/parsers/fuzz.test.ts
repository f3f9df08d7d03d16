/**
 * Fuzzing of every input shape: real good records (fixtures and ../shared/data) are mutated thousands of
 * times and fed to the parsers, at record level (parseRawRecord) and through the readers (streams, files).
 * What must hold whatever the input: no throw, no hang, every result an event, a skip or a rejection with
 * a `<category>: <detail>` reason of bounded length, every event valid for the domain schema, every
 * untouched good record read as the same event it gives alone, and nothing lost or doubled in a stream.
 *
 * Deterministic: one seed (LENSGRAPH_FUZZ_SEED overrides the default) derives a PRNG per case, so every
 * failure names the seed, the shape, the case number and the operators, and a rerun with that seed
 * replays it exactly. Oversized inputs, gzip bombs and entity expansion have their own tests
 * (hostile-input.test.ts); here the records stay within the limits or just above them.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile as readBytes, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NormalizedEvent } from '../../domain/event';
import { mulberry32 } from '../../test/seeded-random';
import { parseRawRecord } from './normalize-record';
import { expandOsqueryBatch, isOsqueryBatch } from './osquery';
import { readRecords, readRecordsFromStream } from './read-records';
import { FIXTURES, SHARED_DATA, summarize, type ReadSummary } from './test-support';
import {
  DEFAULT_MAX_JSON_DEPTH,
  DEFAULT_MAX_LINE_BYTES,
  isFramingRejection,
  type InputFormat,
  type NormalizeOptions,
  type ParseResult,
} from './types';

// ---------------------------------------------------------------------------------------------------
// Seeded randomness

const DEFAULT_SEED = 20261205;

function fuzzSeed(): number {
  const raw = process.env.LENSGRAPH_FUZZ_SEED;
  if (raw === undefined || raw.trim() === '') return DEFAULT_SEED;
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new Error(`LENSGRAPH_FUZZ_SEED must be an integer, got "${raw}"`);
  return n >>> 0;
}

const SEED = fuzzSeed();
const REPRO = `rerun with LENSGRAPH_FUZZ_SEED=${SEED}`;

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  /** 0 .. n-1 */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** lo .. hi inclusive */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  /** Log-uniform size in 1 .. max: small sizes often, huge ones sometimes. */
  size(max: number): number {
    return Math.max(1, Math.floor(Math.exp(this.next() * Math.log(max))));
  }
  weighted<T extends string>(table: ReadonlyArray<readonly [T, number]>): T {
    let total = 0;
    for (const [, w] of table) total += w;
    let x = this.next() * total;
    for (const [v, w] of table) {
      x -= w;
      if (x < 0) return v;
    }
    return table[table.length - 1]![0];
  }
}

/** An independent PRNG per case: a failing case replays from the seed without running the others. */
function rngFor(...parts: Array<string | number>): Rng {
  return new Rng(fnv1a([SEED, ...parts].join(':')));
}

// ---------------------------------------------------------------------------------------------------
// Limits and the checks every result must pass

const CASES_PER_SHAPE = 2000;
const STREAM_MUTANTS = 400;
const EVTX_VARIANTS = 220;
const LIMIT = DEFAULT_MAX_JSON_DEPTH;
const MAX_REASON = 400;
/** A single record taking this long is a hang in the making (the machine is shared, so generous). */
const SLOW_RECORD_MS = 3000;
const STREAM_TIMEOUT_MS = 10_000;
/** Largest time a JS Date holds: an event time beyond it cannot be rendered (API, exports). */
const MAX_DATE_MS = 8.64e15;
/** Category: the stable text before the first colon, counted per upload; it must not carry data. */
const CATEGORY = /^[A-Za-z][A-Za-z0-9 ./_()-]{0,59}$/;
const OPTION_SETS: readonly NormalizeOptions[] = [{}, { keepUnsupported: true }];

function categoryOf(reason: string): string {
  const i = reason.indexOf(':');
  return i === -1 ? reason : reason.slice(0, i);
}

function reasonProblem(reason: unknown): string | undefined {
  if (typeof reason !== 'string') return `reason is a ${typeof reason}`;
  if (reason.length > MAX_REASON) return `reason longer than ${MAX_REASON} (${reason.length} characters)`;
  const i = reason.indexOf(': ');
  if (i <= 0) return `reason is not "<category>: <detail>": ${JSON.stringify(reason.slice(0, 100))}`;
  if (!CATEGORY.test(reason.slice(0, i)))
    return `reason category carries data: ${JSON.stringify(reason.slice(0, 100))}`;
  if (reason.slice(i + 2).trim() === '') return `reason has no detail: ${JSON.stringify(reason)}`;
  return undefined;
}

/** What is wrong with a result, or undefined. */
function resultProblem(r: ParseResult): string | undefined {
  switch (r.kind) {
    case 'rejected':
      return reasonProblem(r.reason);
    case 'skipped':
      return typeof r.type === 'string' && r.type.length > 0 ? undefined : 'skipped without a type';
    case 'event': {
      const parsed = NormalizedEvent.safeParse(r.event);
      if (!parsed.success) return `invalid event: ${parsed.error.message.slice(0, 300)}`;
      const e = r.event;
      if (e.host.trim() === '') return 'event with a blank host';
      if (e.channel === '') return 'event with an empty channel';
      if (!Number.isFinite(e.time) || Math.abs(e.time) > MAX_DATE_MS)
        return `event time ${e.time} is not a valid date`;
      if (e.eventId < 0 || e.eventId > 65535) return `event id ${e.eventId} out of range`;
      if (e.recordId !== undefined && !Number.isSafeInteger(e.recordId))
        return `record id ${e.recordId} is not a safe integer`;
      return undefined;
    }
    default:
      return `unknown result kind: ${JSON.stringify(r).slice(0, 100)}`;
  }
}

/** Deepest nesting of valid JSON text (brackets in strings do not count). */
function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inStr = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inStr) {
      if (c === 92) i++;
      else if (c === 34) inStr = false;
    } else if (c === 34) inStr = true;
    else if (c === 123 || c === 91) max = Math.max(max, ++depth);
    else if (c === 125 || c === 93) depth--;
  }
  return max;
}

interface Failure {
  where: string;
  problem: string;
  sample: string;
}

function sampleOf(text: string): string {
  return JSON.stringify(text.slice(0, 240)) + (text.length > 240 ? ` ... (${text.length} chars)` : '');
}

function report(failures: Failure[]): string {
  const kinds = new Map<string, number>();
  for (const f of failures) {
    const k = f.problem.replace(/\d+/g, '#').slice(0, 60);
    kinds.set(k, (kinds.get(k) ?? 0) + 1);
  }
  return (
    `${failures.length} problem(s), ${REPRO}\n` +
    [...kinds].map(([k, n]) => `  ${n} x ${k}`).join('\n') +
    '\nfirst ones:\n' +
    failures
      .slice(0, 6)
      .map((f) => `- ${f.where}\n  ${f.problem}\n  input: ${f.sample}`)
      .join('\n')
  );
}

interface Tally {
  mutations: number;
  event: number;
  skipped: number;
  rejected: number;
  oracles: number;
  ops: Map<string, number>;
  longestSkipType: number;
}

function newTally(): Tally {
  return { mutations: 0, event: 0, skipped: 0, rejected: 0, oracles: 0, ops: new Map(), longestSkipType: 0 };
}

// ---------------------------------------------------------------------------------------------------
// Mutation material

const NASTY_CHARS: readonly string[] = [
  // C0/C1 controls, line and paragraph separators, invisible and bidi characters
  ...['\u0000', '\u0001', '\u0008', '\t', '\n', '\u000b', '\u000c', '\r', '\u001b', '\u001f', '\u007f'],
  ...['\u0085', '\u00a0', '\u2028', '\u2029', '\u200b', '\u202e', '\ufeff', '\ufffd', '\ufffe', '\uffff'],
  // lone and paired surrogates, non-ASCII letters and digits
  ...['\ud800', '\udfff', '\udbff\udfff', '\ud83d\ude00', 'é', '\u{1d518}', '\uff11'],
  // JSON and XML syntax, number characters
  ...['"', "'", '\\', '/', '{', '}', '[', ']', ':', ',', '<', '>', '&', ';', '=', '?', '!', '-', '#', '%'],
  ...[' ', '0', '9', 'e', 'E', '.', '+', 'x', 'A', 'z'],
];

function nastyRun(rng: Rng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += rng.pick(NASTY_CHARS);
  return s;
}

/** A long string (up to `max` characters) built from repeated blocks, cheap even at 1 M characters. */
function hugeString(rng: Rng, max: number): string {
  const n = Math.max(1024, rng.size(max));
  const block = rng.pick(['A', '\\', 'é', '\u{1d518}', 'C:\\Windows\\', nastyRun(rng, 64), '"<&>']);
  return block.repeat(Math.ceil(n / block.length)).slice(0, n);
}

/** Raw number tokens (some not JSON at all): overflow to Infinity, lose precision, or fail to parse. */
const RAW_NUMBERS: readonly string[] = [
  ...['1e309', '-1e309', '-0', '1E-400', '9007199254740993', '18446744073709551616', '-9223372036854775808'],
  ...['123456789012345678901234567890', 'NaN', 'Infinity', '0x1F', '+1', '01', '.5'],
];
const NUMBER_VALUES: ReadonlyArray<number | string> = [
  ...[0, -1, 1.5, 65536, 4294967296, 1e21, 1e300, -1e300, Number.MAX_SAFE_INTEGER],
  ...['NaN', 'Infinity', '-Infinity', '1e309', '1e300', '99999999999999', '-1', '0x1F', '0xFFFFFFFFFF'],
  ...['0b101', '1_000', ' 42 ', '', '\u0663', '\uff11\uff12', '1.0', '4294967296'],
];
/** Numbers and number-like strings that break naive parsing; raw ones are spliced into the JSON text. */
const NUMERIC_EDGES: ReadonlyArray<{ raw: string } | { value: number | string }> = [
  ...RAW_NUMBERS.map((raw) => ({ raw })),
  ...NUMBER_VALUES.map((value) => ({ value })),
];

const BAD_GUIDS: readonly string[] = [
  ...['', '{}', '{', '}', 'null', '-', '00000000-0000-0000-0000-000000000000'],
  ...['{39e4a257-004e-5f8d-4304-000000000700', '39e4a257-004e-5f8d-4304-000000000700}'],
  ...['{39e4a257-004e-5f8d-4304-00000000070g}', '{39e4a257004e-5f8d-4304-0000000007000}'],
  ...['{39e4a257-004e-5f8d-4304-0000000007000}', '39E4A257-004E-5F8D-4304-00000000070'],
  '{39e4a257-004e-5f8d-4304-000000000700}{39e4a257-004e-5f8d-4304-000000000700}',
  ...['{ 39e4a257-004e-5f8d-4304-000000000700 }', '{39E4A257-004E-5F8D-4304-00000000070\u0000}'],
  ...['{39e4a257\u2010004e\u20105f8d\u20104304\u2010000000000700}', '{ffffffff-ffff-ffff-ffff-ffffffffffff}'],
];

/** Time values no parser may accept (strings only: a finite number is a legal epoch for some shapes). */
const BAD_TIME_STRINGS: readonly string[] = [
  ...['', ' ', 'yesterday', 'NaN', '2020-10-18', '1603022174', '0x5f8c2f04', '20201018T115614Z'],
  ...[
    '2020-13-01 00:00:00.000',
    '2020-00-10 00:00:00.000',
    '2020-10-18 24:00:00.000',
    '2020-10-18 11:60:00.000',
  ],
  ...['2020-10-18T11:56:14.283+25', '2020-10-18T11:56:14.283+0', '2020/10/18 11:56:14.283'],
  ...['2020-10-18 11:56:14.', '2020-10-18 11:56:14.283Zjunk', '2020-10-18 11:56:14.283 +02:00 extra'],
  ...['\uff12\uff10\uff12\uff10-10-18 11:56:14.283', '2020-1O-18 11:56:14.283', '-2020-10-18 11:56:14'],
];

/** Time-ish values for the timestamp operator: the strings above plus numbers at the edges. */
const TIME_EDGES: ReadonlyArray<string | number | null> = [
  ...BAD_TIME_STRINGS,
  ...[
    '2020-02-31 00:00:00.000',
    '0000-01-01 00:00:00.000',
    '9999-12-31 23:59:60.999',
    '2020-10-18T11:56:14Z',
  ],
  '2020-10-18T11:56:14.2831234567890123456789Z',
  ...[0, -1, 1.5, 1e11, 1e15, 1e300, -1e300, Number.MAX_SAFE_INTEGER, null],
];

const TIME_KEYS =
  /^(UtcTime|TimeCreated|SystemTime|@timestamp|time|unixTime|calendarTime|EventTime|EventReceivedTime|start_time|CreationUtcTime|PreviousCreationUtcTime)$/;
const NUMBER_KEYS =
  /^(EventID|event_id|EventRecordID|RecordNumber|record_number|ProcessId|ParentProcessId|pid|ppid|parent|uid|SourcePort|DestinationPort|local_port|remote_port|family|protocol|Version|Level|Task|Opcode|ThreadID|TerminalSessionId|unixTime|time)$/;

// ---------------------------------------------------------------------------------------------------
// Seeds

interface Seed {
  text: string;
  format: InputFormat;
  /** What the record gives alone (default options). */
  result: ParseResult;
}

/** The framed records of a file (at most `max`), as the readers hand them to parseRawRecord. */
async function framedTexts(file: string, max: number): Promise<Array<{ text: string; format: InputFormat }>> {
  const out: Array<{ text: string; format: InputFormat }> = [];
  for await (const item of readRecords(file)) {
    if (isFramingRejection(item)) continue;
    out.push({ text: item.text, format: item.format });
    if (out.length >= max) break;
  }
  return out;
}

async function seedsFrom(files: ReadonlyArray<readonly [string, number]>): Promise<Seed[]> {
  const seeds: Seed[] = [];
  for (const [file, max] of files) {
    if (!existsSync(file)) continue;
    for (const { text, format } of await framedTexts(file, max)) {
      const result = parseRawRecord({ recordNo: 1, format, text });
      // Good records only: every mutation starts from something the parser accepts.
      if (result.kind === 'event') seeds.push({ text, format, result });
    }
  }
  return seeds;
}

async function listFiles(dir: string, ext: string, max: number): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { recursive: true });
  return entries
    .filter((e) => e.endsWith(ext))
    .sort()
    .slice(0, max)
    .map((e) => path.join(dir, e));
}

const fx = (name: string) => path.join(FIXTURES, name);
const shared = (name: string) => path.join(SHARED_DATA, name);

// ---------------------------------------------------------------------------------------------------
// JSON mutations

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObj = { [key: string]: Json };
type Path = Array<string | number>;

function isObj(v: Json | undefined): v is JsonObj {
  return v !== null && v !== undefined && typeof v === 'object' && !Array.isArray(v);
}

interface Draft {
  value: JsonObj;
  /** Placeholder string -> raw JSON text spliced in at render time (tokens JSON.stringify cannot write). */
  raws: Map<string, string>;
}

function rawPlaceholder(d: Draft, raw: string): string {
  const key = `@@FUZZRAW${d.raws.size}@@`;
  d.raws.set(key, raw);
  return key;
}

function nodes(v: Json, p: Path = [], out: Array<{ path: Path; value: Json }> = []) {
  if (p.length > 0) out.push({ path: p, value: v });
  if (p.length > 12) return out;
  if (Array.isArray(v)) v.forEach((x, i) => nodes(x, [...p, i], out));
  else if (isObj(v)) for (const k of Object.keys(v)) nodes(v[k]!, [...p, k], out);
  return out;
}

function getAt(root: Json, p: Path): Json | undefined {
  let v: Json | undefined = root;
  for (const k of p) {
    if (Array.isArray(v) && typeof k === 'number') v = v[k];
    else if (isObj(v) && typeof k === 'string') v = Object.hasOwn(v, k) ? v[k] : undefined;
    else return undefined;
  }
  return v;
}

/** Sets a value, creating missing objects on the way; own property even for `__proto__`. */
function setAt(root: JsonObj, p: Path, value: Json): void {
  let v: Json = root;
  for (let i = 0; i < p.length - 1; i++) {
    let next = getAt(v, [p[i]!]);
    if (next === undefined || next === null || typeof next !== 'object') {
      next = {};
      setOwn(v, p[i]!, next);
    }
    v = next;
  }
  setOwn(v, p[p.length - 1]!, value);
}

function setOwn(container: Json, k: string | number, value: Json): void {
  if (Array.isArray(container) && typeof k === 'number') container[k] = value;
  else if (isObj(container))
    Object.defineProperty(container, String(k), {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
}

function deleteAt(root: JsonObj, p: Path): void {
  const parent = getAt(root, p.slice(0, -1));
  const k = p[p.length - 1]!;
  if (Array.isArray(parent) && typeof k === 'number') parent.splice(k, 1);
  else if (isObj(parent)) delete parent[String(k)];
}

function renameAt(root: JsonObj, p: Path, to: string): void {
  const parentPath = p.slice(0, -1);
  const parent = getAt(root, parentPath);
  const from = p[p.length - 1];
  if (!isObj(parent) || typeof from !== 'string') return;
  // Rebuilt so the key keeps its place; fromEntries makes `__proto__` an own property.
  const rebuilt = Object.fromEntries(Object.entries(parent).map(([k, v]) => [k === from ? to : k, v]));
  if (parentPath.length === 0) {
    for (const k of Object.keys(root)) delete root[k];
    for (const [k, v] of Object.entries(rebuilt)) setOwn(root, k, v as Json);
  } else setAt(root, parentPath, rebuilt as JsonObj);
}

function render(d: Draft, pretty: boolean): string {
  let text = JSON.stringify(d.value, null, pretty ? 2 : undefined);
  for (const [key, raw] of d.raws) text = text.split(JSON.stringify(key)).join(raw);
  return text;
}

/** Nested arrays/objects `depth` deep, as raw JSON text. */
function nested(rng: Rng, depth: number): string {
  const open: string[] = [];
  const close: string[] = [];
  const style = rng.int(3);
  for (let i = 0; i < depth; i++) {
    const arr = style === 0 || (style === 2 && rng.chance(0.5));
    open.push(arr ? '[' : '{"a":');
    close.push(arr ? ']' : '}');
  }
  return open.join('') + rng.pick(['0', '"x"', 'null', '[]', '{}']) + close.reverse().join('');
}

function otherTypeValue(rng: Rng, orig: Json): Json {
  const s = typeof orig === 'string' ? orig : JSON.stringify(orig);
  const options: Json[] = [
    0,
    -1,
    1.5,
    Number(s.length),
    s,
    '',
    [],
    [orig],
    [orig, orig],
    {},
    { '#text': orig },
    { '#attributes': { Name: 'x' } },
    null,
    true,
    false,
  ];
  const typeOf = (v: Json) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  const differ = options.filter((o) => typeOf(o) !== typeOf(orig));
  return rng.pick(differ.length > 0 ? differ : options);
}

type JsonOp =
  | 'deleteKey'
  | 'renameKey'
  | 'duplicateKey'
  | 'typeSwap'
  | 'hugeString'
  | 'deepNesting'
  | 'unicode'
  | 'numericEdge'
  | 'badGuid'
  | 'badTimestamp';

const JSON_OPS: ReadonlyArray<readonly [JsonOp, number]> = [
  ['deleteKey', 8],
  ['renameKey', 7],
  ['duplicateKey', 3],
  ['typeSwap', 10],
  ['hugeString', 3],
  ['deepNesting', 4],
  ['unicode', 6],
  ['numericEdge', 8],
  ['badGuid', 5],
  ['badTimestamp', 7],
];

function pickNode(rng: Rng, d: Draft, want?: (key: string | number, v: Json) => boolean) {
  const all = nodes(d.value);
  const matching = want === undefined ? all : all.filter((n) => want(n.path[n.path.length - 1]!, n.value));
  return matching.length > 0 ? rng.pick(matching) : all.length > 0 ? rng.pick(all) : undefined;
}

function applyJsonOp(op: JsonOp, d: Draft, rng: Rng, maxHuge: number): void {
  switch (op) {
    case 'deleteKey': {
      const n = pickNode(rng, d);
      if (n !== undefined) deleteAt(d.value, n.path);
      return;
    }
    case 'renameKey': {
      const n = pickNode(rng, d, (k) => typeof k === 'string');
      const k = n?.path[n.path.length - 1];
      if (n === undefined || typeof k !== 'string') return;
      const others = Object.keys(d.value);
      const to = rng.pick([
        k.toLowerCase(),
        k.toUpperCase(),
        k + 'x',
        ' ' + k,
        k + '\u0000',
        k.slice(1),
        '',
        '__proto__',
        'constructor',
        'toString',
        '#text',
        '#attributes',
        '\uff25' + k.slice(1),
        rng.pick(others),
      ]);
      renameAt(d.value, n.path, to);
      return;
    }
    case 'duplicateKey': {
      // JSON text with the same key twice (JSON.parse keeps the last): spliced as a raw member.
      const n = pickNode(rng, d, (k) => typeof k === 'string');
      const k = n?.path[n.path.length - 1];
      if (n === undefined || typeof k !== 'string') return;
      const placeholder = rawPlaceholder(
        d,
        JSON.stringify(otherTypeValue(rng, n.value)) + `, ${JSON.stringify(k)}: ` + JSON.stringify(n.value),
      );
      setAt(d.value, n.path, placeholder);
      return;
    }
    case 'typeSwap': {
      const n = pickNode(rng, d);
      if (n !== undefined) setAt(d.value, n.path, otherTypeValue(rng, n.value));
      return;
    }
    case 'hugeString': {
      const n = pickNode(rng, d, (_k, v) => typeof v === 'string');
      if (n !== undefined) setAt(d.value, n.path, hugeString(rng, maxHuge));
      return;
    }
    case 'deepNesting': {
      const n = pickNode(rng, d);
      if (n === undefined) return;
      // Total depth around the limit, now and then far beyond it.
      const total = rng.pick([LIMIT - 2, LIMIT - 1, LIMIT, LIMIT + 1, LIMIT + 2, LIMIT + 10, 1000, 20_000]);
      setAt(d.value, n.path, rawPlaceholder(d, nested(rng, Math.max(1, total - n.path.length))));
      return;
    }
    case 'unicode': {
      const n = pickNode(rng, d, (_k, v) => typeof v === 'string');
      if (n === undefined) return;
      const s = typeof n.value === 'string' ? n.value : '';
      const at = rng.int(s.length + 1);
      const run = nastyRun(rng, rng.range(1, 12));
      const v = rng.chance(0.3) ? run : s.slice(0, at) + run + s.slice(at);
      if (rng.chance(0.2)) renameAt(d.value, n.path, String(n.path[n.path.length - 1]) + run);
      else setAt(d.value, n.path, v);
      return;
    }
    case 'numericEdge': {
      const n = pickNode(rng, d, (k) => typeof k === 'string' && NUMBER_KEYS.test(k));
      if (n === undefined) return;
      const e = rng.pick(NUMERIC_EDGES);
      setAt(d.value, n.path, 'raw' in e ? rawPlaceholder(d, e.raw) : e.value);
      return;
    }
    case 'badGuid': {
      const n = pickNode(rng, d, (k) => typeof k === 'string' && /guid/i.test(k));
      if (n === undefined) return;
      const orig = typeof n.value === 'string' ? n.value : '';
      const at = rng.int(Math.max(1, orig.length));
      const corrupted = rng.pick([
        orig.slice(0, at) + rng.pick(['g', 'G', '-', '{', '}', ' ', '\u0000', 'é']) + orig.slice(at + 1),
        orig.slice(0, at) + orig.slice(at + 1),
        orig + rng.pick(['0', '}', ' ']),
        orig.replace(/-/g, ''),
      ]);
      setAt(d.value, n.path, rng.chance(0.5) ? corrupted : rng.pick(BAD_GUIDS));
      return;
    }
    case 'badTimestamp': {
      const n = pickNode(rng, d, (k) => typeof k === 'string' && TIME_KEYS.test(k));
      if (n !== undefined) setAt(d.value, n.path, rng.pick(TIME_EDGES));
      return;
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Text and byte mutations (any shape)

type TextOp = 'truncate' | 'replaceChars' | 'deleteSpan' | 'duplicateSpan' | 'insertUnicode' | 'bytes';

const TEXT_OPS: ReadonlyArray<readonly [TextOp, number]> = [
  ['truncate', 8],
  ['replaceChars', 8],
  ['deleteSpan', 6],
  ['duplicateSpan', 6],
  ['insertUnicode', 5],
  ['bytes', 6],
];

interface Mutant {
  text: string;
  /** The bytes when they are not plain UTF-8 of `text` (invalid sequences): what a stream carries. */
  bytes?: Buffer;
  ops: string[];
  /** Known outcome: a required field broken (rejected), nesting just within the limit (event). */
  expect?: 'rejected' | 'event';
}

function applyTextOp(op: TextOp, m: Mutant, rng: Rng): void {
  const t = m.text;
  m.bytes = undefined;
  switch (op) {
    case 'truncate':
      m.text = t.slice(0, rng.int(t.length));
      return;
    case 'replaceChars': {
      const chars = [...t];
      for (let k = rng.range(1, 8); k > 0 && chars.length > 0; k--)
        chars[rng.int(chars.length)] = rng.pick(NASTY_CHARS);
      m.text = chars.join('');
      return;
    }
    case 'deleteSpan': {
      const a = rng.int(t.length);
      m.text = t.slice(0, a) + t.slice(a + rng.size(t.length - a + 1));
      return;
    }
    case 'duplicateSpan': {
      const a = rng.int(t.length);
      const span = t.slice(a, a + rng.size(t.length - a + 1));
      const at = rng.int(t.length + 1);
      m.text = t.slice(0, at) + span + t.slice(at);
      return;
    }
    case 'insertUnicode': {
      const at = rng.int(t.length + 1);
      m.text = t.slice(0, at) + nastyRun(rng, rng.range(1, 16)) + t.slice(at);
      return;
    }
    case 'bytes': {
      const b = Buffer.from(t, 'utf8');
      const kind = rng.int(4);
      if (kind === 0) {
        for (let k = rng.range(1, 8); k > 0; k--) b[rng.int(b.length)] = rng.int(256);
      } else if (kind === 1) {
        for (let k = rng.range(1, 8); k > 0; k--) {
          const at = rng.int(b.length);
          b[at] = (b[at] ?? 0) ^ (1 << rng.int(8));
        }
      } else if (kind === 2) {
        const a = rng.int(b.length);
        b.fill(0, a, Math.min(b.length, a + rng.size(64)));
      }
      const at = rng.int(b.length + 1);
      // Overlong '/', an encoded surrogate, a lone continuation byte, a truncated sequence, a BOM.
      const insert =
        kind === 3
          ? Buffer.from(
              rng.pick([
                [0xc0, 0xaf],
                [0xed, 0xa0, 0x80],
                [0x80],
                [0xe2, 0x82],
                [0xef, 0xbb, 0xbf],
                [0xf8, 0x88, 0x80, 0x80, 0x80],
              ]),
            )
          : Buffer.alloc(0);
      const out = Buffer.concat([b.subarray(0, at), insert, b.subarray(at)]);
      m.bytes = out;
      m.text = out.toString('utf8');
      return;
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Oracles: mutations whose outcome is known (a required field broken -> rejected)

type Oracle = (v: JsonObj, rng: Rng) => string | undefined;

function breakValue(v: JsonObj, p: Path, rng: Rng, values: readonly Json[]): void {
  if (rng.chance(0.3)) deleteAt(v, p);
  else setAt(v, p, rng.pick(values));
}

const BAD_HOSTS: readonly Json[] = ['', '   ', '\t', 5, 0, true, false, [], {}, ['WS1'], { name: 'WS1' }];
const BAD_EVENT_IDS: readonly Json[] = [
  ...['', 'abc', '-1', '65536', '999999', '1.0', '0x1', '+1', '1e3', '\uff11'],
  ...[
    -1,
    65536,
    1.5,
    true,
    [],
    [1],
    {},
    { '#text': 'x' },
    { '#attributes': { Qualifiers: '' }, '#text': 'one' },
  ],
];

/** Windows shapes: one oracle breaks host, event id or every time source of the record. */
function windowsOracles(spec: {
  host: Path;
  otherHosts?: Path[];
  eventId: Path;
  utcTime: Path;
  fallbackTimes: Array<{ path: Path; wrap?: (s: string) => Json }>;
}): Oracle[] {
  return [
    (v, rng) => {
      for (const p of spec.otherHosts ?? []) deleteAt(v, p);
      breakValue(v, spec.host, rng, BAD_HOSTS);
      return 'breakHost';
    },
    (v, rng) => {
      breakValue(v, spec.eventId, rng, BAD_EVENT_IDS);
      return 'breakEventId';
    },
    (v, rng) => {
      setAt(v, spec.utcTime, rng.pick(BAD_TIME_STRINGS));
      for (const f of spec.fallbackTimes) {
        const bad = rng.pick(BAD_TIME_STRINGS);
        setAt(v, f.path, f.wrap === undefined ? bad : f.wrap(bad));
      }
      return 'breakTime';
    },
  ];
}

const osqueryOracles: Oracle[] = [
  (v, rng) => {
    deleteAt(v, ['decorations']);
    breakValue(v, ['hostIdentifier'], rng, ['', '  ', 5, null, [], {}]);
    return 'breakHost';
  },
  (v, rng) => {
    const bad = ['NaN', 'abc', '-5', '0', '', 'Infinity', '1e400', '1e300', '-1e300'];
    if (isObj(v.columns)) {
      setAt(v, ['columns', 'time'], rng.pick(bad));
      setAt(v, ['columns', 'start_time'], rng.pick(bad));
    }
    setAt(v, ['unixTime'], rng.pick([...bad, -1, 0, 1e300, null]));
    setAt(v, ['calendarTime'], rng.pick(['not a date', '', 'Tue Sep 99 99:99:99 2020 UTC']));
    return 'breakTime';
  },
  (v, rng) => {
    setAt(v, ['columns'], rng.pick(['x', [], null, 5, true]));
    return 'breakColumns';
  },
];

const GENERIC_REQUIRED: Record<string, string[]> = {
  process_start: ['pid', 'image'],
  process_stop: ['pid'],
  file_create: ['path'],
  file_write: ['path'],
  file_delete: ['path'],
  connection_outbound: ['remote_ip'],
  connection_inbound: ['remote_ip'],
};

const genericOracles: Oracle[] = [
  (v, rng) => {
    breakValue(v, ['host'], rng, ['', ' ', 5, null, [], {}, true]);
    return 'breakHost';
  },
  (v, rng) => {
    setAt(v, ['time'], rng.pick([...BAD_TIME_STRINGS, 5, 1e10, -1, 0, null, [], {}, true, 1e300, -1e300]));
    return 'breakTime';
  },
  (v, rng) => {
    const keys = GENERIC_REQUIRED[String(v.type)] ?? [];
    if (keys.length === 0) return undefined;
    const key = rng.pick(keys);
    const bad: Json[] =
      key === 'pid' ? [-1, 1.5, 'abc', 2 ** 32, true, [], {}, null, ''] : ['', 42, null, [], {}, true];
    breakValue(v, [key], rng, bad);
    return 'breakRequired';
  },
];

// ---------------------------------------------------------------------------------------------------
// Shapes

interface JsonShapeSpec {
  pretty: boolean;
  oracles: Oracle[];
}

interface Shape {
  name: string;
  kind: 'json' | 'xml';
  /** One record per line: the stream test interleaves good and mutated lines. */
  lines: boolean;
  json?: JsonShapeSpec;
  files: () => Promise<ReadonlyArray<readonly [string, number]>>;
  seeds: Seed[];
}

const evtxJsonOracles = windowsOracles({
  host: ['Event', 'System', 'Computer'],
  eventId: ['Event', 'System', 'EventID'],
  utcTime: ['Event', 'EventData', 'UtcTime'],
  fallbackTimes: [
    { path: ['Event', 'System', 'TimeCreated'], wrap: (s) => ({ '#attributes': { SystemTime: s } }) },
  ],
});

const SHAPES: Shape[] = [
  {
    name: 'flat Sysmon JSON',
    kind: 'json',
    lines: true,
    json: {
      pretty: false,
      oracles: windowsOracles({
        host: ['Hostname'],
        otherHosts: [['Computer'], ['computer_name']],
        eventId: ['EventID'],
        utcTime: ['UtcTime'],
        fallbackTimes: [{ path: ['TimeCreated'] }, { path: ['@timestamp'] }],
      }),
    },
    files: async () => [
      [fx('sysmon-flat.jsonl'), 100],
      [shared('sysmon-json/cmd_bitsadmin_download_psh_script.jsonl'), 25],
      [shared('sysmon-json/cmd_lsass_memory_dumpert_syscalls.jsonl'), 25],
      [shared('sysmon-json/empire_psexec_dcerpc_tcp_svcctl.jsonl'), 25],
      [shared('sysmon-json/schtask_create.jsonl'), 25],
    ],
    seeds: [],
  },
  {
    name: 'winlogbeat JSON',
    kind: 'json',
    lines: true,
    json: {
      pretty: false,
      oracles: windowsOracles({
        host: ['computer_name'],
        eventId: ['event_id'],
        utcTime: ['event_data', 'UtcTime'],
        fallbackTimes: [{ path: ['@timestamp'] }],
      }),
    },
    files: async () => [
      [fx('winlogbeat6.jsonl'), 100],
      [shared('sysmon-json/empire_enable_rdp.jsonl'), 40],
    ],
    seeds: [],
  },
  {
    name: 'EVTX JSON lines',
    kind: 'json',
    lines: true,
    json: { pretty: false, oracles: evtxJsonOracles },
    files: async () => [
      [fx('evtx-json.jsonl'), 100],
      ...(await listFiles(shared('evtx-jsonl'), '.jsonl', 400))
        .filter((_, i) => i % 40 === 0)
        .map((f) => [f, 15] as const),
    ],
    seeds: [],
  },
  {
    name: 'evtx_dump JSON',
    kind: 'json',
    lines: false,
    json: { pretty: true, oracles: evtxJsonOracles },
    files: async () => [
      [fx('evtx-dump-array.json'), 100],
      [fx('evtx-dump.concat'), 100],
      ...(await listFiles(shared('sigma-regression'), '.json', 400))
        .filter((_, i) => i % 20 === 0)
        .map((f) => [f, 5] as const),
    ],
    seeds: [],
  },
  {
    name: 'Windows event XML',
    kind: 'xml',
    lines: false,
    files: async () => [
      [fx('events.xml'), 100],
      [fx('events-bare.xml'), 100],
      ...(await listFiles(shared('evtx-xml-examples'), '.xml', 10)).map((f) => [f, 30] as const),
      [shared('evtx/AutomatedTestingTools/Malware/rundll32_cmd_schtask.evtx'), 15],
      [shared('evtx/Credential Access/ppl_bypass_ppldump_knowdll_hijack_sysmon_security.evtx'), 15],
    ],
    seeds: [],
  },
  {
    name: 'osquery',
    kind: 'json',
    lines: true,
    json: { pretty: false, oracles: osqueryOracles },
    files: async () => [[fx('osquery.jsonl'), 100]],
    seeds: [],
  },
  {
    name: 'generic events',
    kind: 'json',
    lines: true,
    json: { pretty: false, oracles: genericOracles },
    files: async () => [[fx('generic.jsonl'), 100]],
    seeds: [],
  },
];

type Mode = 'record' | 'line' | 'structural';

function mutateJson(seed: Seed, spec: JsonShapeSpec, rng: Rng, mode: Mode): Mutant {
  const d: Draft = { value: JSON.parse(seed.text) as JsonObj, raws: new Map() };
  const ops: string[] = [];
  const pretty = mode === 'structural' || (mode === 'record' && spec.pretty && rng.chance(0.7));
  if (mode !== 'structural' && rng.chance(0.15)) {
    const oracle = rng.pick(spec.oracles)(d.value, rng);
    if (oracle !== undefined) return { text: render(d, pretty), ops: [oracle], expect: 'rejected' };
  }
  const plan = mode === 'structural' ? 0 : rng.int(100);
  const structural = plan < 55 ? rng.range(1, 2) : plan < 85 ? 0 : 1;
  const textual = plan < 55 ? 0 : 1;
  for (let k = 0; k < structural; k++) {
    const op = rng.weighted(JSON_OPS);
    ops.push(op);
    applyJsonOp(op, d, rng, mode === 'record' ? 1_000_000 : 300_000);
  }
  const m: Mutant = { text: render(d, pretty), ops };
  for (let k = 0; k < textual; k++) {
    const op = rng.weighted(TEXT_OPS);
    ops.push(op);
    applyTextOp(op, m, rng);
  }
  return m;
}

// XML ---------------------------------------------------------------------------------------------

/** Text content as a framer writes it: markup characters and control characters as references. */
function escapeXml(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (ch === '&') out += '&amp;';
    else if (ch === '<') out += '&lt;';
    else if (ch === '>') out += '&gt;';
    else if (ch === '"') out += '&quot;';
    else if (c < 32 && c !== 9 && c !== 10 && c !== 13) out += `&#x${c.toString(16)};`;
    else out += ch;
  }
  return out;
}

/** Replaces the n-th (random) match of `re` by `f(match)`; unchanged when there is none. */
function replaceOne(text: string, re: RegExp, rng: Rng, f: (m: RegExpExecArray) => string): string {
  const all = [...text.matchAll(new RegExp(re.source, re.flags.includes('g') ? re.flags : re.flags + 'g'))];
  if (all.length === 0) return text;
  const m = rng.pick(all) as RegExpExecArray;
  return text.slice(0, m.index) + f(m) + text.slice(m.index + m[0].length);
}

const TEXT_NODE = />([^<]*)</g;
const ATTRIBUTE = /(\s[A-Za-z_:][\w.:-]*=)("[^"]*"|'[^']*')/g;
const OPEN_TAG = /<([A-Za-z_][\w.:-]*)/g;
const CLOSE_TAG = /<\/([A-Za-z_][\w.:-]*)>/g;

const ENTITY_REFS: readonly string[] = [
  ...['&amp;', '&lt;', '&gt;', '&quot;', '&apos;', '&#65;', '&#x41;', '&#x1F600;', '&nbsp;', '&undefined;'],
  // Illegal or malformed references
  ...['&#0;', '&#x0;', '&#x1;', '&#x1f;', '&#x7F;', '&#xD800;', '&#xFFFE;', '&#x110000;', '&#99999999999;'],
  ...['&#-1;', '&#;', '&#x;', '&', '&amp', '&#65', '&&;'],
];

/** A value that keeps the element structure: escaped text of some awkward kind. */
function xmlValue(rng: Rng, maxHuge: number): string {
  const kind = rng.int(9);
  if (kind === 0) return escapeXml(nastyRun(rng, rng.range(1, 20)));
  if (kind === 1) return escapeXml(hugeString(rng, maxHuge));
  if (kind === 2) {
    const e = rng.pick(NUMERIC_EDGES);
    return escapeXml('raw' in e ? e.raw : String(e.value));
  }
  if (kind === 3) return escapeXml(rng.pick(BAD_GUIDS));
  if (kind === 4) return escapeXml(String(rng.pick(TIME_EDGES)));
  if (kind === 5) return rng.pick(['&amp;', '&lt;', '&#65;', '&#x41;', '&#x1F600;', '&quot;&apos;']);
  if (kind === 6) return '';
  if (kind === 7) return escapeXml(rng.pick(['  ', '\t', '\r\n', ' x ']));
  return escapeXml(String(rng.int(1_000_000)));
}

type XmlOp =
  | 'renameTag'
  | 'dropCloseTag'
  | 'dropOpenTag'
  | 'duplicateOpenTag'
  | 'swapCloseTags'
  | 'corruptAttribute'
  | 'entityRef'
  | 'cdata'
  | 'markup'
  | 'textValue'
  | 'attributeValue'
  | 'namespace';

const XML_OPS: ReadonlyArray<readonly [XmlOp, number]> = [
  ['renameTag', 5],
  ['dropCloseTag', 4],
  ['dropOpenTag', 4],
  ['duplicateOpenTag', 3],
  ['swapCloseTags', 3],
  ['corruptAttribute', 6],
  ['entityRef', 7],
  ['cdata', 6],
  ['markup', 5],
  ['textValue', 10],
  ['attributeValue', 6],
  ['namespace', 3],
];

function applyXmlOp(op: XmlOp, m: Mutant, rng: Rng, maxHuge: number): void {
  const t = m.text;
  m.bytes = undefined;
  switch (op) {
    case 'renameTag':
      m.text = replaceOne(t, rng.chance(0.5) ? OPEN_TAG : CLOSE_TAG, rng, (x) =>
        x[0].replace(
          x[1]!,
          rng.pick([
            x[1]!.toLowerCase(),
            x[1]! + 'x',
            'x:' + x[1],
            x[1]!.slice(1) || 'y',
            '1' + x[1],
            x[1]! + '\u00e9',
            '',
            x[1]! + 'n'.repeat(rng.size(200_000)),
          ]),
        ),
      );
      return;
    case 'dropCloseTag':
      m.text = replaceOne(t, CLOSE_TAG, rng, () => '');
      return;
    case 'dropOpenTag':
      m.text = replaceOne(t, /<[A-Za-z_][^>]*>/g, rng, () => '');
      return;
    case 'duplicateOpenTag':
      m.text = replaceOne(t, /<[A-Za-z_][^>/]*>/g, rng, (x) => x[0] + x[0]);
      return;
    case 'swapCloseTags': {
      const closes = [...t.matchAll(CLOSE_TAG)];
      if (closes.length < 2) return;
      const i = rng.int(closes.length - 1);
      const a = closes[i]!;
      const b = closes[i + 1]!;
      m.text =
        t.slice(0, a.index) +
        b[0] +
        t.slice(a.index + a[0].length, b.index) +
        a[0] +
        t.slice(b.index + b[0].length);
      return;
    }
    case 'corruptAttribute':
      m.text = replaceOne(t, ATTRIBUTE, rng, (x) => {
        const [, name, quoted] = x as unknown as [string, string, string];
        const inner = quoted.slice(1, -1);
        return rng.pick([
          `${name}${inner}`,
          `${name.slice(0, -1)} ${quoted}`,
          `${name}${quoted}${name}${quoted}`,
          `${name}"${inner}`,
          `${name}"${inner}<"`,
          `${name}"${inner}&"`,
          `${name}'${inner}"`,
          `${name}"${escapeXml(hugeString(rng, maxHuge))}"`,
          ` ${nastyRun(rng, 4)}=${quoted}`,
          ` x${'y'.repeat(rng.size(100_000))}=${quoted}`,
          ` ${'L'.repeat(rng.size(100_000))}=${quoted}`.repeat(2),
        ]);
      });
      return;
    case 'entityRef':
      m.text = replaceOne(t, TEXT_NODE, rng, (x) => {
        const text = x[1]!;
        const at = rng.int(text.length + 1);
        return `>${text.slice(0, at)}${rng.pick(ENTITY_REFS)}${text.slice(at)}<`;
      });
      return;
    case 'cdata':
      m.text = replaceOne(t, TEXT_NODE, rng, (x) => {
        const body = rng.pick([
          x[1]!,
          nastyRun(rng, 8),
          '<Event><System></System></Event>',
          ']]>',
          'a]]>b',
          '',
        ]);
        return rng.pick([`><![CDATA[${body}]]><`, `><![CDATA[${body}<`, `>${x[1]}<![CDATA[${body}]]><`]);
      });
      return;
    case 'markup': {
      const insert = rng.pick([
        '<!-- comment -->',
        '<!-- bad -- comment -->',
        '<!-->',
        '<?pi data?>',
        '<?xml version="1.0"?>',
        '<!DOCTYPE Event>',
        '<!ENTITY x "y">',
        '<![INCLUDE[ x ]]>',
        '</>',
        '<>',
        '<a',
        '<a/>',
        '</Event>',
        '<Event>',
      ]);
      m.text = replaceOne(t, TEXT_NODE, rng, (x) => `>${x[1]}${insert}<`);
      return;
    }
    case 'textValue':
      m.text = replaceOne(t, TEXT_NODE, rng, () => `>${xmlValue(rng, maxHuge)}<`);
      return;
    case 'attributeValue':
      m.text = replaceOne(
        t,
        ATTRIBUTE,
        rng,
        (x) => `${x[1]}"${xmlValue(rng, maxHuge).replace(/"/g, '&quot;')}"`,
      );
      return;
    case 'namespace':
      m.text = replaceOne(t, OPEN_TAG, rng, (x) =>
        rng.pick([
          `<y:${x[1]}`,
          `<${x[1]} xmlns=""`,
          `<${x[1]} xmlns:y="urn:y"`,
          `<${x[1]} xmlns:xml="urn:not-xml"`,
          `<${x[1]} xmlns="http://www.w3.org/2000/xmlns/"`,
        ]),
      );
      return;
  }
}

const XML_BAD_EVENT_IDS: readonly string[] = [
  ...['', 'abc', '-1', '65536', '999999', '1.0', '0x1', '+1', '1e3', '\uff11', '1 2'],
];

function xmlOracle(m: Mutant, rng: Rng): string | undefined {
  const t = m.text;
  const which = rng.int(3);
  if (which === 0) {
    const broken = rng.pick([
      '<Computer></Computer>',
      '<Computer/>',
      '<Computer>   </Computer>',
      '<Computer><![CDATA[ ]]></Computer>',
      '',
      '<computer>WS1</computer>',
      '<Computer><x>WS1</x></Computer>',
    ]);
    const next = t.replace(/<Computer>[^<]*<\/Computer>|<Computer\/>/, broken);
    if (next === t) return undefined;
    m.text = next;
    return 'breakHost';
  }
  if (which === 1) {
    const next = t.replace(/<EventID\b([^>]*)>[^<]*<\/EventID>/, (_x, attrs: string) =>
      rng.chance(0.2) ? '' : `<EventID${attrs}>${escapeXml(rng.pick(XML_BAD_EVENT_IDS))}</EventID>`,
    );
    if (next === t) return undefined;
    m.text = next;
    return 'breakEventId';
  }
  let next = t.replace(
    /(<Data Name="UtcTime">)[^<]*(<\/Data>)/,
    (_x, a: string, b: string) => a + escapeXml(rng.pick(BAD_TIME_STRINGS)) + b,
  );
  next = next.replace(
    /(<TimeCreated\b[^>]*SystemTime=")[^"]*(")/,
    (_x, a: string, b: string) => a + escapeXml(rng.pick(BAD_TIME_STRINGS)) + b,
  );
  if (next === t) return undefined;
  m.text = next;
  return 'breakTime';
}

/** Elements nested `depth` deep inside EventData (or the event): near and over the nesting limit. */
function xmlDeepNesting(m: Mutant, rng: Rng): void {
  const depth = rng.pick([LIMIT - 4, LIMIT - 3, LIMIT - 2, LIMIT - 1, LIMIT, LIMIT + 1, 500, 20_000]);
  const name = rng.pick(['a', 'Data', 'x:y']);
  const inner = `${`<${name}>`.repeat(depth)}v${`</${name}>`.repeat(depth)}`;
  const at = m.text.indexOf('<EventData>');
  if (at === -1) return;
  const pos = at + '<EventData>'.length;
  m.text = m.text.slice(0, pos) + inner + m.text.slice(pos);
  // <Event> is level 1, <EventData> level 2: the inserted elements reach 2 + depth.
  if (2 + depth > LIMIT) {
    m.expect = 'rejected';
  } else if (!name.includes(':')) {
    m.expect = 'event';
  }
}

function mutateXml(seed: Seed, rng: Rng, mode: Mode): Mutant {
  const m: Mutant = { text: seed.text, ops: [] };
  const maxHuge = mode === 'record' ? 1_000_000 : 200_000;
  if (mode === 'structural') {
    // Keeps the element structure: values only, escaped.
    for (let k = rng.range(1, 3); k > 0; k--) {
      const op = rng.pick(['textValue', 'attributeValue'] as const);
      m.ops.push(op);
      applyXmlOp(op, m, rng, maxHuge);
    }
    if (rng.chance(0.2)) {
      m.ops.push('cdata');
      m.text = replaceOne(m.text, TEXT_NODE, rng, (x) => `><![CDATA[${x[1]!.replace(/\]\]>/g, '')}]]><`);
    }
    return m;
  }
  if (rng.chance(0.12)) {
    const oracle = xmlOracle(m, rng);
    if (oracle !== undefined) return { ...m, ops: [oracle], expect: 'rejected' };
  }
  if (rng.chance(0.05)) {
    m.ops.push('deepNesting');
    xmlDeepNesting(m, rng);
    return m;
  }
  const plan = rng.int(100);
  const structural = plan < 60 ? rng.range(1, 2) : plan < 85 ? 0 : 1;
  const textual = plan < 60 ? 0 : 1;
  for (let k = 0; k < structural; k++) {
    const op = rng.weighted(XML_OPS);
    m.ops.push(op);
    applyXmlOp(op, m, rng, maxHuge);
  }
  for (let k = 0; k < textual; k++) {
    const op = rng.weighted(TEXT_OPS);
    m.ops.push(op);
    applyTextOp(op, m, rng);
  }
  return m;
}

function mutate(shape: Shape, seed: Seed, rng: Rng, mode: Mode): Mutant {
  return shape.kind === 'xml' ? mutateXml(seed, rng, mode) : mutateJson(seed, shape.json!, rng, mode);
}

// ---------------------------------------------------------------------------------------------------
// Checking one result against the mutant's expectations

function checkOne(
  shape: Shape,
  m: Mutant,
  r: ParseResult,
  where: string,
  failures: Failure[],
  jsonOracle: { valid: boolean; depth: number; object: boolean } | undefined,
): void {
  const fail = (problem: string) => failures.push({ where, problem, sample: sampleOf(m.text) });
  const problem = resultProblem(r);
  if (problem !== undefined) fail(problem);
  if (m.expect === 'rejected' && r.kind !== 'rejected') fail(`must be rejected, was ${r.kind}`);
  if (m.expect === 'event' && r.kind !== 'event')
    fail(`must still be an event, was ${r.kind}${r.kind === 'rejected' ? `: ${r.reason}` : ''}`);
  if (shape.kind === 'xml' && (m.text.includes('<!DOCTYPE') || m.text.includes('<!ENTITY'))) {
    if (r.kind !== 'rejected' || categoryOf(r.reason) !== 'refused XML')
      fail(`DOCTYPE/ENTITY not refused (${r.kind})`);
  }
  if (jsonOracle !== undefined && shape.kind === 'json') {
    if (!jsonOracle.valid && r.kind !== 'rejected') fail(`invalid JSON accepted as ${r.kind}`);
    if (jsonOracle.valid && jsonOracle.depth > LIMIT) {
      if (r.kind !== 'rejected' || categoryOf(r.reason) !== 'JSON too deep')
        fail(`JSON ${jsonOracle.depth} deep not rejected as too deep (${r.kind})`);
    }
    if (
      jsonOracle.valid &&
      jsonOracle.depth <= LIMIT &&
      r.kind === 'rejected' &&
      categoryOf(r.reason) === 'JSON too deep'
    )
      fail(`JSON ${jsonOracle.depth} deep (within the limit) rejected as too deep`);
    if (jsonOracle.valid && !jsonOracle.object && r.kind !== 'rejected') fail('non-object JSON accepted');
  }
}

function jsonFacts(text: string): { valid: boolean; depth: number; object: boolean } {
  try {
    const v: unknown = JSON.parse(text);
    return {
      valid: true,
      depth: jsonDepth(text),
      object: v !== null && typeof v === 'object' && !Array.isArray(v),
    };
  } catch {
    return { valid: false, depth: 0, object: false };
  }
}

function parseTimed(
  text: string,
  format: InputFormat,
  opts: NormalizeOptions,
): { result?: ParseResult; error?: string; ms: number } {
  const t0 = performance.now();
  try {
    const result = parseRawRecord({ recordNo: 1, format, text }, opts);
    return { result, ms: performance.now() - t0 };
  } catch (err) {
    return {
      error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
      ms: performance.now() - t0,
    };
  }
}

// ---------------------------------------------------------------------------------------------------
// Streams

/** The input in random-sized chunks with a macrotask between them, so a per-case timer can fire. */
async function* chunked(buf: Buffer, rng: Rng): AsyncGenerator<Buffer> {
  let pos = 0;
  while (pos < buf.length) {
    const n = rng.chance(0.1) ? rng.range(1, 7) : rng.size(256 * 1024);
    yield buf.subarray(pos, pos + n);
    pos += n;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

async function withTimeout<T>(work: Promise<T>, label: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t0 = performance.now();
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`hang: ${label} did not finish within ${STREAM_TIMEOUT_MS} ms (${REPRO})`)),
      STREAM_TIMEOUT_MS,
    );
  });
  try {
    const out = await Promise.race([work, timeout]);
    // Synchronous work starves the timer: check the clock too.
    const ms = performance.now() - t0;
    if (ms > STREAM_TIMEOUT_MS) throw new Error(`hang: ${label} took ${Math.round(ms)} ms (${REPRO})`);
    return out;
  } finally {
    clearTimeout(timer);
  }
}

function readBuffer(buf: Buffer, rng: Rng, opts: NormalizeOptions, label: string): Promise<ReadSummary> {
  return withTimeout(summarize(readRecordsFromStream(Readable.from(chunked(buf, rng))), opts), label);
}

/** How many records the framer makes of one line: osquery batches are expanded to their rows. */
function expectedRecords(bytes: Buffer): number {
  if (bytes.length > DEFAULT_MAX_LINE_BYTES) return 1;
  const text = bytes.toString('utf8');
  if (!text.includes('"diffResults"') && !text.includes('"snapshot"')) return 1;
  try {
    const v: unknown = JSON.parse(text);
    if (
      v !== null &&
      typeof v === 'object' &&
      !Array.isArray(v) &&
      isOsqueryBatch(v as Record<string, unknown>)
    )
      return expandOsqueryBatch(v as Record<string, unknown>)!.length;
  } catch {
    // not JSON: one rejected record
  }
  return 1;
}

interface StreamItem {
  bytes: Buffer;
  good?: Seed;
  mutant?: Mutant;
}

/** Checks a read of `items` (one framed record per item, osquery batches aside) and returns the failures. */
function checkStream(
  shape: Shape,
  items: StreamItem[],
  s: ReadSummary,
  opts: NormalizeOptions,
  label: string,
): Failure[] {
  const failures: Failure[] = [];
  const byRecord = new Map<number, ParseResult[]>();
  for (const o of s.outcomes) {
    const list = byRecord.get(o.recordNo) ?? [];
    list.push(o.result);
    byRecord.set(o.recordNo, list);
  }
  let expectedTotal = 0;
  items.forEach((item, i) => {
    const recordNo = i + 1;
    const got = byRecord.get(recordNo) ?? [];
    byRecord.delete(recordNo);
    const where = `${label} record ${recordNo}${item.mutant ? ` ops=${item.mutant.ops.join('+')}` : ' (untouched)'}`;
    const sample = sampleOf(item.bytes.toString('utf8'));
    const want = shape.lines && item.mutant !== undefined ? expectedRecords(item.bytes) : 1;
    expectedTotal += want;
    if (got.length !== want) {
      failures.push({ where, problem: `${got.length} outcomes, expected ${want}`, sample });
      return;
    }
    for (const r of got) {
      const problem = resultProblem(r);
      if (problem !== undefined) failures.push({ where, problem, sample });
    }
    if (item.good !== undefined) {
      const alone = parseRawRecord({ recordNo: 1, format: item.good.format, text: item.good.text }, opts);
      try {
        expect(got[0]).toEqual(alone);
      } catch {
        failures.push({
          where,
          problem: `differs from the record read alone: ${JSON.stringify(got[0]).slice(0, 200)}`,
          sample,
        });
      }
    } else if (item.mutant?.expect === 'rejected' && got.some((r) => r.kind !== 'rejected')) {
      failures.push({ where, problem: 'broken required field not rejected', sample });
    } else if (shape.kind === 'json' && want === 1 && got[0]!.kind !== 'rejected') {
      if (!jsonFacts(item.bytes.toString('utf8')).valid)
        failures.push({ where, problem: `invalid JSON accepted as ${got[0]!.kind}`, sample });
    }
  });
  for (const [recordNo, extra] of byRecord)
    failures.push({
      where: `${label} record ${recordNo}`,
      problem: `${extra.length} outcome(s) for a record that does not exist`,
      sample: '',
    });
  if (s.outcomes.length !== expectedTotal)
    failures.push({
      where: label,
      problem: `${s.outcomes.length} outcomes for ${expectedTotal} records`,
      sample: '',
    });
  return failures;
}

function lineSafe(m: Mutant): Buffer {
  const b = Buffer.from(m.bytes ?? Buffer.from(m.text, 'utf8'));
  for (let i = 0; i < b.length; i++) if (b[i] === 10) b[i] = 32;
  // A blank line is not a record (the framer skips it): keep one byte so the line is counted.
  let blank = true;
  for (let i = 0; i < b.length && blank; i++) blank = b[i] === 32 || b[i] === 9 || b[i] === 13;
  return blank ? Buffer.from('x') : b;
}

// ---------------------------------------------------------------------------------------------------
// EVTX files

const FILE_HEADER = 0x1000;
const CHUNK = 0x10000;

interface EvtxBase {
  name: string;
  bytes: Buffer;
  /** The events of each chunk read on its own (header + that chunk), keepUnsupported. */
  chunkEvents: NormalizedEvent[][];
}

const EVTX_SOURCES = [
  'AutomatedTestingTools/Malware/rundll32_cmd_schtask.evtx',
  'Command and Control/DE_sysmon-3-rdp-tun.evtx',
  'Credential Access/ppl_bypass_ppldump_knowdll_hijack_sysmon_security.evtx',
  'AutomatedTestingTools/Malware/DE_timestomp_and_dll_sideloading_and_RunPersist.evtx',
];

interface EvtxVariant {
  bytes: Buffer;
  ops: string[];
  /** Byte ranges changed ([start, end)). */
  touched: Array<[number, number]>;
  /** Length after truncation. */
  cut: number;
}

function evtxVariant(base: EvtxBase, rng: Rng): EvtxVariant {
  const b = Buffer.from(base.bytes);
  const v: EvtxVariant = { bytes: b, ops: [], touched: [], cut: b.length };
  const body = (n: number) => FILE_HEADER + rng.int(b.length - FILE_HEADER - n);
  for (let k = rng.range(1, 3); k > 0; k--) {
    const op = rng.weighted([
      ['randomBytes', 6],
      ['zeroRange', 5],
      ['randomRange', 3],
      ['truncate', 5],
      ['chunkHeader', 3],
      ['recordHeader', 4],
      ['fileHeader', 1],
    ] as const);
    v.ops.push(op);
    if (op === 'randomBytes') {
      for (let n = rng.range(1, 40); n > 0; n--) {
        const at = body(1);
        b[at] = rng.int(256);
        v.touched.push([at, at + 1]);
      }
    } else if (op === 'zeroRange' || op === 'randomRange') {
      const len = rng.size(8192);
      const at = body(len);
      for (let i = at; i < at + len; i++) b[i] = op === 'zeroRange' ? 0 : rng.int(256);
      v.touched.push([at, at + len]);
    } else if (op === 'truncate') {
      v.cut = Math.min(v.cut, rng.chance(0.1) ? rng.int(FILE_HEADER) : body(0));
    } else if (op === 'chunkHeader') {
      const chunks = Math.floor((b.length - FILE_HEADER) / CHUNK);
      const at = FILE_HEADER + rng.int(chunks) * CHUNK + rng.int(0x200);
      b[at] = rng.int(256);
      v.touched.push([at, at + 1]);
    } else if (op === 'recordHeader') {
      // A record's magic, size or trailing size copy: the reader must resynchronise.
      let at = b.indexOf(Buffer.from([0x2a, 0x2a, 0, 0]), body(0));
      if (at === -1) at = b.indexOf(Buffer.from([0x2a, 0x2a, 0, 0]), FILE_HEADER);
      if (at === -1) continue;
      const off = at + rng.pick([0, 1, 4, 5, 6, 7, 8, 16]);
      b[off] = rng.int(256);
      v.touched.push([off, off + 1]);
    } else {
      // The file header: only its signature matters to the reader (rarely broken here).
      const at = rng.chance(0.3) ? rng.int(8) : rng.range(8, FILE_HEADER - 1);
      b[at] = (b[at]! + 1 + rng.int(255)) & 0xff;
      v.touched.push([at, at + 1]);
    }
  }
  v.bytes = b.subarray(0, v.cut);
  return v;
}

// ---------------------------------------------------------------------------------------------------
// The tests

let tmp: string;
const summaries: string[] = [];

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'lensgraph-fuzz-'));
  for (const shape of SHAPES) shape.seeds = await seedsFrom(await shape.files());
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
  console.log(`fuzz summary (seed ${SEED}):\n${summaries.join('\n')}`);
});

describe(`parser fuzzing, record level (seed ${SEED})`, () => {
  for (const shape of SHAPES) {
    it(`${shape.name}: ${CASES_PER_SHAPE} mutations of good records, each judged (seed ${SEED})`, () => {
      expect(shape.seeds.length, `no good seed records for ${shape.name}`).toBeGreaterThan(0);
      const failures: Failure[] = [];
      const tally = newTally();
      for (let i = 0; tally.mutations < CASES_PER_SHAPE && i < CASES_PER_SHAPE * 3; i++) {
        const rng = rngFor(shape.name, 'record', i);
        const seed = rng.pick(shape.seeds);
        const m = mutate(shape, seed, rng, 'record');
        if (m.text === seed.text) continue;
        tally.mutations++;
        if (m.expect === 'rejected') tally.oracles++;
        for (const op of m.ops) tally.ops.set(op, (tally.ops.get(op) ?? 0) + 1);
        const facts = shape.kind === 'json' ? jsonFacts(m.text) : undefined;
        for (const opts of OPTION_SETS) {
          const where = `seed=${SEED} shape="${shape.name}" case=${i} ops=${m.ops.join('+')} opts=${JSON.stringify(opts)}`;
          const { result, error, ms } = parseTimed(m.text, seed.format, opts);
          if (error !== undefined || result === undefined) {
            failures.push({ where, problem: `threw ${error}`, sample: sampleOf(m.text) });
            continue;
          }
          if (ms > SLOW_RECORD_MS)
            failures.push({ where, problem: `took ${Math.round(ms)} ms`, sample: sampleOf(m.text) });
          checkOne(shape, m, result, where, failures, facts);
          if (opts.keepUnsupported !== true) tally[result.kind]++;
          if (result.kind === 'skipped')
            tally.longestSkipType = Math.max(tally.longestSkipType, result.type.length);
        }
      }
      summaries.push(
        `  ${shape.name}: ${tally.mutations} mutations from ${shape.seeds.length} good records ` +
          `(${tally.oracles} must-reject) -> ${tally.event} events, ${tally.skipped} skipped, ${tally.rejected} rejected` +
          ` (longest skip type ${tally.longestSkipType} chars)\n    ops: ` +
          [...tally.ops]
            .sort((a, b) => b[1] - a[1])
            .map(([op, n]) => `${op} ${n}`)
            .join(', '),
      );
      expect(tally.mutations).toBeGreaterThanOrEqual(CASES_PER_SHAPE);
      expect(failures.length, report(failures)).toBe(0);
    });
  }
});

describe(`parser fuzzing, stream level (seed ${SEED})`, () => {
  for (const shape of SHAPES.filter((s) => s.lines)) {
    it(`${shape.name}: good lines interleaved with ${STREAM_MUTANTS} mutated ones, nothing lost (seed ${SEED})`, async () => {
      const rng = rngFor(shape.name, 'stream');
      const items: StreamItem[] = [];
      const goodItem = (): StreamItem => {
        const good = rng.pick(shape.seeds);
        return { bytes: Buffer.from(good.text, 'utf8'), good };
      };
      // The first line decides the framing mode: it is a good record.
      items.push(goodItem());
      for (let i = 0; i < STREAM_MUTANTS; i++) {
        if (rng.chance(0.6)) items.push(goodItem());
        const mutant = mutate(shape, rng.pick(shape.seeds), rngFor(shape.name, 'stream', i), 'line');
        items.push({ bytes: lineSafe(mutant), mutant });
      }
      const input = Buffer.concat(
        items.flatMap((it) => [it.bytes, Buffer.from(rng.chance(0.2) ? '\r\n' : '\n')]),
      );
      const failures: Failure[] = [];
      for (const opts of OPTION_SETS) {
        const label = `seed=${SEED} shape="${shape.name}" stream opts=${JSON.stringify(opts)}`;
        const s = await readBuffer(input, rngFor(shape.name, 'chunks', JSON.stringify(opts)), opts, label);
        failures.push(...checkStream(shape, items, s, opts, label));
      }
      summaries.push(
        `  ${shape.name} stream: ${items.length} lines (${STREAM_MUTANTS} mutated), ${input.length} bytes`,
      );
      expect(failures.length, report(failures)).toBe(0);
    });
  }

  const dump = SHAPES.find((s) => s.name === 'evtx_dump JSON')!;
  for (const layout of ['array', 'concatenated'] as const) {
    it(`evtx_dump JSON ${layout}: structural mutations between good values, nothing lost (seed ${SEED})`, async () => {
      const rng = rngFor('evtx_dump', layout);
      const items: StreamItem[] = [];
      const pretty = (text: string) => JSON.stringify(JSON.parse(text) as Json, null, 2);
      for (let i = 0; i < STREAM_MUTANTS / 2; i++) {
        const good = rng.pick(dump.seeds);
        items.push({
          bytes: Buffer.from(layout === 'array' && rng.chance(0.5) ? good.text : pretty(good.text)),
          good,
        });
        const mutant = mutate(dump, rng.pick(dump.seeds), rngFor('evtx_dump', layout, i), 'structural');
        items.push({ bytes: Buffer.from(mutant.text, 'utf8'), mutant });
      }
      const input =
        layout === 'array'
          ? Buffer.concat([
              Buffer.from('[\n'),
              ...items.flatMap((it, i) => (i === 0 ? [it.bytes] : [Buffer.from(',\n'), it.bytes])),
              Buffer.from('\n]\n'),
            ])
          : Buffer.concat(items.flatMap((it) => [it.bytes, Buffer.from('\n')]));
      const label = `seed=${SEED} shape="evtx_dump JSON" ${layout}`;
      const s = await readBuffer(input, rngFor('evtx_dump', layout, 'chunks'), {}, label);
      const failures = checkStream(dump, items, s, {}, label);
      summaries.push(`  evtx_dump ${layout} stream: ${items.length} values (${STREAM_MUTANTS / 2} mutated)`);
      expect(failures.length, report(failures)).toBe(0);
    });
  }

  it(`Windows event XML: good events between value-mutated ones, nothing lost (seed ${SEED})`, async () => {
    const xml = SHAPES.find((s) => s.kind === 'xml')!;
    const rng = rngFor('xml', 'stream');
    const items: StreamItem[] = [];
    for (let i = 0; i < STREAM_MUTANTS; i++) {
      if (rng.chance(0.6)) {
        const good = rng.pick(xml.seeds);
        items.push({ bytes: Buffer.from(good.text), good });
      }
      const mutant = mutate(xml, rng.pick(xml.seeds), rngFor('xml', 'stream', i), 'structural');
      items.push({ bytes: Buffer.from(mutant.text, 'utf8'), mutant });
    }
    const input = Buffer.concat([
      Buffer.from('<?xml version="1.1" encoding="utf-8"?>\n<Events>\n'),
      ...items.flatMap((it) => [it.bytes, Buffer.from('\n')]),
      Buffer.from('</Events>\n'),
    ]);
    const failures: Failure[] = [];
    for (const opts of OPTION_SETS) {
      const label = `seed=${SEED} shape="Windows event XML" stream opts=${JSON.stringify(opts)}`;
      const s = await readBuffer(input, rngFor('xml', 'chunks', JSON.stringify(opts)), opts, label);
      failures.push(...checkStream(xml, items, s, opts, label));
    }
    summaries.push(`  Windows event XML stream: ${items.length} events, ${input.length} bytes`);
    expect(failures.length, report(failures)).toBe(0);
  });
});

const haveEvtx = EVTX_SOURCES.every((f) => existsSync(shared(path.join('evtx', f))));

describe.skipIf(!haveEvtx)(`EVTX fuzzing (seed ${SEED})`, () => {
  const bases: EvtxBase[] = [];

  beforeAll(async () => {
    const files = await Promise.all(EVTX_SOURCES.map((f) => readBytes(shared(path.join('evtx', f)))));
    const oneChunk = (b: Buffer) => b.subarray(FILE_HEADER, FILE_HEADER + CHUNK);
    // Chunks are self-contained: one header and chunks of several logs make a valid multi-chunk file.
    const composite = Buffer.concat([files[0]!.subarray(0, FILE_HEADER), ...files.slice(0, 3).map(oneChunk)]);
    const inputs: Array<[string, Buffer]> = [
      ...EVTX_SOURCES.map((f, i): [string, Buffer] => [path.basename(f), files[i]!]),
      ['composite of 3 logs', composite],
    ];
    for (const [name, bytes] of inputs) {
      const chunkEvents: NormalizedEvent[][] = [];
      for (let c = 0; FILE_HEADER + c * CHUNK < bytes.length; c++) {
        const file = path.join(tmp, `pristine-${bases.length}-${c}.evtx`);
        await writeFile(
          file,
          Buffer.concat([
            bytes.subarray(0, FILE_HEADER),
            bytes.subarray(FILE_HEADER + c * CHUNK, FILE_HEADER + (c + 1) * CHUNK),
          ]),
        );
        const s = await summarize(readRecords(file), { keepUnsupported: true });
        expect(s.rejected).toEqual([]);
        chunkEvents.push(s.events);
      }
      bases.push({ name, bytes, chunkEvents });
    }
  });

  it(`${EVTX_VARIANTS} corrupted / truncated files: no throw, reasons, untouched chunks intact (seed ${SEED})`, async () => {
    const failures: Failure[] = [];
    let events = 0;
    let rejected = 0;
    let compared = 0;
    for (let i = 0; i < EVTX_VARIANTS; i++) {
      const rng = rngFor('evtx', i);
      const base = rng.chance(0.35) ? bases[bases.length - 1]! : rng.pick(bases);
      const v = evtxVariant(base, rng);
      const label = `seed=${SEED} evtx case=${i} base="${base.name}" ops=${v.ops.join('+')}`;
      const file = path.join(tmp, `variant-${i}.evtx`);
      await writeFile(file, v.bytes);
      let s: ReadSummary;
      try {
        s = await withTimeout(summarize(readRecords(file), { keepUnsupported: true }), label);
      } catch (err) {
        failures.push({
          where: label,
          problem: `threw ${err instanceof Error ? err.message : String(err)}`,
          sample: '',
        });
        continue;
      } finally {
        await rm(file, { force: true });
      }
      events += s.events.length;
      rejected += s.rejected.length;
      for (const o of s.outcomes) {
        const problem = resultProblem(o.result);
        if (problem !== undefined)
          failures.push({ where: `${label} record ${o.recordNo}`, problem, sample: sampleOf(o.text) });
      }
      // Untouched chunks, wholly before the cut, give exactly their pristine events (matched by content,
      // record ids included). A broken file signature makes the input something else: nothing to compare.
      if (v.touched.some(([a]) => a < 8) || v.cut < 8) continue;
      const got = new Map<string, number>();
      for (const e of s.events) got.set(JSON.stringify(e), (got.get(JSON.stringify(e)) ?? 0) + 1);
      base.chunkEvents.forEach((pristine, c) => {
        const start = FILE_HEADER + c * CHUNK;
        const end = start + CHUNK;
        if (end > v.cut || v.touched.some(([a, b]) => a < end && b > start)) return;
        for (const e of pristine) {
          compared++;
          const key = JSON.stringify(e);
          const n = got.get(key) ?? 0;
          if (n === 0) {
            failures.push({
              where: `${label} chunk ${c}`,
              problem: `untouched chunk lost EventRecordID ${e.recordId}`,
              sample: '',
            });
            break;
          }
          got.set(key, n - 1);
        }
      });
    }
    summaries.push(
      `  EVTX: ${EVTX_VARIANTS} damaged files -> ${events} events, ${rejected} rejections; ${compared} events of untouched chunks compared`,
    );
    expect(compared).toBeGreaterThan(0);
    expect(failures.length, report(failures)).toBe(0);
  });
});
