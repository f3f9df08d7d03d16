import { describe, expect, it } from 'vitest';
import {
  anchorTests,
  evaluate,
  keysFor,
  mayPass,
  portableRegex,
  prefetchCypher,
  prefetchPlan,
  type NodeFacts,
} from './anchor-prefilter';
import {
  allOf,
  anyOf,
  caseSensitive,
  contains,
  endsWith,
  eq,
  exists,
  gt,
  imageIs,
  lte,
  match,
  missing,
  not,
  regex,
  startsWith,
} from './sdk';

describe('portableRegex', () => {
  it.each([
    String.raw`^[a-z]:\\windows\\(system32|syswow64)\\`,
    String.raw`\\(currentcontrolset|controlset\d{3})\\services\\[^\\]+$`,
    String.raw`\bcmd(\.exe)?\s+/c\b`,
    String.raw`-e(nc|ncodedcommand)?\s+[a-z0-9+/=]{20,}`,
    String.raw`a{2}b{1,}c{0,3}?`,
    String.raw`[\w.-]+@[^\s]+`,
  ])('accepts %s', (p) => {
    expect(portableRegex(p)).toBe(true);
  });

  it.each([
    ['a lookbehind', '(?<=a)b'],
    ['a lookahead', 'a(?=b)'],
    ['inline flags', '(?i)abc'],
    ['a named group', '(?<n>a)'],
    ['a back reference', String.raw`(a)\1`],
    ['a quoted section', String.raw`\Qa.b\E`],
    ['a Unicode property', String.raw`\p{L}`],
    ['Java class intersection', '[a-z&&[^aeiou]]'],
    ['a nested class', '[a[b]]'],
    ['a leading ] in a class', '[]a]'],
    ['a word boundary inside a class', String.raw`[\b]`],
    ['a possessive quantifier', 'a*+b'],
    ['a possessive counted quantifier', 'a{2}+b'],
    ['a brace that is no quantifier', 'a{x}'],
    ['non-ASCII', 'caf\u00e9'],
    ['a control character', 'a\tb'],
    ['an unclosed class', '[abc'],
    ['a trailing backslash', 'abc\\'],
    ['invalid JavaScript', '(a'],
    ['empty', ''],
  ])('refuses %s', (_why, p) => {
    expect(portableRegex(p)).toBe(false);
  });
});

