import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NormalizedEvent } from '../../domain/event';
import { MemoryCorrelationState } from './correlation-memory';
import { conditionHolds, parseTimespan } from './correlation';
import { loadRules } from './loader';
import type { CompiledRuleset } from './ruleset';
import { sysmonEvent } from './test-helpers';

let dir: string;

const failedLogon = `title: Failed logon
id: base-failed
name: failed_logon
status: test
level: low
tags:
    - attack.t1110
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID: 4625
    condition: selection
`;

const proc = (id: string, name: string, image: string) => `title: ${name}
id: ${id}
name: ${name}
status: test
level: low
logsource:
    product: windows
    category: process_creation
detection:
    selection:
        Image|endswith: '\\\\${image}'
    condition: selection
`;

async function load(...docs: string[]): Promise<{ ruleset: CompiledRuleset; skipped: string[] }> {
  const file = path.join(dir, `c${Math.random().toString(36).slice(2)}.yml`);
  await writeFile(file, docs.join('\n---\n'));
  const { ruleset, report } = await loadRules([file], { placeholders: {} });
  return { ruleset, skipped: report.skipped.map((s) => s.reason) };
}

const T0 = 1_700_000_000_000;

function logon(
  user: string,
  seconds: number,
  extra: Record<string, string> = {},
  recordId?: number,
): NormalizedEvent {
  return {
    source: 'security',
    channel: 'Security',
    eventId: 4625,
    host: 'DC01',
    time: T0 + seconds * 1000,
    ...(recordId !== undefined ? { recordId } : {}),
    fields: { TargetUserName: user, IpAddress: '10.0.0.5', ...extra },
  };
}

async function feed(ruleset: CompiledRuleset, state: MemoryCorrelationState, events: NormalizedEvent[]) {
  const fired = [];
  for (const e of events) {
    const m = ruleset.evaluate(e);
    fired.push(...(await ruleset.evaluateCorrelations(m, e, state)));
  }
  return fired;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'sigma-corr-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('event_count', () => {
  const corr = `title: Brute force
id: corr-bf
status: test
level: high
correlation:
    type: event_count
    rules:
        - failed_logon
    group-by:
        - TargetUserName
    timespan: 1m
    condition:
        gte: 3
`;

  it('fires at the event that reaches the threshold within the window, then starts over', async () => {
    const { ruleset } = await load(failedLogon, corr);
    const state = new MemoryCorrelationState();
    const fired = await feed(ruleset, state, [
      logon('alice', 0, {}, 1),
      logon('alice', 10, {}, 2),
      logon('bob', 11, {}, 3),
      logon('alice', 20, {}, 4), // third for alice -> fires
      logon('alice', 21, {}, 5),
      logon('alice', 22, {}, 6),
      logon('alice', 23, {}, 7), // three more -> fires again
    ]);
    expect(fired.map((f) => [f.ruleId, f.group.TargetUserName, f.count, f.time - T0])).toEqual([
      ['corr-bf', 'alice', 3, 20_000],
      ['corr-bf', 'alice', 3, 23_000],
    ]);
    expect(fired[0]).toMatchObject({
      level: 'high',
      riskScore: 70,
      type: 'event_count',
      techniques: ['T1110'],
    });
  });

  it('forgets events older than the timespan', async () => {
    const { ruleset } = await load(failedLogon, corr);
    const fired = await feed(ruleset, new MemoryCorrelationState(), [
      logon('alice', 0, {}, 1),
      logon('alice', 40, {}, 2),
      logon('alice', 70, {}, 3), // the first is 70 s old: only 2 in window
      logon('alice', 90, {}, 4), // 40, 70, 90 -> 3
    ]);
    expect(fired.map((f) => f.time - T0)).toEqual([90_000]);
  });

  it('counts a replayed event once', async () => {
    const { ruleset } = await load(failedLogon, corr);
    const e = logon('alice', 0, {}, 42);
    expect(await feed(ruleset, new MemoryCorrelationState(), [e, e, e, e])).toEqual([]);
  });

  it('does not alert on the referenced rule alone unless generate: true', async () => {
    const { ruleset } = await load(failedLogon, corr);
    expect(ruleset.evaluate(logon('alice', 0))).toEqual([]);
    const gen = await load(
      failedLogon.replace('base-failed', 'base-failed-2'),
      corr.replace('corr-bf', 'corr-bf-2').replace('    type:', '    generate: true\n    type:'),
    );
    expect(gen.ruleset.evaluate(logon('alice', 0)).map((m) => m.ruleId)).toEqual(['base-failed-2']);
  });

  it('skips events without a group-by value', async () => {
    const { ruleset } = await load(failedLogon, corr);
    const events = [1, 2, 3].map((i) => ({ ...logon('x', i, {}, i), fields: { IpAddress: '1.2.3.4' } }));
    expect(await feed(ruleset, new MemoryCorrelationState(), events)).toEqual([]);
  });
});

