import { describe, expect, it } from 'vitest';
import { Channels, type NormalizedEvent } from '../../domain/event';
import { buildEvent, subjectFacts } from '../graph/build';
import { processProvisionalKey, processSessionKey } from '../graph/keys';
import {
  CMD_GUID,
  PSEXEC_GUID,
  T0,
  guidAt,
  psexec4688,
  psexecCreate,
  security,
  sysmon,
} from '../graph/test-events';
import { MemoryGraph } from '../merge/memory-graph';
import { resolveIdentities, type Resolution } from './resolve';
import { MemorySessionStore } from './store';
import { seededShuffle } from '../../test/seeded-shuffle';

const S = 1000;
const proc4688 = (pid: number, time: number, image: string, parentPid = 4) =>
  security(
    4688,
    {
      ProcessId: String(pid),
      ParentProcessId: String(parentPid),
      Image: image,
      NewProcessName: image,
      CommandLine: image,
    },
    { time },
  );
const exit4689 = (pid: number, time: number) =>
  security(4689, { ProcessId: `0x${pid.toString(16)}` }, { time });
const dnsByPid = (pid: number, time: number, name: string) =>
  sysmon(
    22,
    {
      ProcessGuid: '{00000000-0000-0000-0000-000000000000}',
      ProcessId: String(pid),
      Image: '<unknown process>',
      QueryName: name,
      QueryResults: '10.0.0.1;',
    },
    { time },
  );
const cmdLoad = (time: number) =>
  sysmon(
    7,
    {
      ProcessGuid: CMD_GUID,
      ProcessId: '2128',
      Image: 'C:\\Windows\\System32\\cmd.exe',
      ImageLoaded: 'C:\\Windows\\System32\\sechost.dll',
    },
    { time },
  );

async function resolve(store: MemorySessionStore, events: NormalizedEvent[], now = 1): Promise<Resolution> {
  return resolveIdentities(
    events.map((e) => buildEvent(e, 'test')),
    store,
    { now },
  );
}

/** Events through identity in calls of the given sizes, merged into an in-memory graph. */
async function pipeline(events: NormalizedEvent[], sizes: number[] = [events.length]): Promise<MemoryGraph> {
  const store = new MemorySessionStore();
  const graph = new MemoryGraph();
  let i = 0;
  let batch = 0;
  for (let s = 0; i < events.length; s++) {
    const n = Math.max(1, sizes[s % sizes.length]!);
    const r = await resolve(store, events.slice(i, i + n), batch + 1);
    graph.apply([{ id: `b${batch++}`, subgraph: r.subgraph, aliases: r.aliases }]);
    i += n;
  }
  return graph;
}

const processKeys = (g: MemoryGraph) => [...g.nodes.keys()].filter((k) => k.startsWith('Process:')).sort();