describe('evaluate: three-valued like the compiled Cypher, U where JavaScript could disagree', () => {
  const image = imageIs('cmd.exe');

  it('string filters, lower-cased unless case-sensitive', () => {
    expect(evaluate('C:\\Windows\\System32\\CMD.EXE', 'string', image)).toBe('T');
    expect(evaluate('C:\\Windows\\System32\\notcmd.exe', 'string', image)).toBe('F');
    expect(evaluate('C:\\x\\Cmd.exe', 'string', caseSensitive(endsWith('cmd.exe')))).toBe('F');
    expect(evaluate('abc', 'string', startsWith('AB'))).toBe('T');
    expect(evaluate('abc', 'string', contains('x', 'B'))).toBe('T');
    expect(evaluate('42', 'string', eq(42))).toBe('T');
  });

  it('a missing value is null, and NOT coalesce(null, false) holds', () => {
    expect(evaluate(undefined, 'string', image)).toBe('N');
    expect(evaluate(null, 'string', eq('a'))).toBe('N');
    expect(evaluate(undefined, 'string', not(image))).toBe('T');
    expect(evaluate(undefined, 'string', exists())).toBe('F');
    expect(evaluate(undefined, 'string', missing())).toBe('T');
    expect(evaluate('x', 'string', missing())).toBe('F');
  });

  it('and / or follow Cypher: false beats null, true beats null', () => {
    expect(evaluate(undefined, 'string', allOf(eq('a'), not(eq('b'))))).toBe('N');
    expect(evaluate('a', 'string', anyOf(eq('a'), eq('b')))).toBe('T');
    expect(evaluate(undefined, 'string', anyOf(eq('a'), missing()))).toBe('T');
    expect(evaluate(undefined, 'string', allOf(eq('a'), exists()))).toBe('F');
  });

  it('is unknown on non-ASCII values and on regexes over line breaks', () => {
    expect(evaluate('C:\\\u0130\\cmd.exe', 'string', image)).toBe('U');
    expect(evaluate('C:\\\u0130\\cmd.exe', 'string', not(image))).toBe('U');
    expect(evaluate('cmd.exe\n', 'string', regex('exe$'))).toBe('U');
    expect(evaluate('a\r\nb', 'string', regex('a.b'))).toBe('U');
    // Plain string filters over a line break are exact: no regex is involved.
    expect(evaluate('cmd.exe\n', 'string', endsWith('exe'))).toBe('F');
  });

  it('regexes: portable ones searched like Java, the rest unknown', () => {
    expect(
      evaluate('C:\\Windows\\System32\\x.exe', 'string', regex(String.raw`^[a-z]:\\windows\\system32\\`)),
    ).toBe('T');
    expect(evaluate('D:\\tools\\x.exe', 'string', regex(String.raw`^[a-z]:\\windows\\`))).toBe('F');
    expect(evaluate('ABC', 'string', caseSensitive(regex('abc')))).toBe('F');
    expect(evaluate('xab', 'string', regex('(?<=x)ab'))).toBe('U');
    expect(evaluate('zzz', 'string', regex('(?<=x)ab'))).toBe('U');
  });

  it('numbers and lists', () => {
    expect(evaluate(5, 'number', gt(4))).toBe('T');
    expect(evaluate(5, 'number', lte(4))).toBe('F');
    expect(evaluate(5, 'number', eq(5))).toBe('T');
    expect(evaluate(undefined, 'number', gt(1))).toBe('N');
    expect(evaluate('5', 'number', gt(1))).toBe('U');
    expect(evaluate(['a', 'B'], 'strings', eq('b'))).toBe('T');
    expect(evaluate(['a'], 'strings', eq('b'))).toBe('F');
    expect(evaluate([], 'strings', exists())).toBe('F');
    expect(evaluate(undefined, 'strings', eq('b'))).toBe('F');
    expect(evaluate(['\u0130'], 'strings', eq('b'))).toBe('U');
    expect(evaluate('a', 'strings', eq('a'))).toBe('U');
  });
});

