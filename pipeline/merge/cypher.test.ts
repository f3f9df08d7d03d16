import { describe, expect, it } from 'vitest';
import { EDGE_KINDS, NODE_KINDS } from '../../domain/model';
import {
  CLAIM_BATCHES,
  LOOKUP_ALIASES,
  RECORD_ALIASES,
  edgeMergeCypher,
  foldCypher,
  ident,
  nodeMergeCypher,
  ruleExpr,
  schemaCypher,
} from './cypher';
import { foldEngagementCypher } from '../engagement/repository';

describe('generated Cypher', () => {
  it('node MERGE per label (snapshot)', () => {
    expect(nodeMergeCypher('Process')).toMatchSnapshot();
    expect(nodeMergeCypher('File')).toMatchSnapshot();
  });
  it('relationship MERGE per type (snapshot)', () => {
    expect(edgeMergeCypher('ACCESSED')).toMatchSnapshot();
    expect(edgeMergeCypher('CONNECTED_TO')).toMatchSnapshot();
  });
  it('alias folding (snapshot)', () => {
    expect(foldCypher('Process')).toMatchSnapshot();
    // what the engage stage and analysts attached to the folded node moves with it
    expect(foldEngagementCypher('Process')).toMatchSnapshot();
  });
  it('book-keeping and schema (snapshot)', () => {
    expect({ CLAIM_BATCHES, LOOKUP_ALIASES, RECORD_ALIASES, schema: schemaCypher() }).toMatchSnapshot();
  });
  it('one rule expression per merge rule', () => {
    expect(ruleExpr('n', 'row.props', 'image', { type: 'string', merge: 'immutable' })).toBe(
      "CASE WHEN row.props.`image` IS NULL OR row.props.`image` = '' THEN n.`image` WHEN n.`image` IS NULL OR n.`image` = '' OR row.props.`image` < n.`image` THEN row.props.`image` ELSE n.`image` END",
    );
    expect(ruleExpr('r', 'p', 'count', { type: 'number', merge: 'counter' })).toBe(
      'CASE WHEN p.`count` IS NULL THEN r.`count` ELSE coalesce(r.`count`, 0) + p.`count` END',
    );
    expect(ruleExpr('n', 'p', 'last_seen', { type: 'number', merge: 'increment' })).toContain(
      'p.`last_seen` > n.`last_seen`',
    );
    expect(ruleExpr('n', 'p', 'first_seen', { type: 'number', merge: 'decrement' })).toContain(
      'p.`first_seen` < n.`first_seen`',
    );
    expect(ruleExpr('n', 'p', 'values', { type: 'strings', merge: 'union' })).toBe(
      'CASE WHEN p.`values` IS NULL THEN n.`values` WHEN n.`values` IS NULL THEN p.`values` ELSE n.`values` + [x IN p.`values` WHERE NOT x IN n.`values`] END',
    );
  });
  it('has constant shape and no values in the text, for every kind of the model', () => {
    for (const k of NODE_KINDS) {
      const c = nodeMergeCypher(k);
      expect(c).toContain(`MERGE (n:\`${k}\` {key: row.key})`);
      expect(c.replaceAll("''", '')).not.toContain("'"); // no string literal but the empty one
      expect(foldCypher(k).rels.length).toBeGreaterThan(0);
    }
    for (const k of EDGE_KINDS) expect(edgeMergeCypher(k)).toContain(`MERGE (a)-[r:\`${k}\`]->(b)`);
  });
  it('refuses names that are not plain identifiers', () => {
    expect(() => ident('Process`) DETACH DELETE (x')).toThrow();
    expect(() => ident('')).toThrow();
    expect(ident('Process')).toBe('`Process`');
  });
});
