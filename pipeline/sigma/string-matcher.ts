/**
 * Compiles Sigma string patterns into plain-string tests. Most rule values are an exact string, a prefix,
 * a suffix or a substring, and those run as `===` / `startsWith` / `endsWith` / `includes`: an order of
 * magnitude cheaper than a regex. Star-only globs are matched segment by segment (leftmost-first is exact
 * for `*`); only patterns with `?` become a regex, compiled with re2js so matching stays linear.
 *
 * Case-insensitive tests expect the caller to pass the lower-cased field value (the event view caches it);
 * the patterns are lower-cased here once.
 */
import { RE2JS } from 're2js';
import { ONE, STAR, type SigmaString } from './sigma-string';

export type StringTest = (value: string) => boolean;

interface Glob {
  readonly head: string;
  readonly middle: readonly string[];
  readonly tail: string;
}

type Compiled =
  | { kind: 'any' }
  | { kind: 'exact'; s: string }
  | { kind: 'prefix'; s: string }
  | { kind: 'suffix'; s: string }
  | { kind: 'contains'; s: string }
  | { kind: 'glob'; g: Glob }
  | { kind: 'regex'; re: RE2JS };

function classify(str: SigmaString, cased: boolean): Compiled {
  const parts = str.parts.map((p) => (typeof p === 'string' && !cased ? p.toLowerCase() : p));
  const n = parts.length;
  if (n === 0) return { kind: 'exact', s: '' };
  if (parts.includes(ONE)) {
    let src = '^';
    for (const p of parts) src += p === STAR ? '.*' : p === ONE ? '.' : RE2JS.quote(p);
    return { kind: 'regex', re: RE2JS.compile(`${src}$`, RE2JS.DOTALL) };
  }
  const p0 = parts[0];
  const pl = parts[n - 1];
  if (n === 1) return p0 === STAR ? { kind: 'any' } : { kind: 'exact', s: p0 as string };
  if (n === 2) {
    if (p0 === STAR) return { kind: 'suffix', s: pl as string };
    return { kind: 'prefix', s: p0 as string };
  }
  if (n === 3 && p0 === STAR && pl === STAR) return { kind: 'contains', s: parts[1] as string };
  const head = typeof p0 === 'string' ? p0 : '';
  const tail = typeof pl === 'string' && n > 1 ? pl : '';
  const inner = parts.slice(typeof p0 === 'string' ? 1 : 0, typeof pl === 'string' ? n - 1 : n);
  const middle = inner.filter((p): p is string => typeof p === 'string');
  return { kind: 'glob', g: { head, middle, tail } };
}

function globMatch(g: Glob, v: string): boolean {
  if (v.length < g.head.length + g.tail.length) return false;
  if (!v.startsWith(g.head) || !v.endsWith(g.tail)) return false;
  let pos = g.head.length;
  const end = v.length - g.tail.length;
  for (const seg of g.middle) {
    const at = v.indexOf(seg, pos);
    if (at < 0 || at + seg.length > end) return false;
    pos = at + seg.length;
  }
  return true;
}

/**
 * Bigram presence filter for long values (PowerShell script blocks run to tens of kilobytes, and a rule may
 * list a hundred cmdlet names). A literal can only occur in a value that contains each of its character
 * pairs, so testing a few bits first skips most `includes` scans of the whole text. The bit set of the
 * last few long values is kept, since consecutive rules test the same cached lower-cased string.
 * Building the set is a JavaScript loop over every character, an order of magnitude slower per
 * character than a native `includes`: it pays only for long values tested against several literals,
 * counted over all the rules that test the value, since the set is shared. Measured on the kill-chain
 * data: script blocks (a hundred rules of one to three literals each) and 1,800-character PowerShell
 * ContextInfo values yes (script-block events cost 2.5 times less); 600-character CallTrace values no.
 */
const LONG_VALUE = 1024;
const BIGRAM_SLOTS = 4;
const bigramCache: Array<{ value: string; bits: Uint32Array }> = [];
let bigramNext = 0;

function bigramCode(a: number, b: number): number {
  return ((a & 0xff) << 8) | (b & 0xff);
}

