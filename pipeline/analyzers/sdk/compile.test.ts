import { describe, expect, it } from 'vitest';
import { compileQuery, cypherRegex } from './compile';
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
  lt,
  missing,
  not,
  regex,
  startsWith,
} from './filters';
import { match, type Query } from './query';

const compile = (q: { spec: Query['spec'] }) => compileQuery(q);

describe('DSL -> Cypher', () => {
  it('anchors a parent/child pattern on both processes (union of branches)', () => {
    const q = match('Process', 'child', { image: imageIs('cmd.exe') }).parent('child', 'parent', {
      image: imageIs('services.exe', 'wmiprvse.exe'),
    });
    const c = compile(q);
    expect(c.cypher).toMatchSnapshot();
    expect(c.params).toMatchSnapshot();
    expect(c.anchors).toEqual([
      { var: 'child', kind: 'Process', param: 'keys_Process' },
      { var: 'parent', kind: 'Process', param: 'keys_Process' },
    ]);
    expect(c.columns).toEqual([
      { name: 'child', type: 'node' },
      { name: 'parent', type: 'node' },
    ]);
  });

  it('compiles edge variables, list properties, comparisons, negation and subqueries', () => {
    const q = match('Process', 'src')
      .accessed(
        'src',
        'lsass',
        { image: imageIs('lsass.exe') },
        { edgeAs: 'access', edgeWhere: { granted_access: ['0x1010', '0x1410'] } },
      )
      .created('src', 'dump', { path: anyOf(endsWith('.dmp'), contains('lsass')) }, { edgeAs: 'write' })
      .compare(['write', 'first_seen'], '>=', ['access', 'first_seen'], -60_000)
      .distinct('src', 'lsass')
      .notExists((s) => s.parent('src', 'p', { image: imageIs('services.exe') }))
      .exists((s) =>
        s.connection('src', 'ep', { port: gt(1024) }, { edgeWhere: { direction: not('inbound') } }),
      )
      .collect('kids', (s) => s.child('src', 'k', { command_line: exists() }), 'k', 5);
    const c = compile(q);
    expect(c.cypher).toMatchSnapshot();
    expect(c.params).toMatchSnapshot();
    expect(c.intParams).toEqual(['p10']);
    expect(c.columns.map((x) => `${x.name}:${x.type}`)).toEqual([
      'src:node',
      'lsass:node',
      'access:edge',
      'dump:node',
      'write:edge',
      'kids:list',
    ]);
  });

  it('anchors on the root when there is no process, or where told', () => {
    const reg = match('RegistryKey', 'key', { path: regex('\\\\run$') });
    expect(compile(reg).cypher).toMatchSnapshot();
    const q = match('Process', 'child').parent('child', 'parent').anchor('child');
    expect(compile(q).anchors.map((a) => a.var)).toEqual(['child']);
    expect(compile(q).cypher).not.toContain('UNION');
  });

  it('compares nodes, not their keys, and reads compared node numbers through toFloat (no index lookup)', () => {
    const q = match('Process', 'src')
      .accessed('src', 'target', {}, { edgeAs: 'access' })
      .notExists((s) => s.child('src', 'own').compare(['own', 'key'], '=', ['target', 'key']))
      .collect(
        'kids',
        (s) =>
          s.child('target', 'kid').compare(['kid', 'create_time'], '>=', ['access', 'first_seen'], -1_000),
        'kid',
        3,
      )
      .compare(['src', 'key'], '<>', ['target', 'key'])
      .compare(['src', 'create_time'], '<', ['target', 'create_time']);
    const c = compile(q);
    expect(c.cypher).toContain('WHERE own = target');
    expect(c.cypher).toContain('WHERE src <> target');
    expect(c.cypher).not.toMatch(/\.key (=|<>) (?!anchor_key)/);
    expect(c.cypher).toContain('toFloat(kid.create_time) >= access.first_seen + $');
    expect(c.cypher).toContain('toFloat(src.create_time) < toFloat(target.create_time)');
    // Every branch seeks its anchor key by key, before the pattern is planned.
    expect(
      c.cypher.match(
        /UNWIND \$keys_Process AS anchor_key\nMATCH \((src|target):Process\) USING INDEX SEEK \1:Process\(key\) WHERE \1\.key = anchor_key\nWITH \1\n/g,
      ),
    ).toHaveLength(2);
  });

  it('compiles whereAny to one OR of conjunctions across nodes and edges', () => {
    const q = match('Process', 'src')
      .accessed('src', 't', {}, { edgeAs: 'access' })
      .whereAny(
        { src: { image: not(endsWith('\\system32\\csrss.exe')) } },
        { access: { call_trace: contains('unknown('), count: gt(2) }, t: { image: exists() } },
      );
    const c = compile(q);
    expect(c.cypher).toContain(
      'WHERE ((NOT coalesce(toLower(src.image) ENDS WITH $p0, false)) OR ' +
        '(toLower(access.call_trace) CONTAINS $p1 AND access.count > $p2 AND t.image IS NOT NULL))',
    );
    expect(c.params).toMatchObject({ p0: '\\system32\\csrss.exe', p1: 'unknown(', p2: 2 });
  });

  it('compiles variable-length and reverse hops', () => {
    const q = match('Process', 'proc', { image: imageIs('whoami.exe') })
      .ancestor('proc', 'anc', 4, { image: imageIs('wmiprvse.exe') })
      .executed('proc', 'file')
      .createdBy('file', 'writer', { pid: not(eq(4)) })
      .asset('proc', 'host', { hostname: startsWith('ws') });
    expect(compile(q).cypher).toMatchSnapshot();
  });

  it('never puts a value into the query text', () => {
    const evil = "x' }) DETACH DELETE n //";
    const q = match('Process', 'p', {
      image: eq(evil),
      command_line: allOf(
        contains(evil),
        not(startsWith(evil)),
        regex(evil.replace(/[()[\]{}.*+?^$|\\/]/g, '\\$&')),
      ),
      user: caseSensitive(endsWith(evil)),
      pid: anyOf(gt(1), lt(99999)),
      hashes: missing(),
    });
    const c = compile(q);
    expect(c.cypher).not.toContain('DETACH');
    expect(c.cypher).not.toContain(evil);
    expect(JSON.stringify(c.params)).toContain('DETACH DELETE');
  });

  it('lower-cases values for case-insensitive matching, keeps them for case-sensitive', () => {
    const c = compile(
      match('Process', 'p', {
        image: endsWith('\\CMD.EXE'),
        user: caseSensitive(eq('NT AUTHORITY\\SYSTEM')),
      }),
    );
    expect(Object.values(c.params)).toEqual(['\\cmd.exe', 'NT AUTHORITY\\SYSTEM']);
    expect(c.cypher).toContain('toLower(p.image) ENDS WITH $p0');
    expect(c.cypher).toContain('p.user = $p1');
  });

  it('turns regex filters into find-anywhere Java patterns', () => {
    expect(cypherRegex('a+b', false)).toBe('(?si).*(?:a+b).*');
    expect(cypherRegex('^x$', true)).toBe('(?s).*(?:^x$).*');
  });
});

