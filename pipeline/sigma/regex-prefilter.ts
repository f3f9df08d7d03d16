/**
 * Required literals of a regular expression: substrings every match must contain. A regex rule runs the
 * (linear but slow, pure-JS) RE2 matcher only on values that contain all of them, checked with native
 * `includes`; on a 20 KB PowerShell script block that turns most regex evaluations into a few scans.
 *
 * The extraction is deliberately conservative: only top-level concatenations are read (a pattern with a
 * top-level `|` yields nothing), groups and classes are opaque, a quantifier that allows zero repetitions
 * drops the character it applies to, and only ASCII literal characters are kept. Literals are returned
 * lower-cased, to be found in the lower-cased value: for ASCII text a case-sensitive or case-insensitive
 * match implies the lower-cased literal is present (the caller skips the prefilter for values with
 * non-ASCII characters, where Unicode case folding, e.g. KELVIN SIGN ~ k, could disagree).
 */

const LITERAL_ESCAPE = /[^A-Za-z0-9]/;

/** Skips a group `( ... )` starting at `i`; returns the index after its closing parenthesis. */
function skipGroup(p: string, i: number): number {
  let depth = 0;
  for (let j = i; j < p.length; j++) {
    const c = p[j];
    if (c === '\\') j++;
    else if (c === '[') j = skipClass(p, j) - 1;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return j + 1;
  }
  return p.length;
}

/** Skips a character class `[ ... ]` starting at `i`; returns the index after `]`. */
function skipClass(p: string, i: number): number {
  let j = i + 1;
  if (p[j] === '^') j++;
  if (p[j] === ']') j++; // a leading ] is literal
  for (; j < p.length; j++) {
    if (p[j] === '\\') j++;
    else if (p[j] === '[' && p[j + 1] === ':') {
      const end = p.indexOf(':]', j + 2);
      if (end > 0) j = end + 1;
    } else if (p[j] === ']') return j + 1;
  }
  return p.length;
}

function hasTopLevelAlternation(p: string): boolean {
  let depth = 0;
  for (let j = 0; j < p.length; j++) {
    const c = p[j];
    if (c === '\\') j++;
    else if (c === '[') j = skipClass(p, j) - 1;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) return true;
  }
  return false;
}

const REPEAT = /^\{(\d+)(,(\d*))?\}/;

export function requiredLiterals(pattern: string): string[] {
  if (hasTopLevelAlternation(pattern)) return [];
  const out: string[] = [];
  let buf = '';
  const flush = (): void => {
    const minLen = /^[a-z0-9]+$/i.test(buf) ? 3 : 2;
    if (buf.length >= minLen) out.push(buf.toLowerCase());
    buf = '';
  };
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i]!;
    // The atom at i: one literal char (possibly escaped), or something opaque.
    let lit: string | undefined;
    let next: number;
    if (c === '\\') {
      const e = pattern[i + 1];
      if (e !== undefined && LITERAL_ESCAPE.test(e) && e.charCodeAt(0) < 128) lit = e;
      next = i + 2;
    } else if (c === '(') next = skipGroup(pattern, i);
    else if (c === '[') next = skipClass(pattern, i);
    else if (c === '.' || c === '^' || c === '$' || c === '|' || c === ')') next = i + 1;
    else {
      if (
        c.charCodeAt(0) < 128 &&
        c !== '*' &&
        c !== '+' &&
        c !== '?' &&
        !(c === '{' && REPEAT.test(pattern.slice(i)))
      )
        lit = c;
      next = i + 1;
    }
    // Quantifier after the atom?
    const rest = pattern.slice(next);
    let minRepeat = 1;
    let quantified = false;
    let qlen = 0;
    if (rest[0] === '*' || rest[0] === '?') {
      minRepeat = 0;
      quantified = true;
      qlen = 1;
    } else if (rest[0] === '+') {
      quantified = true;
      qlen = 1;
    } else {
      const m = REPEAT.exec(rest);
      if (m) {
        minRepeat = Number(m[1]);
        quantified = true;
        qlen = m[0].length;
      }
    }
    if (quantified && (rest[qlen] === '?' || rest[qlen] === '+')) qlen++; // lazy / possessive suffix
    if (lit === undefined) flush();
    else if (!quantified) buf += lit;
    else {
      if (minRepeat > 0) buf += lit;
      flush();
    }
    i = next + qlen;
  }
  flush();
  return [...new Set(out)];
}

/** True when the string holds only ASCII characters (where the lower-cased prefilter is exact). */
export function isAscii(s: string): boolean {
  return !NON_ASCII.test(s);
}

const NON_ASCII = /[^\p{ASCII}]/u;