function bigramsOf(v: string): Uint32Array {
  for (let i = 0; i < bigramCache.length; i++) {
    const c = bigramCache[i]!;
    if (c.value === v) return c.bits;
  }
  let slot = bigramCache[bigramNext];
  if (!slot) bigramCache[bigramNext] = slot = { value: v, bits: new Uint32Array(2048) };
  else {
    slot.value = v;
    slot.bits.fill(0);
  }
  bigramNext = (bigramNext + 1) % BIGRAM_SLOTS;
  const bits = slot.bits;
  let prev = v.charCodeAt(0);
  for (let i = 1; i < v.length; i++) {
    const c = v.charCodeAt(i);
    const code = bigramCode(prev, c);
    bits[code >>> 5]! |= 1 << (code & 31);
    prev = c;
  }
  return bits;
}

/** Distinct bigram codes of a literal. */
function literalBigrams(lit: string): Uint16Array {
  const codes = new Set<number>();
  for (let i = 1; i < lit.length; i++) codes.add(bigramCode(lit.charCodeAt(i - 1), lit.charCodeAt(i)));
  return Uint16Array.from(codes);
}

function mayContain(bits: Uint32Array, codes: Uint16Array): boolean {
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i]!;
    if ((bits[c >>> 5]! & (1 << (c & 31))) === 0) return false;
  }
  return true;
}

/**
 * Character commonness in Windows event text, most common first (letters by English frequency, with the
 * path punctuation that fills Image and CommandLine values). Characters not listed count as rare.
 */
const COMMON_CHARS = ' \\etaoinsrlcdhmu.p:wfgy0b1-2v3k_x4=56789/jqz';

function charRarity(c: string): number {
  const i = COMMON_CHARS.indexOf(c);
  return i < 0 ? COMMON_CHARS.length + 10 : i;
}

/**
 * The bigram of a literal least likely to occur in ordinary text: two rare characters, and best of all a
 * doubled punctuation mark (`::` in `sekurlsa::`). Used as a guard scanned once for all literals sharing it.
 */
export function rarestBigram(lit: string): string {
  let best = lit.slice(0, 2);
  let bestScore = -1;
  for (let i = 0; i + 1 < lit.length; i++) {
    const a = lit[i]!;
    const b = lit[i + 1]!;
    let score = charRarity(a) + charRarity(b);
    if (a === b && !/[a-z0-9]/i.test(a)) score += 40;
    if (score > bestScore) {
      bestScore = score;
      best = a + b;
    }
  }
  return best;
}

/** A guard bigram and the literals that contain it. */
interface GuardGroup {
  readonly guard: string;
  readonly subs: readonly string[];
}

/** Lists at least this long are grouped under guard bigrams (fewer full scans of the value). */
const GUARD_MIN_LITERALS = 8;

function guardGroups(subs: readonly string[]): GuardGroup[] {
  const byGuard = new Map<string, string[]>();
  for (const sub of subs) {
    const g = sub.length >= 3 ? rarestBigram(sub) : sub;
    const list = byGuard.get(g);
    if (list) list.push(sub);
    else byGuard.set(g, [sub]);
  }
  return [...byGuard].map(([guard, list]) => ({ guard, subs: list }));
}

/**
 * OR of substrings, always with native `includes`. Short values: short lists scan once per literal; long
 * lists scan once per guard bigram and only then for the literals behind a guard that is present. Long
 * values go through the bigram bit set, whatever the list's length (see LONG_VALUE).
 */
function containsAny(subs: readonly string[]): StringTest {
  const grams = subs.map(literalBigrams);
  const long = (v: string): boolean => {
    const bits = bigramsOf(v);
    for (let i = 0; i < subs.length; i++)
      if (mayContain(bits, grams[i]!) && v.includes(subs[i]!)) return true;
    return false;
  };
  const groups = subs.length >= GUARD_MIN_LITERALS ? guardGroups(subs) : undefined;
  const short =
    groups === undefined
      ? (v: string): boolean => {
          for (let i = 0; i < subs.length; i++) if (v.includes(subs[i]!)) return true;
          return false;
        }
      : (v: string): boolean => {
          for (let g = 0; g < groups.length; g++) {
            const group = groups[g]!;
            if (!v.includes(group.guard)) continue;
            const list = group.subs;
            for (let i = 0; i < list.length; i++) if (v.includes(list[i]!)) return true;
          }
          return false;
        };
  return (v) => (v.length < LONG_VALUE ? short(v) : long(v));
}

