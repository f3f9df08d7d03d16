import { describe, expect, it } from 'vitest';
import {
  activeWithin,
  crossable,
  discoverJoins,
  groupStories,
  newLensKey,
  planStory,
  reopenReason,
  strongAccess,
  type JoinRelation,
  type LensState,
  type Neighbour,
  type NeighbourFetch,
  type Story,
} from './join';

const H = 3600_000;

/** An in-memory graph answering the search the way the repository does. */
function memGraph(
  edges: Array<[from: string, rel: JoinRelation, to: string, via?: string, access?: string[]]>,
  risky: string[],
  times: Record<string, [number, number]> = {},
): NeighbourFetch & { calls: number } {
  const riskySet = new Set(risky);
  const fetch = (async (frontier) => {
    fetch.calls++;
    const out: Neighbour[] = [];
    for (const f of frontier) {
      for (const [from, rel, to, via, access] of edges) {
        const [a, b] = f.dir === 'down' ? [from, to] : [to, from];
        if (a !== f.key) continue;
        // ACCESSED, PIPE and NETWORK candidates are only ever risky (as the Cypher filters them)
        if ((rel === 'ACCESSED' || rel === 'PIPE' || rel === 'NETWORK' || rel === 'SHARED_DEST') && !riskySet.has(b)) continue;
        const t = times[b];
        out.push({ from: a, dir: f.dir, rel, to: b, via: via ?? null, access: access ?? null, risky: riskySet.has(b), firstSeen: t?.[0] ?? null, lastSeen: t?.[1] ?? null });
      }
    }
    return out;
  }) as NeighbourFetch & { calls: number };
  fetch.calls = 0;
  return fetch;
}

const seed = (key: string, t = 0) => ({ key, first: t, last: t });

describe('join rules', () => {
  it('crosses benign processes only along causal relations', () => {
    expect(crossable('PARENT_OF', 'up')).toBe(true);
    expect(crossable('PARENT_OF', 'down')).toBe(true);
    expect(crossable('INJECTED_INTO', 'down')).toBe(true);
    expect(crossable('FILE', 'down')).toBe(true);
    expect(crossable('REMOTE_EXEC', 'up')).toBe(true);
    expect(crossable('REMOTE_EXEC', 'down')).toBe(false);
    expect(crossable('ACCESSED', 'down')).toBe(false);
    expect(crossable('PIPE', 'up')).toBe(false);
    expect(crossable('NETWORK', 'down')).toBe(false);
  });

  it('a node must have been active within the window of the seed', () => {
    const s = { key: 's', first: 10 * H, last: 11 * H };
    expect(activeWithin(9 * H, 12 * H, s, 2 * H)).toBe(true);
    expect(activeWithin(7 * H, 8.5 * H, s, 2 * H)).toBe(true);
    expect(activeWithin(5 * H, 7.9 * H, s, 2 * H)).toBe(false);
    expect(activeWithin(13.5 * H, 14 * H, s, 2 * H)).toBe(false);
    expect(activeWithin(null, null, s, 2 * H)).toBe(true);
    // long-lived process created long ago but still active: in
    expect(activeWithin(0, 10.5 * H, s, 2 * H)).toBe(true);
  });
});