describe('keysFor', () => {
  const cmd = 'process:cmd';
  const word = 'process:word';
  const unknown = 'process:unknown';
  const byKind = new Map([['Process' as const, [cmd, word, unknown]]]);
  // cmd.exe has a parent and no children; winword.exe started a child and has no parent in the graph.
  const facts = new Map<string, NodeFacts>([
    [
      cmd,
      {
        props: { key: cmd, image: 'C:\\Windows\\System32\\cmd.exe', command_line: 'cmd /c whoami' },
        degrees: { in_PARENT_OF: 1, out_PARENT_OF: 0, out_SET_VALUE: 0 },
      },
    ],
    [
      word,
      {
        props: { key: word, image: 'C:\\Program Files\\Office\\WINWORD.EXE' },
        degrees: { in_PARENT_OF: 0, out_PARENT_OF: 1, out_SET_VALUE: 3 },
      },
    ],
  ]);

  it('keeps the keys that may pass an anchor filter, and keys it knows nothing about', () => {
    const q = match('Process', 'child', { image: imageIs('cmd.exe') })
      .parent('child', 'parent')
      .anchor('child');
    expect(keysFor(q.spec, byKind, facts).get('Process')).toEqual([cmd, unknown]);
  });

  it('an anchor without filters still needs the edges its pattern leaves it by', () => {
    // By default every process of the pattern is an anchor: the parent must have started a process.
    const both = match('Process', 'child', { image: imageIs('cmd.exe') }).parent('child', 'parent');
    expect(keysFor(both.spec, byKind, facts).get('Process')).toEqual([cmd, word, unknown]);
    const writer = match('Process', 'writer').setValue('writer', 'k', { path: contains('run') });
    expect(keysFor(writer.spec, byKind, facts).get('Process')).toEqual([word, unknown]);
    const child = match('Process', 'child').parent('child', 'parent').anchor('child');
    expect(keysFor(child.spec, byKind, facts).get('Process')).toEqual([cmd, unknown]);
  });

  it('an anchor with neither filters nor edges takes every key', () => {
    const q = match('Process', 'p');
    expect(anchorTests(q.spec)).toEqual([{ kind: 'Process', filters: [], edges: [] }]);
    const none = new Map([[cmd, { props: { key: cmd }, degrees: {} }]]);
    expect(keysFor(q.spec, byKind, none).get('Process')).toEqual([cmd, word, unknown]);
  });

  it('several anchors of a kind: a key passing any of them is kept', () => {
    const q = match('Process', 'child', { image: imageIs('cmd.exe') })
      .parent('child', 'parent', { image: imageIs('winword.exe') })
      .anchor('child', 'parent');
    const known = new Map([['Process' as const, [cmd, word]]]);
    expect(keysFor(q.spec, known, facts).get('Process')).toEqual([cmd, word]);
    const onlyCmd = match('Process', 'p', {
      image: imageIs('winword.exe'),
      command_line: contains('whoami'),
    });
    expect(keysFor(onlyCmd.spec, known, facts).size).toBe(0);
  });

  it('drops kinds the query does not anchor on, so an empty map means nothing to run', () => {
    const files = new Map([['File' as const, ['file:x']]]);
    const q = match('Process', 'p', { image: imageIs('cmd.exe') });
    expect(keysFor(q.spec, files, facts).size).toBe(0);
  });

  it('does not use filters of other variables or edges, groups of alternatives, or sub-patterns', () => {
    const q = match('Process', 'p')
      .parent('p', 'parent', { image: imageIs('winword.exe') })
      .whereAny({ p: { image: imageIs('nothing.exe') } }, { parent: { image: imageIs('nothing.exe') } })
      .notExists((x) => x.setValue('p', 'k', {}))
      .anchor('p');
    expect(anchorTests(q.spec)).toEqual([
      { kind: 'Process', filters: [], edges: [{ edge: 'PARENT_OF', dir: 'in' }] },
    ]);
    expect(keysFor(q.spec, byKind, facts).get('Process')).toEqual([cmd, unknown]);
  });

  it('mayPass: a node not found is kept; a count it did not read decides nothing', () => {
    const [t] = anchorTests(
      match('Process', 'p', { image: imageIs('cmd.exe') })
        .parent('p', 'x')
        .anchor('p').spec,
    );
    expect(mayPass(t!, undefined)).toBe(true);
    expect(mayPass(t!, { props: { key: 'k' }, degrees: { in_PARENT_OF: 1 } })).toBe(false);
    expect(mayPass(t!, { props: { key: 'k', image: 'cmd.exe' }, degrees: {} })).toBe(true);
    expect(mayPass(t!, { props: { key: 'k', image: 'cmd.exe' }, degrees: { in_PARENT_OF: 0 } })).toBe(false);
  });
});

describe('prefetch', () => {
  it('reads the union of the anchor-filtered properties and required edges, by kind', () => {
    const a = match('Process', 'p', { image: imageIs('cmd.exe') });
    const b = match('Process', 'p', { command_line: contains('x'), key: startsWith('process:') });
    const c = match('Process', 'writer').setValue('writer', 'k', { path: contains('run') });
    const d = match('File', 'f');
    const plan = prefetchPlan([a.spec, b.spec, c.spec, d.spec]);
    expect([...plan]).toEqual([
      ['Process', { props: ['command_line', 'image'], edges: [{ edge: 'SET_VALUE', dir: 'out' }] }],
    ]);
    expect(prefetchCypher('Process', plan.get('Process')!)).toBe(
      [
        'UNWIND $keys AS anchor_key',
        'MATCH (n:Process) USING INDEX SEEK n:Process(key) WHERE n.key = anchor_key',
        'RETURN n {.key, .command_line, .image} AS n, {out_SET_VALUE: COUNT { (n)-[:SET_VALUE]->() }} AS d',
      ].join('\n'),
    );
    expect(prefetchCypher('File', { props: [], edges: [{ edge: 'CREATED', dir: 'in' }] })).toContain(
      'RETURN n {.key} AS n, {in_CREATED: COUNT { (n)<-[:CREATED]-() }} AS d',
    );
  });
});
