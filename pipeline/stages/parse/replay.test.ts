import { describe, expect, it } from 'vitest';
import type { NormalizedEvent } from '../../../domain/event';
import { replayEvent, replayGuid, replayHost } from './replay';

const ev: NormalizedEvent = {
  source: 'sysmon',
  channel: 'Microsoft-Windows-Sysmon/Operational',
  eventId: 1,
  host: 'WORKSTATION5.theshire.local',
  time: 1,
  fields: { ProcessGuid: 'D273D0F0-1111-2222-3333-444455556666', TargetProcessGUID: 'D273D0F0-1111-2222-3333-444455556666', Image: 'C:\\x.exe', ProcessId: '12' },
};

describe('replay', () => {
  it('renames hosts keeping the domain', () => {
    expect(replayHost('WORKSTATION5.theshire.local', 'r1')).toBe('WORKSTATION5-r1.theshire.local');
    expect(replayHost('WS', 'r1')).toBe('WS-r1');
  });

  it('maps GUIDs deterministically per tag', () => {
    const g = 'D273D0F0-1111-2222-3333-444455556666';
    expect(replayGuid(g, 'a')).toBe(replayGuid(g, 'a'));
    expect(replayGuid(g, 'a')).not.toBe(replayGuid(g, 'b'));
    expect(replayGuid(g, 'a').split('-').slice(1, 3)).toEqual(['1111', '2222']);
    expect(replayGuid(g, 'a')).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/);
  });

  it('rewrites the event and leaves other fields alone', () => {
    const r = replayEvent(ev, 't');
    expect(r.host).toBe('WORKSTATION5-t.theshire.local');
    expect(r.fields.ProcessGuid).toBe(replayGuid(ev.fields.ProcessGuid!, 't'));
    expect(r.fields.TargetProcessGUID).toBe(r.fields.ProcessGuid);
    expect(r.fields.Image).toBe('C:\\x.exe');
    expect(ev.fields.ProcessGuid).toBe('D273D0F0-1111-2222-3333-444455556666');
  });

  it('gives the same event with a cache of mapped GUIDs, in any spelling of the field name', () => {
    const g = 'D273D0F0-1111-2222-3333-444455556666';
    const e: NormalizedEvent = {
      ...ev,
      fields: { ...ev.fields, parentprocessguid: g, SourceGuId: g, Guid: g, guidx: g, uid: g, NotAGuid: 'x' },
    };
    const cache = new Map<string, string>();
    const first = replayEvent(e, 't', cache);
    expect(first).toEqual(replayEvent(e, 't'));
    expect(replayEvent(e, 't', cache)).toEqual(first);
    expect(cache.get(g)).toBe(replayGuid(g, 't'));
    expect(first.fields.parentprocessguid).toBe(replayGuid(g, 't'));
    expect(first.fields.SourceGuId).toBe(replayGuid(g, 't'));
    expect(first.fields.Guid).toBe(replayGuid(g, 't'));
    expect(first.fields.guidx).toBe(g);
    expect(first.fields.uid).toBe(g);
    expect(first.fields.NotAGuid).toBe('x');
  });
});
