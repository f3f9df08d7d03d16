/**
 * Sigma string values: literal text with the wildcards `*` (any run of characters) and `?` (exactly one
 * character). The spec's escaping rules (sigma-rules-specification, "Escaping"): `\*` and `\?` are a literal
 * star / question mark, `\\` is one literal backslash, and a backslash before any other character (or at the
 * end) is itself literal. That is why Windows paths such as `C:\Windows\` need no doubling, while a literal
 * backslash directly before a wildcard must be written `\\*`.
 */

export const STAR: unique symbol = Symbol('*');
export const ONE: unique symbol = Symbol('?');
export type Wildcard = typeof STAR | typeof ONE;
export type Part = string | Wildcard;

/**
 * A parsed Sigma string. `binary` marks text whose characters are raw bytes (0-255) produced by the utf16
 * modifiers, so a later base64 encodes the bytes rather than their UTF-8 form.
 */
export interface SigmaString {
  readonly parts: readonly Part[];
  readonly binary: boolean;
}

export function parseSigmaString(raw: string): SigmaString {
  const parts: Part[] = [];
  let lit = '';
  const flush = (): void => {
    if (lit !== '') parts.push(lit);
    lit = '';
  };
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === '\\') {
      const next = raw[i + 1];
      if (next === '*' || next === '?' || next === '\\') {
        lit += next;
        i++;
      } else {
        lit += c;
      }
    } else if (c === '*') {
      flush();
      if (parts[parts.length - 1] !== STAR) parts.push(STAR);
    } else if (c === '?') {
      flush();
      parts.push(ONE);
    } else {
      lit += c;
    }
  }
  flush();
  return { parts, binary: false };
}

export function plainString(text: string, binary = false): SigmaString {
  return { parts: text === '' ? [] : [text], binary };
}

export function hasWildcards(s: SigmaString): boolean {
  return s.parts.some((p) => typeof p !== 'string');
}

/** The literal text of a wildcard-free string; throws when it holds a wildcard. */
export function toPlain(s: SigmaString, why: string): string {
  let out = '';
  for (const p of s.parts) {
    if (typeof p !== 'string') throw new Error(`${why}: value must not contain wildcards`);
    out += p;
  }
  return out;
}

/** Normalises parts: adjacent literals joined, runs of `*` collapsed. */
export function makeString(parts: readonly Part[], binary: boolean): SigmaString {
  const out: Part[] = [];
  for (const p of parts) {
    const last = out[out.length - 1];
    if (typeof p === 'string') {
      if (p === '') continue;
      if (typeof last === 'string') out[out.length - 1] = last + p;
      else out.push(p);
    } else if (p === STAR && last === STAR) {
      continue;
    } else {
      out.push(p);
    }
  }
  return { parts: out, binary };
}

export function withLeadingStar(s: SigmaString): SigmaString {
  return s.parts[0] === STAR ? s : makeString([STAR, ...s.parts], s.binary);
}

export function withTrailingStar(s: SigmaString): SigmaString {
  return s.parts[s.parts.length - 1] === STAR ? s : makeString([...s.parts, STAR], s.binary);
}

/** Renders back to Sigma notation (escaping), for messages and tests. */
export function formatSigmaString(s: SigmaString): string {
  return s.parts
    .map((p) => (p === STAR ? '*' : p === ONE ? '?' : p.replace(/[\\*?]/g, (m) => `\\${m}`)))
    .join('');
}