describe('value_count', () => {
  it('fires when enough distinct values are seen for one group', async () => {
    const { ruleset } = await load(
      failedLogon,
      `title: Password spray
id: corr-spray
level: high
correlation:
    type: value_count
    rules:
        - base-failed
    group-by:
        - IpAddress
    timespan: 5m
    condition:
        field: TargetUserName
        gte: 3
`,
    );
    const fired = await feed(ruleset, new MemoryCorrelationState(), [
      logon('alice', 0, {}, 1),
      logon('alice', 1, {}, 2),
      logon('ALICE', 2, {}, 3), // same value, other case
      logon('bob', 3, {}, 4),
      logon('carol', 4, {}, 5),
    ]);
    expect(fired.map((f) => [f.ruleId, f.group.IpAddress, f.count])).toEqual([['corr-spray', '10.0.0.5', 3]]);
  });
});

describe('temporal and temporal_ordered', () => {
  const recon = [proc('r-whoami', 'whoami', 'whoami.exe'), proc('r-net', 'net', 'net.exe')];
  const corr = (type: string) => `title: Recon burst
id: corr-${type}
level: medium
correlation:
    type: ${type}
    rules:
        - whoami
        - net
    group-by:
        - Computer
    timespan: 5m
`;
  const ev = (img: string, seconds: number, host = 'WS01') =>
    sysmonEvent(1, { Image: `C:\\Windows\\System32\\${img}` }, { time: T0 + seconds * 1000, host });

  it('temporal fires when all rules matched within the timespan, in any order', async () => {
    const { ruleset } = await load(...recon, corr('temporal'));
    const state = new MemoryCorrelationState();
    expect(await feed(ruleset, state, [ev('net.exe', 0), ev('whoami.exe', 30, 'OTHER')])).toEqual([]);
    const fired = await feed(ruleset, state, [ev('whoami.exe', 60)]);
    expect(fired.map((f) => [f.ruleId, f.group.Computer, f.count])).toEqual([['corr-temporal', 'ws01', 2]]);
  });

  it('temporal does not fire when the events are further apart than the timespan', async () => {
    const { ruleset } = await load(...recon, corr('temporal'));
    expect(
      await feed(ruleset, new MemoryCorrelationState(), [ev('net.exe', 0), ev('whoami.exe', 301)]),
    ).toEqual([]);
  });

  it('temporal_ordered requires the rules in order', async () => {
    const { ruleset } = await load(...recon, corr('temporal_ordered'));
    expect(
      await feed(ruleset, new MemoryCorrelationState(), [ev('net.exe', 0), ev('whoami.exe', 10)]),
    ).toEqual([]);
    const fired = await feed(ruleset, new MemoryCorrelationState(), [
      ev('net.exe', 0),
      ev('whoami.exe', 10),
      ev('net.exe', 20),
    ]);
    expect(fired.map((f) => [f.ruleId, f.count, f.time - T0])).toEqual([
      ['corr-temporal_ordered', 2, 20_000],
    ]);
  });

  it('resolves group-by aliases per rule', async () => {
    const conn = (id: string, name: string, image: string) => `title: ${name}
id: ${id}
name: ${name}
logsource:
    product: windows
    category: network_connection
detection:
    selection:
        Image|endswith: '\\\\${image}'
    condition: selection
`;
    const { ruleset } = await load(
      conn('n-a', 'inbound', 'svc.exe'),
      conn('n-b', 'outbound', 'tool.exe'),
      `title: Same peer
id: corr-alias
correlation:
    type: temporal
    rules:
        - inbound
        - outbound
    group-by:
        - peer
    timespan: 1m
    aliases:
        peer:
            inbound: SourceIp
            outbound: DestinationIp
`,
    );
    const state = new MemoryCorrelationState();
    const a = sysmonEvent(
      3,
      { Image: 'C:\\svc.exe', SourceIp: '10.9.9.9', DestinationIp: '10.0.0.1' },
      { time: T0 },
    );
    const b = sysmonEvent(
      3,
      { Image: 'C:\\tool.exe', SourceIp: '10.0.0.1', DestinationIp: '10.9.9.9' },
      { time: T0 + 5000 },
    );
    const fired = await feed(ruleset, state, [a, b]);
    expect(fired.map((f) => f.group)).toEqual([{ peer: '10.9.9.9' }]);
    // Without aliases the events would not share a group: check the negative with a different peer.
    const c = sysmonEvent(3, { Image: 'C:\\tool.exe', DestinationIp: '10.1.1.1' }, { time: T0 + 6000 });
    expect(await feed(ruleset, new MemoryCorrelationState(), [a, c])).toEqual([]);
  });
});

