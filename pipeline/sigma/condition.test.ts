import { describe, expect, it } from 'vitest';
import { parseCondition, type CondNode } from './condition';

const ids = ['selection', 'selection_a', 'selection_b', 'filter_main_x', 'filter_optional_y', '_internal'];

function show(n: CondNode): string {
  switch (n.type) {
    case 'ref':
      return n.name;
    case 'not':
      return `not(${show(n.item)})`;
    case 'atLeast':
      return `${n.n}of(${n.items.map(show).join(',')})`;
    default:
      return `${n.type}(${n.items.map(show).join(',')})`;
  }
}

describe('parseCondition', () => {
  it('binds not tighter than and, and tighter than or', () => {
    expect(show(parseCondition('selection or selection_a and not selection_b', ids))).toBe(
      'or(selection,and(selection_a,not(selection_b)))',
    );
    expect(show(parseCondition('(selection or selection_a) and not selection_b', ids))).toBe(
      'and(or(selection,selection_a),not(selection_b))',
    );
    expect(show(parseCondition('not not selection', ids))).toBe('not(not(selection))');
  });

  it('expands quantifiers over patterns', () => {
    expect(show(parseCondition('1 of selection_*', ids))).toBe('or(selection_a,selection_b)');
    expect(show(parseCondition('all of selection_*', ids))).toBe('and(selection_a,selection_b)');
    expect(show(parseCondition('any of filter_*', ids))).toBe('or(filter_main_x,filter_optional_y)');
    expect(show(parseCondition('all of selection* and not 1 of filter_*', ids))).toBe(
      'and(and(selection,selection_a,selection_b),not(or(filter_main_x,filter_optional_y)))',
    );
    expect(show(parseCondition('2 of selection*', ids))).toBe('2of(selection,selection_a,selection_b)');
  });

  it('excludes _-prefixed identifiers from them', () => {
    expect(show(parseCondition('1 of them', ids))).toBe(
      'or(selection,selection_a,selection_b,filter_main_x,filter_optional_y)',
    );
    expect(show(parseCondition('all of them', ['only']))).toBe('only');
    expect(show(parseCondition('_internal and selection', ids))).toBe('and(_internal,selection)');
  });

  it('accepts keywords in any case', () => {
    expect(show(parseCondition('Selection_a AND NOT selection_b', ['Selection_a', 'selection_b']))).toBe(
      'and(Selection_a,not(selection_b))',
    );
  });

  it('rejects unknown names, empty patterns, bad syntax and legacy aggregations', () => {
    expect(() => parseCondition('nope', ids)).toThrow(/unknown selection/);
    expect(() => parseCondition('1 of zzz*', ids)).toThrow(/matches no selection/);
    expect(() => parseCondition('(selection', ids)).toThrow(/parenthesis/);
    expect(() => parseCondition('selection and', ids)).toThrow();
    expect(() => parseCondition('selection selection_a', ids)).toThrow(/trailing/);
    expect(() => parseCondition('selection | count() > 5', ids)).toThrow(/aggregation/);
    expect(() => parseCondition('selection_*', ids)).toThrow(/1 of/);
  });
});
