import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { NormalizedEvent } from '../../domain/event';
import { buildEvent } from '../graph/build';
import { readFile, SHARED_DATA } from '../parsers/test-support';
import { alignCollectorClocks, learnOffsets } from './clock';
import { resolveWithState } from './resolve';

// A real recording whose Security 4688 records carry only TimeCreated, five hours off Sysmon's UtcTime.
const FILE = path.join(SHARED_DATA, 'sysmon-json', 'schtask_create.jsonl');
const HOUR = 3600_000;

async function events(): Promise<NormalizedEvent[]> {
  return (await readFile(FILE)).events;
}

const isCreate = (e: NormalizedEvent) => (e.source === 'sysmon' && e.eventId === 1) || (e.source === 'security' && e.eventId === 4688);

describe('collector clock alignment (Security 4688 on local time)', () => {
  it('learns the offset per asset from 4688/Sysmon twins and moves the Security events onto UTC', async () => {
    const evs = (await events()).filter(isCreate);
    const facts = evs.map((e) => buildEvent(e, 'schtask_create.jsonl'));
    const offsets = learnOffsets(facts);
    expect([...offsets].sort()).toEqual([
      ['WORKSTATION5', -5 * HOUR],
      ['WORKSTATION6', -5 * HOUR],
    ]);

    const aligned = alignCollectorClocks(facts);
    const schtasks4688 = evs.findIndex((e) => e.source === 'security' && /schtasks\.exe$/i.test(e.fields.Image ?? ''));
    const schtasksSysmon = evs.findIndex((e) => e.source === 'sysmon' && /schtasks\.exe$/i.test(e.fields.Image ?? ''));
    expect(schtasks4688).toBeGreaterThanOrEqual(0);
    expect(Math.abs(aligned[schtasks4688]!.time - aligned[schtasksSysmon]!.time)).toBeLessThan(1000);
    expect(aligned[schtasks4688]!.refs.actor!.props.create_time).toBe(aligned[schtasks4688]!.time);
    // Sysmon facts are never moved.
    expect(aligned[schtasksSysmon]).toBe(facts[schtasksSysmon]);
  });

  it('makes a 4688 and its Sysmon twin one process node', async () => {
    const evs = await events();
    const { resolution } = resolveWithState(evs.map((e) => buildEvent(e, 'schtask_create.jsonl')), new Map(), { now: 1 });
    const procs = resolution.subgraph.nodes.filter((n) => n.kind === 'Process' && /schtasks\.exe$/i.test(String(n.props.image ?? '')));
    expect(procs.map((p) => p.key)).toEqual(['Process:67E11D8C-EB56-5FDD-2097-000000000700']);
    const cmds = resolution.subgraph.nodes.filter(
      (n) => n.kind === 'Process' && /schtasks \/create/i.test(String(n.props.command_line ?? '')) && /cmd\.exe$/i.test(String(n.props.image ?? '')),
    );
    expect(cmds.map((p) => p.key)).toEqual(['Process:67E11D8C-EB56-5FDD-1F97-000000000700']);
  });

  it('leaves a batch alone when no twin shows an offset, or twins disagree', async () => {
    const evs = (await events()).filter(isCreate);
    const security = evs.filter((e) => e.source === 'security').map((e) => buildEvent(e, 'x'));
    expect(learnOffsets(security).size).toBe(0);
    expect(alignCollectorClocks(security)).toEqual(security);
    // A 4688 at exactly the Sysmon time: the clocks agree, nothing moves.
    const sysmon1 = evs.find((e) => e.source === 'sysmon' && /schtasks\.exe$/i.test(e.fields.Image ?? ''))!;
    const twin = evs.find((e) => e.source === 'security' && /schtasks\.exe$/i.test(e.fields.Image ?? ''))!;
    const same = [buildEvent(sysmon1, 'x'), buildEvent({ ...twin, time: sysmon1.time }, 'x')];
    expect(learnOffsets(same).size).toBe(0);
    // An offset that is no whole quarter hour is a different process that reused the pid.
    const odd = [buildEvent(sysmon1, 'x'), buildEvent({ ...twin, time: sysmon1.time - 5 * HOUR + 7 * 60_000 }, 'x')];
    expect(learnOffsets(odd).size).toBe(0);
  });
});