describe('resolveIdentities', () => {
  it('keys Sysmon processes by GUID and resolves edge endpoints', async () => {
    const r = await resolve(new MemorySessionStore(), [psexecCreate()]);
    expect(r.eventNodes[0]).toEqual({
      process: `Process:${PSEXEC_GUID}`,
      target: 'File:WORKSTATION5:c:\\users\\wardog\\downloads\\pstools\\psexec.exe',
    });
    const parentOf = r.subgraph.edges.find((e) => e.kind === 'PARENT_OF')!;
    expect(parentOf.from).toBe(`Process:${CMD_GUID}`);
    expect(parentOf.to).toBe(`Process:${PSEXEC_GUID}`);
    for (const e of r.subgraph.edges) expect(e.from.startsWith('@') || e.to.startsWith('@')).toBe(false);
    expect(r.aliases).toEqual([]);
  });

  it('coalesces duplicates within a call', async () => {
    const r = await resolve(new MemorySessionStore(), [cmdLoad(T0), cmdLoad(T0 + S), cmdLoad(T0 + 2 * S)]);
    const loaded = r.subgraph.edges.filter((e) => e.kind === 'LOADED');
    expect(loaded).toHaveLength(1);
    expect(loaded[0]!.props).toMatchObject({ count: 3, first_seen: T0, last_seen: T0 + 2 * S });
    expect(r.subgraph.nodes.filter((n) => n.kind === 'Process')).toHaveLength(1);
  });

  it('pid reuse: a pid after termination or a new creation is a new process', async () => {
    const events = [
      proc4688(100, T0, 'C:\\a.exe'),
      dnsByPid(100, T0 + 5 * S, 'one.example'),
      exit4689(100, T0 + 10 * S),
      dnsByPid(100, T0 + 30 * S, 'gap.example'),
      proc4688(100, T0 + 60 * S, 'C:\\b.exe'),
      dnsByPid(100, T0 + 70 * S, 'two.example'),
    ];
    const r = await resolve(new MemorySessionStore(), events);
    const first = processSessionKey('WORKSTATION5', 100, T0);
    const second = processSessionKey('WORKSTATION5', 100, T0 + 60 * S);
    expect(r.eventNodes.map((x) => x.process)).toEqual([
      first,
      first,
      first,
      processProvisionalKey('WORKSTATION5', 100, T0 + 30 * S),
      second,
      second,
    ]);
    const p1 = r.subgraph.nodes.find((n) => n.key === first)!;
    expect(p1.props).toMatchObject({
      image: 'C:\\a.exe',
      create_time: T0,
      terminate_time: T0 + 10 * S,
      provisional: 0,
    });
    // without the termination, the pid still changes hands at the second creation
    const r2 = await resolve(new MemorySessionStore(), [
      proc4688(100, T0, 'C:\\a.exe'),
      proc4688(100, T0 + 60 * S, 'C:\\b.exe'),
      dnsByPid(100, T0 + 30 * S, 'x'),
      dnsByPid(100, T0 + 61 * S, 'y'),
    ]);
    expect(r2.eventNodes.map((x) => x.process)).toEqual([first, second, first, second]);
  });

  it('late creation: an event before its creation gets a provisional node, aliased when the creation arrives', async () => {
    const store = new MemorySessionStore();
    const r1 = await resolve(store, [dnsByPid(200, T0 + 5 * S, 'early.example')]);
    const provisional = processProvisionalKey('WORKSTATION5', 200, T0 + 5 * S);
    expect(r1.eventNodes[0]!.process).toBe(provisional);
    expect(r1.subgraph.nodes.find((n) => n.key === provisional)!.props.provisional).toBe(1);
    const r2 = await resolve(store, [proc4688(200, T0 + 2 * S, 'C:\\late.exe')]);
    const real = processSessionKey('WORKSTATION5', 200, T0 + 2 * S);
    expect(r2.eventNodes[0]!.process).toBe(real);
    expect(r2.aliases).toEqual([{ from: provisional, to: real }]);
    // and the graph ends with one process holding both facts
    const g = new MemoryGraph();
    g.apply([{ id: '1', subgraph: r1.subgraph, aliases: r1.aliases }]);
    g.apply([{ id: '2', subgraph: r2.subgraph, aliases: r2.aliases }]);
    expect(processKeys(g)).toEqual(['Process:WORKSTATION5:4:~' + (T0 + 2 * S), real].sort());
    expect(g.nodes.get(real)!.props).toMatchObject({
      image: 'C:\\late.exe',
      provisional: 0,
      first_seen: T0 + 2 * S,
      last_seen: T0 + 5 * S,
    });
    expect([...g.edges.values()].some((e) => e.kind === 'RESOLVED' && e.from === real)).toBe(true);
  });

  it('Sysmon + Security 4688 of one process (skew within tolerance) end as one node, in any order', async () => {
    for (const order of [0, 1]) {
      const sys = psexecCreate({ time: T0 });
      const sec = psexec4688({ time: T0 + 3 * S });
      const events = order ? [sec, sys] : [sys, sec];
      for (const sizes of [[2], [1]]) {
        const g = await pipeline(events, sizes);
        expect(processKeys(g)).toEqual([`Process:${CMD_GUID}`, `Process:${PSEXEC_GUID}`]);
        const p = g.nodes.get(`Process:${PSEXEC_GUID}`)!;
        expect(p.props).toMatchObject({
          create_time: T0,
          pid: 7256,
          process_guid: PSEXEC_GUID,
          provisional: 0,
        });
        const parents = [...g.edges.values()].filter((e) => e.kind === 'PARENT_OF');
        expect(parents).toEqual([
          expect.objectContaining({ from: `Process:${CMD_GUID}`, to: `Process:${PSEXEC_GUID}` }),
        ]);
        expect(parents[0]!.props.count).toBe(2);
      }
    }
  });

  it('beyond the tolerance they stay two processes', async () => {
    const g = await pipeline([psexecCreate({ time: T0 }), psexec4688({ time: T0 + 30 * S })]);
    expect(processKeys(g)).toContain(processSessionKey('WORKSTATION5', 7256, T0 + 30 * S));
    expect(processKeys(g)).toContain(`Process:${PSEXEC_GUID}`);
  });

  it('the tolerance is configurable', async () => {
    const store = new MemorySessionStore();
    const r = await resolveIdentities(
      [buildEvent(psexecCreate({ time: T0 })), buildEvent(psexec4688({ time: T0 + 30 * S }))],
      store,
      { toleranceMs: 60_000 },
    );
    expect(r.eventNodes[1]!.process).toBe(`Process:${PSEXEC_GUID}`);
  });

  it('parent references by pid attach to the GUID process that holds the pid', async () => {
    for (const order of [0, 1]) {
      const events = order
        ? [psexec4688({ time: T0 }), cmdLoad(T0 - 20 * S)]
        : [cmdLoad(T0 - 20 * S), psexec4688({ time: T0 })];
      for (const sizes of [[2], [1]]) {
        const g = await pipeline(events, sizes);
        const parents = [...g.edges.values()].filter((e) => e.kind === 'PARENT_OF');
        expect(parents.map((e) => e.from)).toEqual([`Process:${CMD_GUID}`]);
        expect(processKeys(g)).toEqual(
          [`Process:${CMD_GUID}`, processSessionKey('WORKSTATION5', 7256, T0)].sort(),
        );
      }
    }
  });

  it('a GUID start after the reference time keeps them apart (pid reused by the GUID process)', async () => {
    // cmd.exe's GUID says it started at 07:28:47; a pid-only reference an hour earlier is another process
    const g = await pipeline([cmdLoad(T0), dnsByPid(2128, T0 - 3600 * S, 'old.example')]);
    expect(processKeys(g)).toEqual(
      [`Process:${CMD_GUID}`, processProvisionalKey('WORKSTATION5', 2128, T0 - 3600 * S)].sort(),
    );
  });

  it('a pid-only reference inside a GUID lifetime (Sysmon DNS by <unknown process>) is that process', async () => {
    const g = await pipeline([psexecCreate({ time: T0 }), dnsByPid(7256, T0 + 2 * S, 'workstation5')], [1]);
    expect([...g.edges.values()].find((e) => e.kind === 'RESOLVED')!.from).toBe(`Process:${PSEXEC_GUID}`);
  });

  it('the process a PowerShell or Security event names is the one holding that pid then (Sigma hits go there)', async () => {
    const scriptBlock = (time: number, executionPid?: number): NormalizedEvent => ({
      source: 'windows',
      channel: Channels.powershell,
      eventId: 4104,
      host: 'WORKSTATION5.theshire.local',
      time,
      ...(executionPid === undefined ? {} : { executionPid }),
      fields: { ScriptBlockText: 'IEX (New-Object Net.WebClient).DownloadString($u)' },
    });
    expect(subjectFacts(scriptBlock(T0))).toBeUndefined();
    const store = new MemorySessionStore();
    await resolve(store, [psexecCreate({ time: T0 })]);
    const facts = [scriptBlock(T0 + 2 * S, 7256), scriptBlock(T0 - 3600 * S, 7256)].map(
      (e) => subjectFacts(e, 'test')!,
    );
    // Security object access names its process by hex pid and image (the LSASS-access rules fire on it).
    const lsassHandle = (pid: string) =>
      security(
        4656,
        { ProcessId: pid, ProcessName: 'C:\\Tools\\PsExec.exe', ObjectName: '\\Device\\lsass.exe' },
        { time: T0 + 3 * S },
      );
    facts.push(subjectFacts(lsassHandle('0x1c58'), 'test')!);
    for (const e of [lsassHandle('0x0'), lsassHandle('-'), security(5145, { ProcessId: '0x1c58' })])
      expect(subjectFacts(e), String(e.eventId)).toBeUndefined();
    const r = await resolveIdentities(facts, store, { now: 2 });
    // Within the Sysmon process's lifetime: that process. An hour before it started: a provisional one.
    expect(r.eventNodes.map((n) => n.process)).toEqual([
      `Process:${PSEXEC_GUID}`,
      processProvisionalKey('WORKSTATION5', 7256, T0 - 3600 * S),
      `Process:${PSEXEC_GUID}`,
    ]);
    // The node the hit needs is in the subgraph, on its host.
    const keys = new Set(r.subgraph.nodes.map((n) => n.key));
    expect(keys.has(`Process:${PSEXEC_GUID}`) && keys.has('Asset:WORKSTATION5')).toBe(true);
    const runsOn = r.subgraph.edges.filter((e) => e.kind === 'RUNS_ON').map((e) => e.from);
    expect(runsOn).toContain(`Process:${PSEXEC_GUID}`);
  });

  it('re-sends aliases of recently retired keys when their session is touched again', async () => {
    const store = new MemorySessionStore();
    await resolveIdentities([buildEvent(dnsByPid(300, T0 + 5 * S, 'a'))], store, { now: 1000 });
    const r2 = await resolveIdentities([buildEvent(proc4688(300, T0, 'C:\\x.exe'))], store, { now: 2000 });
    expect(r2.aliases).toHaveLength(1);
    // the payload with that alias was lost; the next touch sends it again ...
    const r3 = await resolveIdentities([buildEvent(dnsByPid(300, T0 + 9 * S, 'b'))], store, { now: 3000 });
    expect(r3.aliases).toEqual(r2.aliases);
    // ... but not forever
    const r4 = await resolveIdentities([buildEvent(dnsByPid(300, T0 + 9 * S, 'b'))], store, {
      now: 2000 + 2 * 3600_000,
    });
    expect(r4.aliases).toEqual([]);
  });

  it('retries when another writer changed a timeline meanwhile', async () => {
    const store = new MemorySessionStore();
    let fail = 2;
    const flaky = {
      load: (ids: readonly string[]) => store.load(ids),
      commit: async (w: Parameters<MemorySessionStore['commit']>[0]) =>
        fail-- > 0 ? false : store.commit(w),
    };
    const r = await resolveIdentities([buildEvent(proc4688(5, T0, 'C:\\x.exe'))], flaky, {});
    expect(r.eventNodes[0]!.process).toBe(processSessionKey('WORKSTATION5', 5, T0));
    await expect(
      resolveIdentities(
        [buildEvent(proc4688(6, T0, 'C:\\x.exe'))],
        { load: flaky.load, commit: async () => false },
        { maxAttempts: 2 },
      ),
    ).rejects.toThrow(/gave up/);
  });
});

