import { describe, expect, it } from 'vitest';
import type { PropSpec } from '../../domain/model';
import { GraphAccumulator, mergeValue, sanitizeProps } from './rules';

const imm: PropSpec = { type: 'string', merge: 'immutable' };
const immN: PropSpec = { type: 'number', merge: 'immutable' };
const inc: PropSpec = { type: 'number', merge: 'increment' };
const dec: PropSpec = { type: 'number', merge: 'decrement' };
const cnt: PropSpec = { type: 'number', merge: 'counter' };
const uni: PropSpec = { type: 'strings', merge: 'union' };

describe('merge rules', () => {
  it('immutable: set once, disagreeing sources converge to the smallest in any order', () => {
    expect(mergeValue(imm, 'a', 'b')).toBe('a');
    expect(mergeValue(imm, 'b', 'a')).toBe('a');
    expect(mergeValue(imm, undefined, 'b')).toBe('b');
    expect(mergeValue(imm, '', 'b')).toBe('b');
    expect(mergeValue(imm, 'a', '')).toBe('a');
    const x = 'C:\\Windows\\System32\\svchost.exe';
    const y = 'C:\\windows\\System32\\svchost.exe';
    expect(mergeValue(imm, x, y)).toBe(x);
    expect(mergeValue(imm, y, x)).toBe(x);
    expect(mergeValue(immN, 4, 5)).toBe(4);
    expect(mergeValue(immN, 5, 4)).toBe(4);
  });
  it('increment / decrement / counter / union', () => {
    expect(mergeValue(inc, 3, 5)).toBe(5);
    expect(mergeValue(inc, 5, 3)).toBe(5);
    expect(mergeValue(dec, 3, 5)).toBe(3);
    expect(mergeValue(dec, 5, 3)).toBe(3);
    expect(mergeValue(cnt, 3, 5)).toBe(8);
    expect(mergeValue(uni, ['a', 'b'], ['b', 'c', 'c'])).toEqual(['a', 'b', 'c']);
    expect(mergeValue(uni, undefined, ['a'])).toEqual(['a']);
  });
  it('are commutative and associative where the model needs it', () => {
    const specs = [imm, inc, dec, cnt, uni];
    const values: Record<string, unknown[]> = {
      immutable: ['B', 'b', 'a', undefined],
      increment: [1, 7, 3, undefined],
      decrement: [1, 7, 3, undefined],
      counter: [1, 7, 3, undefined],
      union: [['a'], ['b', 'a'], ['c'], undefined],
    };
    for (const spec of specs) {
      const vs = values[spec.merge] as Array<string | number | string[] | undefined>;
      const fold = (order: number[]) =>
        order.reduce<string | number | string[] | undefined>(
          (acc, i) => mergeValue(spec, acc, vs[i]),
          undefined,
        );
      const base = fold([0, 1, 2, 3]);
      for (const order of [
        [3, 2, 1, 0],
        [1, 3, 0, 2],
        [2, 0, 3, 1],
      ]) {
        const got = fold(order);
        if (spec.merge === 'union')
          expect([...(got as string[])].sort()).toEqual([...(base as string[])].sort());
        else expect(got).toEqual(base);
      }
    }
  });
  it('sanitize keeps only model properties of the right type', () => {
    const specs = { a: imm, n: inc, u: uni };
    expect(sanitizeProps(specs, { a: 'x', n: 'not a number', u: ['x', 'x', '', 3], extra: 'y' })).toEqual({
      a: 'x',
      u: ['x'],
    });
  });
  it('accumulator merges duplicates', () => {
    const acc = new GraphAccumulator();
    acc.addNode({
      kind: 'File',
      key: 'File:A:c:\\x',
      props: { path: 'C:\\x', first_seen: 5, last_seen: 5, hashes: ['h1'] },
    });
    acc.addNode({
      kind: 'File',
      key: 'File:A:c:\\x',
      props: { path: 'c:\\x', first_seen: 2, last_seen: 9, hashes: ['h2'] },
    });
    acc.addEdge({
      kind: 'CREATED',
      from: 'Process:P',
      to: 'File:A:c:\\x',
      props: { count: 1, first_seen: 5, last_seen: 5 },
    });
    acc.addEdge({
      kind: 'CREATED',
      from: 'Process:P',
      to: 'File:A:c:\\x',
      props: { count: 1, first_seen: 3, last_seen: 4 },
    });
    const g = acc.toSubgraph();
    expect(g.nodes).toEqual([
      {
        kind: 'File',
        key: 'File:A:c:\\x',
        props: { path: 'C:\\x', first_seen: 2, last_seen: 9, hashes: ['h1', 'h2'] },
      },
    ]);
    expect(g.edges[0]!.props).toEqual({ count: 2, first_seen: 3, last_seen: 5 });
  });
});