describe('discoverJoins', () => {
  it('joins ancestors and descendants through benign intermediate processes, which become context', async () => {
    // payload(risky) -> cmd -> cmd2 -> whoami(risky)
    const g = memGraph(
      [
        ['P:payload', 'PARENT_OF', 'P:cmd'],
        ['P:cmd', 'PARENT_OF', 'P:cmd2'],
        ['P:cmd2', 'PARENT_OF', 'P:whoami'],
      ],
      ['P:payload', 'P:whoami'],
    );
    const down = await discoverJoins([seed('P:payload')], g);
    expect(down).toEqual([{ from: 'P:payload', to: 'P:whoami', rels: ['PARENT_OF', 'PARENT_OF', 'PARENT_OF'], through: ['P:cmd', 'P:cmd2'] }]);
    const up = await discoverJoins([seed('P:whoami')], g);
    expect(up).toEqual([{ from: 'P:whoami', to: 'P:payload', rels: ['PARENT_OF', 'PARENT_OF', 'PARENT_OF'], through: ['P:cmd2', 'P:cmd'] }]);
  });

  it('never joins siblings through a common benign parent', async () => {
    const g = memGraph(
      [
        ['P:explorer', 'PARENT_OF', 'P:a'],
        ['P:explorer', 'PARENT_OF', 'P:b'],
      ],
      ['P:a', 'P:b'],
    );
    expect(await discoverJoins([seed('P:a')], g)).toEqual([]);
  });

  it('stops at maxHops', async () => {
    const chain: Array<[string, JoinRelation, string]> = [];
    for (let i = 0; i < 6; i++) chain.push([`P:${i}`, 'PARENT_OF', `P:${i + 1}`]);
    const g = memGraph(chain, ['P:0', 'P:6']);
    expect(await discoverJoins([seed('P:0')], g, { maxHops: 5 })).toEqual([]);
    expect(await discoverJoins([seed('P:0')], g, { maxHops: 6 })).toHaveLength(1);
  });

  it('does not cross hubs, but still reaches their risky neighbours', async () => {
    const edges: Array<[string, JoinRelation, string]> = [['P:svc', 'PARENT_OF', 'P:risky-child']];
    for (let i = 0; i < 50; i++) edges.push(['P:svc', 'PARENT_OF', `P:benign${i}`]);
    edges.push(['P:benign3', 'PARENT_OF', 'P:deep-risky']);
    const g = memGraph(edges, ['P:risky-child', 'P:deep-risky', 'P:svc']);
    const found = await discoverJoins([seed('P:svc')], g, { fanout: 40 });
    expect(found.map((j) => j.to)).toEqual(['P:risky-child']);
    const small = await discoverJoins([seed('P:svc')], g, { fanout: 60 });
    expect(small.map((j) => j.to).sort()).toEqual(['P:deep-risky', 'P:risky-child']);
  });

  it('follows a dropped file into the process that ran it, and injection', async () => {
    const g = memGraph(
      [
        ['P:dropper', 'FILE', 'P:run', 'File:H:c:\\x.exe'],
        ['P:run', 'INJECTED_INTO', 'P:notepad'],
        ['P:notepad', 'PARENT_OF', 'P:mimikatz'],
      ],
      ['P:dropper', 'P:mimikatz'],
    );
    const [j] = await discoverJoins([seed('P:dropper')], g);
    expect(j).toEqual({ from: 'P:dropper', to: 'P:mimikatz', rels: ['FILE', 'INJECTED_INTO', 'PARENT_OF'], through: ['File:H:c:\\x.exe', 'P:run', 'P:notepad'] });
  });

  it('process access and pipes join risky ends only, never through benign ones', async () => {
    const g = memGraph(
      [
        ['P:dumper', 'ACCESSED', 'P:lsass'],
        ['P:lsass', 'PARENT_OF', 'P:child'],
        ['P:psexec', 'PIPE', 'P:psexesvc', 'Pipe:H:\\psexesvc'],
      ],
      ['P:dumper', 'P:child', 'P:psexec', 'P:psexesvc'],
    );
    expect(await discoverJoins([seed('P:dumper')], g)).toEqual([]);
    expect(await discoverJoins([seed('P:psexec')], g)).toEqual([{ from: 'P:psexec', to: 'P:psexesvc', rels: ['PIPE'], through: ['Pipe:H:\\psexesvc'] }]);
  });

  it('joins process access only for rights beyond query', async () => {
    expect(strongAccess(['0x1410'])).toBe(true); // VM_READ: MiniDumpWriteDump
    expect(strongAccess(['0x1fffff'])).toBe(true);
    expect(strongAccess(['0x40'])).toBe(true); // DUP_HANDLE
    expect(strongAccess(['0x1000', '0x00001400', '0x100000'])).toBe(false);
    expect(strongAccess(['junk', undefined as unknown as string].filter(Boolean))).toBe(false);
    expect(strongAccess(null)).toBe(false);
    const g = memGraph(
      [
        ['P:telemetry-svc', 'ACCESSED', 'P:a', undefined, ['0x1000']],
        ['P:injector', 'ACCESSED', 'P:b', undefined, ['0x1000', '0x1fffff']],
      ],
      ['P:telemetry-svc', 'P:a', 'P:injector', 'P:b'],
    );
    expect(await discoverJoins([seed('P:telemetry-svc')], g)).toEqual([]);
    expect((await discoverJoins([seed('P:injector')], g)).map((j) => j.to)).toEqual(['P:b']);
  });

  it('joins risky processes that reached the same rare address, never through benign ones', async () => {
    const g = memGraph(
      [
        ['P:notepad', 'SHARED_DEST', 'P:ps', 'IpAddress:10.0.10.106'],
        ['P:ps', 'PARENT_OF', 'P:child'],
        ['P:notepad', 'SHARED_DEST', 'P:benign', 'IpAddress:10.0.10.106'],
        ['P:benign', 'PARENT_OF', 'P:other'],
      ],
      ['P:notepad', 'P:ps', 'P:other'],
    );
    expect(crossable('SHARED_DEST', 'down')).toBe(false);
    const found = await discoverJoins([seed('P:notepad')], g);
    expect(found).toEqual([{ from: 'P:notepad', to: 'P:ps', rels: ['SHARED_DEST'], through: ['IpAddress:10.0.10.106'] }]);
  });

  it('walks remote execution upstream to the connecting process, then up its ancestry', async () => {
    const g = memGraph(
      [
        ['P:A-ps', 'PARENT_OF', 'P:A-svchost'],
        ['P:A-svchost', 'REMOTE_EXEC', 'P:B-cmd', 'NetworkEndpoint:10.0.0.6:135:tcp'],
      ],
      ['P:A-ps', 'P:B-cmd'],
    );
    const [j] = await discoverJoins([seed('P:B-cmd')], g);
    expect(j).toMatchObject({ from: 'P:B-cmd', to: 'P:A-ps', through: ['NetworkEndpoint:10.0.0.6:135:tcp', 'P:A-svchost'] });
    // downstream, remote execution reaches only a risky child and goes no further through benign ones
    const [d] = await discoverJoins([seed('P:A-ps')], g);
    expect(d).toMatchObject({ from: 'P:A-ps', to: 'P:B-cmd', rels: ['PARENT_OF', 'REMOTE_EXEC'] });
  });

  it('ignores nodes outside the time window', async () => {
    const g = memGraph(
      [
        ['P:a', 'PARENT_OF', 'P:mid'],
        ['P:mid', 'PARENT_OF', 'P:b'],
      ],
      ['P:a', 'P:b'],
      { 'P:mid': [0, 1 * H], 'P:b': [0, 1 * H] },
    );
    expect(await discoverJoins([seed('P:a', 10 * H)], g, { windowMs: 2 * H })).toEqual([]);
    expect(await discoverJoins([seed('P:a', 2 * H)], g, { windowMs: 2 * H })).toHaveLength(1);
  });

  it('searches the whole frontier with one fetch per hop', async () => {
    const g = memGraph(
      [
        ['P:a', 'PARENT_OF', 'P:x'],
        ['P:b', 'PARENT_OF', 'P:y'],
      ],
      [],
    );
    await discoverJoins([seed('P:a'), seed('P:b')], g, { maxHops: 3 });
    expect(g.calls).toBeLessThanOrEqual(3);
  });

  it('starts from non-process risky nodes through the processes that touched them', async () => {
    const g = memGraph([['P:writer', 'TOUCH', 'File:H:c:\\lsass.dmp']], ['P:writer', 'File:H:c:\\lsass.dmp']);
    // TOUCH rows answer upstream requests of the non-process node
    const found = await discoverJoins([seed('File:H:c:\\lsass.dmp')], g);
    expect(found.map((j) => j.to)).toEqual(['P:writer']);
  });
});

