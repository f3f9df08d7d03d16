import { describe, expect, it } from 'vitest';
import { apiFilter, isFiltered, listStateToParams, parseListState } from './lens-filters';

describe('lens list state in the URL', () => {
  it('parses every filter and the sort', () => {
    const s = parseListState(
      new URLSearchParams('status=New,Closed&host=WS5&technique=t1003.001&minScore=40&assignee=alice&q=lsass&sort=lastActivity'),
    );
    expect(s).toEqual({
      filter: {
        status: ['New', 'Closed'],
        host: 'WS5',
        technique: 'T1003.001',
        minScore: 40,
        assignee: 'alice',
        text: 'lsass',
      },
      sort: 'lastActivity',
      type: 'engagement',
    });
  });

  it('lists engagements unless asked for asset lenses or all', () => {
    const def = parseListState(new URLSearchParams(''));
    expect(def.type).toBe('engagement');
    expect(apiFilter(def)).toEqual({ type: 'engagement' });
    const all = parseListState(new URLSearchParams('type=all&host=WS1'));
    expect(apiFilter(all)).toEqual({ host: 'WS1' });
    expect(listStateToParams(all).toString()).toBe('host=WS1&type=all');
    expect(apiFilter(parseListState(new URLSearchParams('type=asset'))).type).toBe('asset');
  });

  it('ignores what is not valid', () => {
    const s = parseListState(new URLSearchParams('status=Bogus&technique=nope&minScore=abc&sort=x'));
    expect(s).toEqual({ filter: {}, sort: 'score', type: 'engagement' });
    expect(isFiltered(s.filter)).toBe(false);
  });

  it('round-trips, "-" meaning unassigned', () => {
    const state = parseListState(new URLSearchParams('assignee=-&status=Investigating&minScore=150'));
    expect(state.filter).toEqual({ assignee: '', status: ['Investigating'], minScore: 150 });
    expect(parseListState(new URLSearchParams('minScore=5000')).filter).toEqual({ minScore: 1000 });
    expect(isFiltered(state.filter)).toBe(true);
    const again = parseListState(listStateToParams(state));
    expect(again).toEqual(state);
    expect(listStateToParams({ filter: {}, sort: 'score', type: 'engagement' }).toString()).toBe('');
  });
});
