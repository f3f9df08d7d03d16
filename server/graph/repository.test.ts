import { describe, expect, it } from 'vitest';
import { EDGE_KINDS, NODE_KINDS } from '../../domain/model';
import { searchIndexCypher, searchableFields } from '../../pipeline/merge/cypher';
import { edgeKindsOf, groupCountsCypher, neighbourCypher, pathCypher, SEARCH_CYPHER } from './repository';

describe('graph repository Cypher', () => {
  it('neighbour pages, totals, counts, paths and search (snapshot)', () => {
    expect({
      neighboursBoth: neighbourCypher('Process', 'both', null),
      neighboursOut: neighbourCypher('Process', 'out', 'PARENT_OF'),
      neighboursIn: neighbourCypher('Asset', 'in', 'RUNS_ON'),
      groups: groupCountsCypher('File').cypher,
      path: pathCypher('Process', 'File', 6),
      search: SEARCH_CYPHER,
      searchIndex: searchIndexCypher(),
    }).toMatchSnapshot();
  });

  it('offers every edge kind of the model in the direction the model allows', () => {
    const all = NODE_KINDS.flatMap((k) => [...edgeKindsOf(k).out, ...edgeKindsOf(k).in]);
    expect(new Set(all)).toEqual(new Set(EDGE_KINDS));
    expect(all).toHaveLength(EDGE_KINDS.length * 2);
    expect(groupCountsCypher('Process').groups).toContainEqual({ edgeKind: 'PARENT_OF', direction: 'in' });
  });

  it('refuses hop counts outside 1..8 (they become query text)', () => {
    expect(() => pathCypher('Process', 'File', 9)).toThrow();
    expect(() => pathCypher('Process', 'File', 0)).toThrow();
    expect(() => pathCypher('Process', 'File', 2.5)).toThrow();
  });

  it('indexes exactly the searchable properties of the model', () => {
    expect(searchableFields()).toEqual({
      labels: ['Asset', 'Process', 'File', 'IpAddress', 'DomainName', 'RegistryKey', 'Pipe', 'User'],
      props: ['command_line', 'hostname', 'image', 'ip', 'name', 'path'],
    });
  });
});