describe('groupStories', () => {
  it('joins hit nodes, risky context and join paths; benign context stays context', () => {
    const stories = groupStories({
      seeds: ['P:a', 'P:c', 'P:z'],
      hits: [
        { risky: ['P:a'], context: ['P:lsass', 'P:b'] },
        { risky: ['P:c'], context: [] },
        { risky: ['P:z'], context: [] },
      ],
      risky: new Set(['P:a', 'P:b', 'P:c', 'P:z']),
      joins: [{ from: 'P:c', to: 'P:b', rels: ['PARENT_OF', 'PARENT_OF'], through: ['P:mid'] }],
      memberships: new Map([['P:b', 'eng:1']]),
    });
    expect(stories).toEqual([
      { seeds: ['P:a', 'P:c'], risky: ['P:a', 'P:b', 'P:c'], context: ['P:lsass', 'P:mid'], lenses: ['eng:1'] },
      { seeds: ['P:z'], risky: ['P:z'], context: [], lenses: [] },
    ]);
  });

  it('a host in a hit\'s context stays context, even with risks of its own and a lens of its own', () => {
    const stories = groupStories({
      seeds: ['Process:taskmgr', 'Asset:WS5'],
      hits: [
        { risky: ['Process:taskmgr'], context: ['Process:lsass', 'Asset:WS5'] },
        { risky: ['Asset:WS5'], context: [] },
      ],
      risky: new Set(['Process:taskmgr', 'Asset:WS5']),
      joins: [],
      memberships: new Map([['Asset:WS5', 'eng:host-level']]),
    });
    expect(stories).toEqual([
      { seeds: ['Asset:WS5'], risky: ['Asset:WS5'], context: [], lenses: ['eng:host-level'] },
      { seeds: ['Process:taskmgr'], risky: ['Process:taskmgr'], context: ['Asset:WS5', 'Process:lsass'], lenses: [] },
    ]);
  });

  it('one story touching two lenses links them', () => {
    const [s] = groupStories({
      seeds: ['P:new'],
      hits: [{ risky: ['P:new'], context: [] }],
      risky: new Set(['P:new', 'P:x', 'P:y']),
      joins: [
        { from: 'P:new', to: 'P:x', rels: ['PARENT_OF'], through: [] },
        { from: 'P:new', to: 'P:y', rels: ['REMOTE_EXEC'], through: ['NetworkEndpoint:1.2.3.4:445:tcp'] },
      ],
      memberships: new Map([
        ['P:x', 'eng:old'],
        ['P:y', 'eng:young'],
      ]),
    });
    expect(s!.lenses).toEqual(['eng:old', 'eng:young']);
  });
});