describe('order independence', () => {
  // A small world: Sysmon and Security views of the same processes, pid reuse, late creations, pid-only refs.
  const A = T0;
  const g1 = guidAt(A + 100 * S, 0x10);
  const g2 = guidAt(A + 400 * S, 0x11);
  const world: NormalizedEvent[] = [
    psexecCreate({ time: T0 }),
    psexec4688({ time: T0 + 2 * S }),
    cmdLoad(T0 - 30 * S),
    cmdLoad(T0 + 30 * S),
    dnsByPid(7256, T0 + 4 * S, 'workstation5'),
    sysmon(5, { ProcessGuid: PSEXEC_GUID, ProcessId: '7256' }, { time: T0 + 150 * S }),
    sysmon(
      1,
      {
        ProcessGuid: g1,
        ProcessId: '500',
        ParentProcessGuid: PSEXEC_GUID,
        ParentProcessId: '7256',
        Image: 'C:\\Windows\\System32\\reg.exe',
        CommandLine: 'reg save',
      },
      { time: A + 100 * S + 300 },
    ),
    security(
      4688,
      {
        ProcessId: '500',
        ParentProcessId: '7256',
        Image: 'C:\\windows\\system32\\REG.exe',
        CommandLine: 'reg save',
      },
      { time: A + 100 * S + 1300 },
    ),
    sysmon(
      10,
      {
        SourceProcessGUID: g1,
        SourceProcessId: '500',
        SourceImage: 'C:\\Windows\\System32\\reg.exe',
        TargetProcessId: '600',
        TargetImage: 'C:\\Windows\\System32\\lsass.exe',
        GrantedAccess: '0x1010',
      },
      { time: A + 101 * S },
    ),
    sysmon(5, { ProcessGuid: g1, ProcessId: '500' }, { time: A + 110 * S }),
    sysmon(
      1,
      { ProcessGuid: g2, ProcessId: '500', Image: 'C:\\Windows\\System32\\whoami.exe' },
      { time: A + 400 * S + 10 },
    ),
    proc4688(900, A + 500 * S, 'C:\\x.exe', 2128),
    dnsByPid(900, A + 497 * S, 'skewed.example'),
    exit4689(900, A + 520 * S),
    dnsByPid(950, A + 100 * S, 'early.example'),
    dnsByPid(950, A + 200 * S, 'early.example'),
    proc4688(950, A + 1000 * S, 'C:\\late.exe'),
  ];


  it('gives the same graph for every arrival order and split into calls', async () => {
    const want = (await pipeline(world)).snapshot();
    expect(want.nodes.filter((n) => n.kind === 'Process').map((n) => n.key)).toEqual(
      [
        `Process:${CMD_GUID}`,
        `Process:${PSEXEC_GUID}`,
        `Process:${g1}`,
        `Process:${g2}`,
        processProvisionalKey('WORKSTATION5', 600, A + 101 * S),
        processSessionKey('WORKSTATION5', 900, A + 500 * S),
        processProvisionalKey('WORKSTATION5', 950, A + 100 * S),
        processSessionKey('WORKSTATION5', 950, A + 1000 * S),
        // the parent of that 4688, known by pid 4 only
        processProvisionalKey('WORKSTATION5', 4, A + 1000 * S),
      ].sort(),
    );
    for (let seed = 1; seed <= 40; seed++) {
      const events = seededShuffle(world, seed);
      const sizes = [1 + (seed % 4), 1 + ((seed * 7) % 5), 2];
      const got = (await pipeline(events, sizes)).snapshot();
      expect(got, `seed ${seed}`).toEqual(want);
    }
  });

  // References by pid alone on both sides of a boundary (termination, creation): right when the boundary
  // is known first or arrives in the same call; a boundary that arrives after references on both of its
  // sides were already merged cannot split them (the graph does not keep which event made which edge).
  const boundary: NormalizedEvent[] = [
    proc4688(500, A, 'C:\\a.exe'),
    exit4689(500, A + 110 * S),
    dnsByPid(500, A + 200 * S, 'between.example'),
    proc4688(500, A + 400 * S, 'C:\\b.exe'),
    dnsByPid(500, A + 405 * S, 'after.example'),
  ];
  it('pid-only references beside boundaries: boundaries first, or in the same call', async () => {
    const want = (await pipeline(boundary)).snapshot();
    const keys = want.nodes.filter((n) => n.kind === 'Process').map((n) => n.key);
    expect(keys).toEqual(
      [
        // the parent of both 4688s, known by pid 4 only (one float: 400 s apart, no boundary between)
        processProvisionalKey('WORKSTATION5', 4, A),
        processSessionKey('WORKSTATION5', 500, A),
        processProvisionalKey('WORKSTATION5', 500, A + 200 * S),
        processSessionKey('WORKSTATION5', 500, A + 400 * S),
      ].sort(),
    );
    const hard = [boundary[0]!, boundary[1]!, boundary[3]!];
    const refs = [boundary[2]!, boundary[4]!];
    for (let seed = 1; seed <= 10; seed++) {
      const events = [...seededShuffle(hard, seed), ...seededShuffle(refs, seed + 100)];
      expect((await pipeline(events, [1 + (seed % 3)])).snapshot(), `seed ${seed}`).toEqual(want);
      expect((await pipeline(seededShuffle(boundary, seed))).snapshot(), `one call, seed ${seed}`).toEqual(want);
    }
  });
});