describe('query validation', () => {
  it('refuses names, properties and edges the model does not have', () => {
    // Untyped callers (modules written in JavaScript) reach the same checks at run time.
    const loose = match as unknown as (k: string, n: string, w?: object) => Query;
    expect(() => loose('Proces', 'p')).toThrow(/unknown node kind/);
    expect(() => loose('Process', 'p', { imgae: 'x' })).toThrow(/no property "imgae"/);
    expect(() => loose('Process', 'match')).toThrow(/reserved/);
    expect(() => loose('Process', 'p q')).toThrow(/must match/);
    const q = match('Process', 'p') as unknown as { out: (...a: unknown[]) => unknown };
    expect(() => q.out('p', 'LIKES', 'x')).toThrow(/unknown edge kind/);
    expect(() => q.out('p', 'ENDPOINT_OF', 'x')).toThrow(/leaves NetworkEndpoint nodes/);
    expect(() => match('Process', 'p').child('p', 'p')).toThrow(/already bound/);
  });

  it('refuses filters that do not suit the property type', () => {
    expect(() => match('Process', 'p', { pid: contains('1') })).toThrow(/needs a string property/);
    expect(() => match('Process', 'p', { image: gt(3) })).toThrow(/needs a number property/);
    expect(() => match('Process', 'p', { pid: eq('4') })).toThrow(/does not suit a number property/);
    expect(() => regex('(')).toThrow(/invalid pattern/);
    expect(() => regex('(?i)x')).toThrow(/inline flags/);
    expect(() => contains()).toThrow(/at least one/);
  });

  it('checks whereAny: at least two alternatives, each with a filter on a bound variable', () => {
    const q = match('Process', 'src').accessed('src', 't', {}, { edgeAs: 'access' });
    const loose = q as unknown as { whereAny: (...a: unknown[]) => Query };
    expect(() => loose.whereAny({ src: { image: 'x' } })).toThrow(/at least two/);
    expect(() => loose.whereAny({ src: { image: 'x' } }, {})).toThrow(/has no filter/);
    expect(() => loose.whereAny({ src: { image: 'x' } }, { nobody: { image: 'x' } })).toThrow(/nobody/);
    expect(() => loose.whereAny({ src: { imgae: 'x' } }, { access: { count: gt(1) } })).toThrow(
      /no property "imgae"/,
    );
    expect(() => loose.whereAny({ src: { pid: contains('1') } }, { access: { count: gt(1) } })).toThrow(
      /needs a string property/,
    );
  });

  it('checks comparisons, sub-patterns and anchors', () => {
    const q = match('Process', 'p').executed('p', 'f');
    expect(() => q.compare(['p', 'image'], '<', ['f', 'first_seen'])).toThrow(/needs a number property/);
    expect(() => q.exists((s) => s)).toThrow(/at least one hop/);
    expect(() => q.collect('c', (s) => s.child('p', 'k'), 'zz' as 'k')).toThrow(
      /not a node the sub-pattern binds/,
    );
    expect(() => q.ancestor('p', 'a', 11)).toThrow(/depth/);
    expect(() => (q as unknown as { anchor: (n: string) => unknown }).anchor('nope')).toThrow(
      /cannot anchor/,
    );
  });

  it('types property names and variables from the model', () => {
    // These lines must not compile; the runtime checks above catch the same mistakes.
    // @ts-expect-error not a Process property
    expect(() => match('Process', 'p', { path: 'x' })).toThrow();
    // @ts-expect-error a File has no parent
    expect(() => match('File', 'f').parent('f', 'p')).toThrow();
    // @ts-expect-error unknown variable
    expect(() => match('Process', 'p').child('q', 'c')).toThrow();
  });
});