describe('planStory', () => {
  const story = (over: Partial<Story>): Story => ({ seeds: ['P:a'], risky: ['P:a'], context: [], lenses: [], ...over });
  const lens = (key: string, createdAt: number, over: Partial<LensState> = {}): LensState => ({ key, createdAt, status: 'New', excluded: new Set(), ...over });

  it('leaves a lone weak hit in its asset lens only, opens a lens for a strong one or for two nodes', () => {
    const o = { newKey: 'eng:new', minScore: 40 };
    expect(planStory(story({}), new Map(), { ...o, score: 20 })).toBeNull();
    expect(planStory(story({}), new Map(), { ...o, score: 45 })).toMatchObject({ lens: 'eng:new', create: true });
    expect(planStory(story({ risky: ['P:a', 'P:b'] }), new Map(), { ...o, score: 10 })).toMatchObject({ create: true, risky: ['P:a', 'P:b'] });
  });

  it('merges into the oldest lens (ties by key), the others are absorbed', () => {
    const lenses = new Map([
      ['eng:b', lens('eng:b', 100)],
      ['eng:a', lens('eng:a', 100)],
      ['eng:c', lens('eng:c', 50)],
    ]);
    const p = planStory(story({ lenses: ['eng:a', 'eng:b', 'eng:c'] }), lenses, { newKey: 'x', minScore: 40, score: 0 });
    expect(p).toMatchObject({ lens: 'eng:c', create: false, absorb: ['eng:a', 'eng:b'] });
  });

  it('reopens a closed lens that gets new hits, and never re-adds nodes an analyst removed', () => {
    const lenses = new Map([['eng:a', lens('eng:a', 1, { status: 'Closed', excluded: new Set(['P:gone']) })]]);
    const p = planStory(story({ seeds: ['P:a'], risky: ['P:a', 'P:gone'], context: ['P:gone', 'P:ctx'], lenses: ['eng:a'] }), lenses, { newKey: 'x', minScore: 40, score: 0 });
    expect(p).toEqual({ lens: 'eng:a', create: false, absorb: [], risky: ['P:a'], context: ['P:ctx'], reopen: true });
    // new hits only on an excluded node do not reopen
    const q = planStory(story({ seeds: ['P:gone'], risky: ['P:gone'], lenses: ['eng:a'] }), lenses, { newKey: 'x', minScore: 40, score: 0 });
    expect(q!.reopen).toBe(false);
  });
});

describe('ids and wording', () => {
  it('names a new lens deterministically from its story and batch', () => {
    const s: Story = { seeds: ['P:a'], risky: ['P:a'], context: [], lenses: [] };
    expect(newLensKey(s, ['d2', 'd1'])).toBe(newLensKey(s, ['d1', 'd2']));
    expect(newLensKey(s, ['d1'])).not.toBe(newLensKey(s, ['d3']));
    expect(newLensKey(s, ['d1'])).toMatch(/^eng:[0-9a-f]{20}$/);
  });

  it('explains a reopen with the new detections', () => {
    expect(reopenReason(['A', 'B', 'A'])).toBe('New detections: A; B');
    expect(reopenReason(['A', 'B', 'C', 'D', 'E'])).toBe('New detections: A; B; C (+2 more)');
  });
});
