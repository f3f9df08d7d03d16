/**
 * The string value transformations of Sigma modifiers (contains, startswith, endswith, windash, base64,
 * base64offset, utf16le/utf16be/utf16/wide, expand). They run in the order the rule writes them, like
 * pySigma, on "groups": one group per value written in the rule, holding the alternatives it expanded into
 * (windash permutations, base64offset shifts, placeholder values). A group is an OR; `all` ANDs groups.
 */
import {
  makeString,
  plainString,
  toPlain,
  withLeadingStar,
  withTrailingStar,
  type SigmaString,
} from './sigma-string';

export type Group = SigmaString[];

/** The characters windash treats as interchangeable: hyphen, slash, en dash, em dash, horizontal bar. */
export const WINDASH_CHARS = ['-', '/', '\u2013', '\u2014', '\u2015'] as const;
const DASH_SET = new Set<string>(WINDASH_CHARS);
/** Beyond this many permutations the rule is refused rather than exploding memory. */
const MAX_WINDASH_VARIANTS = 625;

function isWordChar(c: string | undefined): boolean {
  return c !== undefined && /[\p{L}\p{N}_]/u.test(c);
}

/**
 * A dash counts as a command-line switch when it starts a word: not preceded by a word character and
 * followed by one (pySigma's `\B[-/]\b`). Each such position is permuted over all five dash characters.
 */
export function windash(s: SigmaString): SigmaString[] {
  type Slot = { part: number; pos: number };
  const slots: Slot[] = [];
  s.parts.forEach((p, pi) => {
    if (typeof p !== 'string') return;
    for (let i = 0; i < p.length; i++) {
      if (!DASH_SET.has(p[i]!)) continue;
      if (isWordChar(p[i - 1]) || !isWordChar(p[i + 1])) continue;
      slots.push({ part: pi, pos: i });
    }
  });
  if (slots.length === 0) return [s];
  const total = WINDASH_CHARS.length ** slots.length;
  if (total > MAX_WINDASH_VARIANTS) throw new Error(`windash: too many permutations (${total})`);
  const out: SigmaString[] = [];
  for (let k = 0; k < total; k++) {
    const chars = s.parts.map((p) => (typeof p === 'string' ? p.split('') : null));
    let rem = k;
    for (const slot of slots) {
      chars[slot.part]![slot.pos] = WINDASH_CHARS[rem % WINDASH_CHARS.length]!;
      rem = Math.floor(rem / WINDASH_CHARS.length);
    }
    out.push(
      makeString(
        s.parts.map((p, i) => chars[i]?.join('') ?? p),
        s.binary,
      ),
    );
  }
  return out;
}

function bytesOf(s: SigmaString, why: string): Uint8Array {
  const text = toPlain(s, why);
  if (!s.binary) return new TextEncoder().encode(text);
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

export function base64(s: SigmaString): SigmaString {
  return plainString(b64(bytesOf(s, 'base64')));
}

/**
 * The three encodings of a value at byte offsets 0, 1 and 2 inside a longer base64 text, with the
 * characters that depend on the unknown neighbouring bytes cut off (as pySigma and the legacy sigmac do).
 */
export function base64offset(s: SigmaString): SigmaString[] {
  const bytes = bytesOf(s, 'base64offset');
  const startCut = [0, 2, 3];
  const endCut = [0, 3, 2];
  const out: SigmaString[] = [];
  for (let i = 0; i < 3; i++) {
    const shifted = new Uint8Array(i + bytes.length);
    shifted.fill(0x20, 0, i);
    shifted.set(bytes, i);
    const enc = b64(shifted);
    const cut = endCut[(bytes.length + i) % 3]!;
    out.push(plainString(enc.slice(startCut[i]!, enc.length - cut)));
  }
  return out;
}

export type Utf16Kind = 'utf16le' | 'utf16be' | 'utf16';

/** Re-encodes the literal parts as UTF-16 bytes (one character per byte); wildcards are kept. */
export function utf16(s: SigmaString, kind: Utf16Kind): SigmaString {
  const enc = (text: string): string => {
    let out = '';
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      const lo = String.fromCharCode(c & 0xff);
      const hi = String.fromCharCode(c >> 8);
      out += kind === 'utf16be' ? hi + lo : lo + hi;
    }
    return out;
  };
  const parts = s.parts.map((p) => (typeof p === 'string' ? enc(p) : p));
  if (kind === 'utf16') parts.unshift('\u00ff\u00fe');
  return makeString(parts, true);
}

const PLACEHOLDER = /%([A-Za-z0-9_.-]+)%/g;

/** Replaces each `%name%` with each configured value (all combinations), in raw Sigma notation. */
export function expandPlaceholders(
  raw: string,
  placeholders: Readonly<Record<string, readonly string[]>>,
): string[] {
  const names = [...raw.matchAll(PLACEHOLDER)].map((m) => m[1]!);
  if (names.length === 0) return [raw];
  const lookup = (name: string): readonly string[] => {
    const direct = placeholders[name];
    if (direct) return direct;
    const lower = name.toLowerCase();
    for (const [k, v] of Object.entries(placeholders)) if (k.toLowerCase() === lower) return v;
    throw new Error(`undefined placeholder %${name}%`);
  };
  let results = [''];
  let last = 0;
  for (const m of raw.matchAll(PLACEHOLDER)) {
    const before = raw.slice(last, m.index);
    const values = lookup(m[1]!);
    const next: string[] = [];
    for (const r of results) for (const v of values) next.push(r + before + v);
    results = next;
    last = m.index + m[0].length;
  }
  return results.map((r) => r + raw.slice(last));
}

export const STRING_MODIFIERS = new Set([
  'contains',
  'startswith',
  'endswith',
  'windash',
  'base64',
  'base64offset',
  'utf16le',
  'utf16be',
  'utf16',
  'wide',
]);

/** Applies the string modifiers in rule order to the groups of one detection item. */
export function applyStringModifiers(groups: Group[], modifiers: readonly string[]): Group[] {
  let out = groups;
  for (const m of modifiers) {
    switch (m) {
      case 'contains':
        out = out.map((g) => g.map((s) => withTrailingStar(withLeadingStar(s))));
        break;
      case 'startswith':
        out = out.map((g) => g.map(withTrailingStar));
        break;
      case 'endswith':
        out = out.map((g) => g.map(withLeadingStar));
        break;
      case 'windash':
        out = out.map((g) => g.flatMap(windash));
        break;
      case 'base64':
        out = out.map((g) => g.map(base64));
        break;
      case 'base64offset':
        out = out.map((g) => g.flatMap(base64offset));
        break;
      case 'utf16le':
      case 'wide':
        out = out.map((g) => g.map((s) => utf16(s, 'utf16le')));
        break;
      case 'utf16be':
        out = out.map((g) => g.map((s) => utf16(s, 'utf16be')));
        break;
      case 'utf16':
        out = out.map((g) => g.map((s) => utf16(s, 'utf16')));
        break;
      default:
        break;
    }
  }
  return out;
}