describe('chained correlations and load errors', () => {
  it('feeds a correlation that fired into correlations referring to it', async () => {
    const { ruleset } = await load(
      failedLogon,
      `title: Burst
id: corr-burst
name: burst
correlation:
    type: event_count
    rules:
        - failed_logon
    group-by:
        - TargetUserName
    timespan: 1m
    condition:
        gte: 2
`,
      `title: Repeated bursts
id: corr-repeated
level: critical
correlation:
    type: event_count
    rules:
        - burst
    group-by:
        - IpAddress
    timespan: 10m
    condition:
        gte: 2
`,
    );
    const fired = await feed(
      ruleset,
      new MemoryCorrelationState(),
      [0, 1, 2, 3].map((i) => logon('alice', i, {}, i)),
    );
    expect(fired.map((f) => f.ruleId)).toEqual(['corr-burst', 'corr-burst', 'corr-repeated']);
    expect(fired[2]).toMatchObject({ level: 'critical', riskScore: 90 });
  });

  it('skips correlations it cannot evaluate, with reasons', async () => {
    const { skipped } = await load(
      failedLogon,
      `title: Unknown ref
id: corr-x1
correlation:
    type: event_count
    rules:
        - nope
    group-by: [A]
    timespan: 1m
    condition:
        gte: 2
`,
      `title: Upper bound only
id: corr-x2
correlation:
    type: event_count
    rules:
        - failed_logon
    group-by: [A]
    timespan: 1m
    condition:
        lt: 2
`,
      `title: Bad timespan
id: corr-x3
correlation:
    type: event_count
    rules:
        - failed_logon
    timespan: 1 fortnight
    condition:
        gte: 2
`,
      `title: Unsupported type
id: corr-x4
correlation:
    type: value_percentile
    rules:
        - failed_logon
    timespan: 1h
`,
    );
    expect(skipped).toEqual([
      "correlation refers to unknown or skipped rule 'nope'",
      expect.stringMatching(/without a lower bound/),
      expect.stringMatching(/invalid timespan/),
      "unsupported correlation type 'value_percentile'",
    ]);
  });
});

describe('helpers', () => {
  it('parses timespans and checks conditions', () => {
    expect(parseTimespan('30s')).toBe(30_000);
    expect(parseTimespan('5m')).toBe(300_000);
    expect(parseTimespan('2h')).toBe(7_200_000);
    expect(parseTimespan('1d')).toBe(86_400_000);
    expect(conditionHolds({ gt: 100, lte: 200 }, 150)).toBe(true);
    expect(conditionHolds({ gt: 100, lte: 200 }, 100)).toBe(false);
    expect(conditionHolds({ eq: 3 }, 3)).toBe(true);
  });

  it('the memory state sweeps groups whose window has passed', async () => {
    const s = new MemoryCorrelationState();
    await s.windowAdd('a', 'm1', 0, 1000);
    await s.setFields('b', { r0: 0 }, 0, 1000);
    await s.windowAdd('c', 'm1', 5000, 1000);
    s.sweep();
    expect(s.size).toBe(1);
    expect(await s.windowAdd('c', 'm2', 5500, 1000)).toBe(2);
  });
});
