/**
 * Property filters of the analyzer query DSL. A filter is plain data; the compiler (./compile.ts) turns it
 * into a Cypher predicate whose every value is a parameter.
 *
 * String matching is case-insensitive by default (Windows paths and command lines are spelled every which
 * way); `caseSensitive(f)` opts out. On list properties (`granted_access`, `details`, `sources`, ...) a
 * filter holds when ANY element matches. A missing property matches nothing, so `not(f)` holds on it.
 */

export type Scalar = string | number;

export type Filter =
  | { readonly op: 'eq'; readonly values: readonly Scalar[]; readonly caseSensitive?: boolean }
  | {
      readonly op: 'contains' | 'startsWith' | 'endsWith';
      readonly values: readonly string[];
      readonly caseSensitive?: boolean;
    }
  | { readonly op: 'regex'; readonly pattern: string; readonly caseSensitive?: boolean }
  | { readonly op: 'gt' | 'gte' | 'lt' | 'lte'; readonly value: number }
  | { readonly op: 'exists' | 'missing' }
  | { readonly op: 'not'; readonly filter: Filter }
  | { readonly op: 'and' | 'or'; readonly filters: readonly Filter[] };

/** What a `where` entry accepts: a filter, a value (equality) or a list of values (any of them). */
export type FilterInput = Filter | Scalar | readonly Scalar[];

function strings(op: string, values: readonly unknown[]): string[] {
  if (values.length === 0) throw new Error(`${op}() needs at least one value`);
  for (const v of values) {
    if (typeof v !== 'string' || v === '')
      throw new Error(`${op}() takes non-empty strings, got ${JSON.stringify(v)}`);
  }
  return values as string[];
}

/** Equal to any of the values. */
export function eq(...values: Scalar[]): Filter {
  if (values.length === 0) throw new Error('eq() needs at least one value');
  for (const v of values) {
    if (typeof v !== 'string' && !(typeof v === 'number' && Number.isFinite(v))) {
      throw new Error(`eq() takes strings or finite numbers, got ${JSON.stringify(v)}`);
    }
  }
  return { op: 'eq', values };
}

/** Alias of eq: the value is one of these. */
export const oneOf = eq;

export function contains(...values: string[]): Filter {
  return { op: 'contains', values: strings('contains', values) };
}

export function startsWith(...values: string[]): Filter {
  return { op: 'startsWith', values: strings('startsWith', values) };
}

export function endsWith(...values: string[]): Filter {
  return { op: 'endsWith', values: strings('endsWith', values) };
}

/**
 * A regular expression found anywhere in the value (search, not whole-value match: anchor with ^ and $).
 * Runs in Neo4j (Java regex); write the common subset of Java and JavaScript syntax. Checked when the
 * analyzer is defined.
 */
export function regex(pattern: string | RegExp): Filter {
  const src = typeof pattern === 'string' ? pattern : pattern.source;
  if (src === '') throw new Error('regex() needs a pattern');
  if (/\(\?[a-zA-Z]+\)/.test(src))
    throw new Error('regex(): inline flags are not supported; use caseSensitive() instead');
  try {
    new RegExp(src, 'i');
  } catch (err) {
    throw new Error(`regex(): invalid pattern ${JSON.stringify(src)}: ${(err as Error).message}`);
  }
  return { op: 'regex', pattern: src };
}

function num(op: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`${op}() takes a finite number`);
  return value;
}

export const gt = (value: number): Filter => ({ op: 'gt', value: num('gt', value) });
export const gte = (value: number): Filter => ({ op: 'gte', value: num('gte', value) });
export const lt = (value: number): Filter => ({ op: 'lt', value: num('lt', value) });
export const lte = (value: number): Filter => ({ op: 'lte', value: num('lte', value) });

/** The property has a value (a non-empty list for list properties). */
export const exists = (): Filter => ({ op: 'exists' });
/** The property has no value. */
export const missing = (): Filter => ({ op: 'missing' });

export function not(filter: FilterInput): Filter {
  return { op: 'not', filter: toFilter(filter) };
}

export function allOf(...filters: FilterInput[]): Filter {
  if (filters.length === 0) throw new Error('allOf() needs at least one filter');
  return { op: 'and', filters: filters.map(toFilter) };
}

export function anyOf(...filters: FilterInput[]): Filter {
  if (filters.length === 0) throw new Error('anyOf() needs at least one filter');
  return { op: 'or', filters: filters.map(toFilter) };
}

/** The same filter, matching letter case exactly. */
export function caseSensitive(filter: FilterInput): Filter {
  const f = toFilter(filter);
  switch (f.op) {
    case 'eq':
    case 'contains':
    case 'startsWith':
    case 'endsWith':
    case 'regex':
      return { ...f, caseSensitive: true };
    case 'not':
      return { op: 'not', filter: caseSensitive(f.filter) };
    case 'and':
    case 'or':
      return { op: f.op, filters: f.filters.map(caseSensitive) };
    default:
      return f;
  }
}

/**
 * An image (executable path) whose file name is one of `names`: `C:\Windows\System32\cmd.exe`, `cmd.exe`
 * and `/usr/bin/cmd.exe` all match `imageIs('cmd.exe')`.
 */
export function imageIs(...names: string[]): Filter {
  const list = strings('imageIs', names).map((n) => n.toLowerCase());
  return anyOf(eq(...list), endsWith(...list.flatMap((n) => [`\\${n}`, `/${n}`])));
}

const FILTER_OPS = new Set([
  'eq',
  'contains',
  'startsWith',
  'endsWith',
  'regex',
  'gt',
  'gte',
  'lt',
  'lte',
  'exists',
  'missing',
  'not',
  'and',
  'or',
]);

export function isFilter(v: unknown): v is Filter {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    FILTER_OPS.has((v as { op?: unknown }).op as string)
  );
}

/** A `where` entry as a filter: a value means equality, a list means any of the values. */
export function toFilter(input: FilterInput): Filter {
  if (isFilter(input)) return input;
  if (Array.isArray(input)) return eq(...(input as Scalar[]));
  if (typeof input === 'string' || typeof input === 'number') return eq(input);
  throw new Error(`not a filter: ${JSON.stringify(input)}`);
}
