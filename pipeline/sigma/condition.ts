/**
 * Parser for the Sigma `condition` expression: `and`, `or`, `not`, parentheses, and the quantifiers
 * `1 of X*`, `any of X*`, `all of X*`, `1 of them`, `all of them`. Precedence is the spec's: not > and > or.
 * The parser resolves selection names (and `X*` patterns) against the detection's identifiers, so every
 * error (unknown name, pattern matching nothing, deprecated `| count()` aggregation) surfaces at load time.
 */

export type CondNode =
  | { readonly type: 'ref'; readonly name: string }
  | { readonly type: 'and'; readonly items: readonly CondNode[] }
  | { readonly type: 'or'; readonly items: readonly CondNode[] }
  | { readonly type: 'not'; readonly item: CondNode }
  | { readonly type: 'atLeast'; readonly n: number; readonly items: readonly CondNode[] };

type Token = { kind: 'lp' } | { kind: 'rp' } | { kind: 'word'; text: string };

function tokenize(src: string): Token[] {
  if (src.includes('|'))
    throw new Error('deprecated aggregation expression (`|`) in condition is not supported');
  const out: Token[] = [];
  const re = /\s*(\(|\)|[^\s()]+)/y;
  let m: RegExpExecArray | null;
  let pos = 0;
  while (pos < src.length) {
    re.lastIndex = pos;
    m = re.exec(src);
    if (!m) {
      if (/^\s*$/.test(src.slice(pos))) break;
      throw new Error(`cannot tokenize condition at '${src.slice(pos, pos + 20)}'`);
    }
    pos = re.lastIndex;
    const t = m[1]!;
    if (t === '(') out.push({ kind: 'lp' });
    else if (t === ')') out.push({ kind: 'rp' });
    else out.push({ kind: 'word', text: t });
  }
  return out;
}

function globToRegExp(pattern: string): RegExp {
  const esc = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${esc}$`);
}

export function parseCondition(src: string, identifiers: readonly string[]): CondNode {
  const tokens = tokenize(src);
  let i = 0;
  const peekWord = (): string | undefined => {
    const t = tokens[i];
    return t?.kind === 'word' ? t.text.toLowerCase() : undefined;
  };
  const ids = new Set(identifiers);

  const resolve = (pattern: string): CondNode[] => {
    if (pattern === 'them') {
      const names = identifiers.filter((n) => !n.startsWith('_'));
      if (names.length === 0) throw new Error("'them' matches no selection");
      return names.map((name) => ({ type: 'ref', name }));
    }
    if (pattern.includes('*') || pattern.includes('?')) {
      const re = globToRegExp(pattern);
      const names = identifiers.filter((n) => re.test(n));
      if (names.length === 0) throw new Error(`pattern '${pattern}' matches no selection`);
      return names.map((name) => ({ type: 'ref', name }));
    }
    if (!ids.has(pattern)) throw new Error(`unknown selection '${pattern}'`);
    return [{ type: 'ref', name: pattern }];
  };

  const parseOr = (): CondNode => {
    const items = [parseAnd()];
    while (peekWord() === 'or') {
      i++;
      items.push(parseAnd());
    }
    return items.length === 1 ? items[0]! : { type: 'or', items };
  };
  const parseAnd = (): CondNode => {
    const items = [parseNot()];
    while (peekWord() === 'and') {
      i++;
      items.push(parseNot());
    }
    return items.length === 1 ? items[0]! : { type: 'and', items };
  };
  const parseNot = (): CondNode => {
    if (peekWord() === 'not') {
      i++;
      return { type: 'not', item: parseNot() };
    }
    return parsePrimary();
  };
  const parsePrimary = (): CondNode => {
    const t = tokens[i];
    if (!t) throw new Error('unexpected end of condition');
    if (t.kind === 'lp') {
      i++;
      const inner = parseOr();
      if (tokens[i]?.kind !== 'rp') throw new Error('missing closing parenthesis in condition');
      i++;
      return inner;
    }
    if (t.kind === 'rp') throw new Error('unexpected closing parenthesis in condition');
    const word = t.text;
    const lw = word.toLowerCase();
    const next = tokens[i + 1];
    if (next?.kind === 'word' && next.text.toLowerCase() === 'of') {
      const target = tokens[i + 2];
      if (target?.kind !== 'word') throw new Error(`'${word} of' needs a selection name or pattern`);
      i += 3;
      const items = resolve(target.text.toLowerCase() === 'them' ? 'them' : target.text);
      if (lw === 'all') return items.length === 1 ? items[0]! : { type: 'and', items };
      if (lw === 'any' || lw === '1') return items.length === 1 ? items[0]! : { type: 'or', items };
      if (/^\d+$/.test(lw)) {
        const n = Number(lw);
        if (n < 1) throw new Error(`invalid quantifier '${word} of'`);
        return { type: 'atLeast', n, items };
      }
      throw new Error(`invalid quantifier '${word} of'`);
    }
    if (lw === 'and' || lw === 'or' || lw === 'of') throw new Error(`unexpected '${word}' in condition`);
    if (word.includes('*') || lw === 'them') throw new Error(`'${word}' must follow '1 of' or 'all of'`);
    i++;
    return resolve(word)[0]!;
  };

  const node = parseOr();
  if (i < tokens.length) throw new Error(`unexpected trailing tokens in condition: '${src}'`);
  return node;
}

/** Every selection a condition refers to (to report selections never used, and for tests). */
export function referencedNames(node: CondNode, out = new Set<string>()): Set<string> {
  switch (node.type) {
    case 'ref':
      out.add(node.name);
      break;
    case 'not':
      referencedNames(node.item, out);
      break;
    default:
      for (const c of node.items) referencedNames(c, out);
  }
  return out;
}