/**
 * OR of suffixes. Suffixes of the form `\name` (no other backslash), the common `Image|endswith:
 * '\\tool.exe'` lists, become one set lookup of the value's last path component.
 */
function suffixAny(suffixes: readonly string[]): StringTest {
  const names = new Set<string>();
  const other: string[] = [];
  for (const s of suffixes) {
    if (s.length > 1 && s[0] === '\\' && s.indexOf('\\', 1) < 0) names.add(s.slice(1));
    else other.push(s);
  }
  const byName =
    names.size === 0
      ? undefined
      : (v: string): boolean => {
          const i = v.lastIndexOf('\\');
          return i >= 0 && names.has(v.slice(i + 1));
        };
  if (other.length === 0 && byName) return byName;
  const loop = (v: string): boolean => {
    for (let i = 0; i < other.length; i++) if (v.endsWith(other[i]!)) return true;
    return false;
  };
  if (!byName) return loop;
  return (v) => byName(v) || loop(v);
}

function single(c: Compiled): StringTest {
  switch (c.kind) {
    case 'any':
      return () => true;
    case 'exact': {
      const s = c.s;
      return (v) => v === s;
    }
    case 'prefix': {
      const s = c.s;
      return (v) => v.startsWith(s);
    }
    case 'suffix': {
      const s = c.s;
      return (v) => v.endsWith(s);
    }
    case 'contains':
      return containsAny([c.s]);
    case 'glob': {
      const g = c.g;
      return (v) => globMatch(g, v);
    }
    case 'regex': {
      const re = c.re;
      return (v) => re.test(v);
    }
  }
}

/** OR over patterns: grouped by kind so a long list of suffixes is one tight loop. */
export function compileAnyOf(values: readonly SigmaString[], cased: boolean): StringTest {
  const compiled = values.map((v) => classify(v, cased));
  if (compiled.some((c) => c.kind === 'any')) return () => true;
  if (compiled.length === 1) return single(compiled[0]!);
  const exact = new Set<string>();
  const prefix: string[] = [];
  const suffix: string[] = [];
  const contains: string[] = [];
  const rest: StringTest[] = [];
  for (const c of compiled) {
    if (c.kind === 'exact') exact.add(c.s);
    else if (c.kind === 'prefix') prefix.push(c.s);
    else if (c.kind === 'suffix') suffix.push(c.s);
    else if (c.kind === 'contains') contains.push(c.s);
    else rest.push(single(c));
  }
  const tests: StringTest[] = [];
  if (exact.size === 1) {
    const s = [...exact][0]!;
    tests.push((v) => v === s);
  } else if (exact.size > 1) tests.push((v) => exact.has(v));
  if (prefix.length > 0)
    tests.push((v) => {
      for (let i = 0; i < prefix.length; i++) if (v.startsWith(prefix[i]!)) return true;
      return false;
    });
  if (suffix.length > 0) tests.push(suffixAny(suffix));
  if (contains.length > 0) tests.push(containsAny(contains));
  tests.push(...rest);
  if (tests.length === 1) return tests[0]!;
  return (v) => {
    for (let i = 0; i < tests.length; i++) if (tests[i]!(v)) return true;
    return false;
  };
}

/** AND over groups; each group is an OR (one value, or a value's expansions such as windash variants). */
export function compileAllOf(groups: readonly (readonly SigmaString[])[], cased: boolean): StringTest {
  const tests = groups.map((g) => compileAnyOf(g, cased));
  if (tests.length === 1) return tests[0]!;
  return (v) => {
    for (let i = 0; i < tests.length; i++) if (!tests[i]!(v)) return false;
    return true;
  };
}
