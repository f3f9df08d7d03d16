import { describe, expect, it } from 'vitest';
import { coalesce, resolveAliasMap } from './coalesce';

describe('resolveAliasMap', () => {
  it('follows chains, drops loops and kind changes', () => {
    const m = resolveAliasMap([
      { from: 'Process:A:1:~1', to: 'Process:A:1:5' },
      { from: 'Process:A:1:5', to: 'Process:G' },
      { from: 'Process:X', to: 'Process:Y' },
      { from: 'Process:Y', to: 'Process:X' },
      { from: 'Process:Z', to: 'File:Z' },
      { from: 'Process:S', to: 'Process:S' },
    ]);
    expect([...m]).toEqual([
      ['Process:A:1:~1', 'Process:G'],
      ['Process:A:1:5', 'Process:G'],
    ]);
  });
});

describe('coalesce', () => {
  it('rewrites, merges by the rules, adds endpoint rows, drops misfits, sorts', () => {
    const c = coalesce(
      [
        {
          nodes: [
            { kind: 'Process', key: 'Process:B', props: { pid: 2, first_seen: 5, last_seen: 5 } },
            { kind: 'Process', key: 'Process:old', props: { image: 'x', first_seen: 1, last_seen: 1 } },
            { kind: 'File', key: 'Process:C', props: {} },
          ],
          edges: [
            {
              kind: 'CREATED',
              from: 'Process:old',
              to: 'File:H:c:\\f',
              props: { count: 1, first_seen: 3, last_seen: 4 },
            },
          ],
        },
        {
          nodes: [{ kind: 'Process', key: 'Process:A', props: { image: 'y', first_seen: 2, last_seen: 9 } }],
          edges: [
            {
              kind: 'CREATED',
              from: 'Process:A',
              to: 'File:H:c:\\f',
              props: { count: 2, first_seen: 2, last_seen: 2 },
            },
            { kind: 'CREATED', from: 'File:H:c:\\f', to: 'Process:A', props: { count: 1 } },
          ],
        },
      ],
      new Map([['Process:old', 'Process:A']]),
    );
    expect(c.nodesIn).toBe(4);
    expect(c.edgesIn).toBe(3);
    expect(c.dropped).toBe(2);
    expect(c.nodes.get('Process')).toEqual([
      { kind: 'Process', key: 'Process:A', props: { image: 'x', first_seen: 1, last_seen: 9 } },
      { kind: 'Process', key: 'Process:B', props: { pid: 2, first_seen: 5, last_seen: 5 } },
    ]);
    expect(c.nodes.get('File')).toEqual([
      { kind: 'File', key: 'File:H:c:\\f', props: { first_seen: 2, last_seen: 4 } },
    ]);
    expect(c.edges.get('CREATED')).toEqual([
      {
        kind: 'CREATED',
        from: 'Process:A',
        to: 'File:H:c:\\f',
        props: { count: 3, first_seen: 2, last_seen: 4 },
      },
    ]);
  });
});
