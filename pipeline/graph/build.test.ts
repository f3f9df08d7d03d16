import { describe, expect, it } from 'vitest';
import { kindOfKey } from '../../domain/model';
import { ACTOR, PARENT, TARGET, buildEvent, queryResultIps, subjectFacts, type EventFacts } from './build';
import { CMD_GUID, PSEXEC_GUID, T0, other, psexec4688, psexecCreate, security, sysmon } from './test-events';

const nodes = (f: EventFacts, kind: string) => f.nodes.filter((n) => n.kind === kind);
const edges = (f: EventFacts, kind: string) => f.edges.filter((e) => e.kind === kind);

function expectWellFormed(f: EventFacts) {
  for (const n of f.nodes) {
    expect(kindOfKey(n.key)).toBe(n.kind);
    expect(n.props.first_seen).toBe(f.time);
    expect(n.props.last_seen).toBe(f.time);
    for (const v of Object.values(n.props))
      expect(v === '' || (Array.isArray(v) && v.length === 0)).toBe(false);
  }
  for (const e of f.edges) {
    expect(e.props.count).toBe(1);
    expect(e.props.first_seen).toBe(f.time);
    for (const end of [e.from, e.to]) expect(end.startsWith('@') || kindOfKey(end) !== undefined).toBe(true);
  }
  for (const r of Object.values(f.refs)) {
    expect(r!.props.first_seen).toBe(f.time);
    expect(r!.asset).toBe(f.asset);
  }
}

describe('buildEvent: Sysmon 1 process create', () => {
  const f = buildEvent(psexecCreate(), 'cmd_psexec.jsonl');
  it('describes the new process', () => {
    expectWellFormed(f);
    const a = f.refs.actor!;
    expect(a.guid).toBe(PSEXEC_GUID);
    expect(a.pid).toBe(7256);
    expect(a.created).toBe(true);
    expect(a.props).toMatchObject({
      process_guid: PSEXEC_GUID,
      pid: 7256,
      image: 'C:\\Users\\wardog\\Downloads\\PSTools\\PsExec.exe',
      current_directory: 'C:\\Users\\wardog\\Downloads\\PSTools\\',
      user: 'WORKSTATION5\\wardog',
      integrity_level: 'High',
      parent_guid: CMD_GUID,
      parent_pid: 2128,
      create_time: T0,
      host: 'WORKSTATION5',
      sources: ['cmd_psexec.jsonl'],
      provisional: 0,
    });
    expect(String(a.props.command_line)).toContain('reg save');
    expect(f.process).toBe(ACTOR);
  });
  it('references the parent provisionally', () => {
    const p = f.refs.parent!;
    expect(p.guid).toBe(CMD_GUID);
    expect(p.pid).toBe(2128);
    expect(p.created).toBeUndefined();
    expect(p.props).toMatchObject({
      image: 'C:\\Windows\\System32\\cmd.exe',
      command_line: '"C:\\windows\\system32\\cmd.exe"',
      provisional: 1,
    });
    expect(edges(f, 'PARENT_OF')).toEqual([expect.objectContaining({ from: PARENT, to: ACTOR })]);
  });
  it('links image file, asset and user', () => {
    const file = nodes(f, 'File')[0]!;
    expect(file.key).toBe('File:WORKSTATION5:c:\\users\\wardog\\downloads\\pstools\\psexec.exe');
    expect(file.props.path).toBe('C:\\Users\\wardog\\Downloads\\PSTools\\PsExec.exe');
    expect(file.props.hashes).toEqual([
      'SHA1=E50D9E3BD91908E13A26B3E23EDEAF577FB3A095',
      'MD5=27304B246C7D5B4E149124D5F93C5B01',
    ]);
    expect(edges(f, 'EXECUTED')).toEqual([expect.objectContaining({ from: ACTOR, to: file.key })]);
    expect(f.target).toBe(file.key);
    expect(nodes(f, 'Asset')).toEqual([
      expect.objectContaining({
        key: 'Asset:WORKSTATION5',
        props: expect.objectContaining({ hostname: 'WORKSTATION5' }),
      }),
    ]);
    expect(
      edges(f, 'RUNS_ON')
        .map((e) => e.from)
        .sort(),
    ).toEqual([ACTOR, PARENT]);
    expect(nodes(f, 'User').map((n) => n.key)).toEqual(['User:WORKSTATION5\\wardog']);
    expect(edges(f, 'RAN_AS')).toEqual([
      expect.objectContaining({ from: ACTOR, to: 'User:WORKSTATION5\\wardog' }),
    ]);
  });
});

describe('buildEvent: Security 4688', () => {
  it('builds a process without GUID from the parser-derived fields', () => {
    const f = buildEvent(psexec4688(), 'x');
    expectWellFormed(f);
    const a = f.refs.actor!;
    expect(a.guid).toBeUndefined();
    expect(a.pid).toBe(7256);
    expect(a.created).toBe(true);
    expect(a.props).toMatchObject({
      image: 'C:\\Users\\wardog\\Downloads\\PSTools\\PsExec.exe',
      integrity_level: 'High',
      parent_pid: 2128,
      user: 'WORKSTATION5\\wardog',
    });
    expect(f.refs.parent).toMatchObject({ pid: 2128 });
    expect(f.refs.parent!.props.image).toBe('C:\\Windows\\System32\\cmd.exe');
    expect(edges(f, 'PARENT_OF')).toHaveLength(1);
    expect(edges(f, 'EXECUTED')).toHaveLength(1);
    expect(edges(f, 'RUNS_ON')).toHaveLength(2);
  });
  it('reads the raw fields when the parser did not derive them', () => {
    const f = buildEvent(
      security(4688, {
        NewProcessId: '0x1c58',
        ProcessId: '0x850',
        NewProcessName: 'C:\\x.exe',
        ParentProcessName: 'C:\\p.exe',
      }),
    );
    expect(f.refs.actor!.pid).toBe(0x1c58);
    expect(f.refs.parent!.pid).toBe(0x850);
    expect(f.refs.actor!.props.image).toBe('C:\\x.exe');
  });
  it('names SYSTEM processes as Sysmon does, not by the machine account', () => {
    const f = buildEvent(
      security(4688, {
        NewProcessId: '0x5b4',
        ProcessId: '1460',
        ParentProcessId: '716',
        Image: 'C:\\Windows\\PSEXESVC.exe',
        SubjectUserSid: 'S-1-5-18',
        SubjectUserName: 'WORKSTATION5$',
        SubjectDomainName: 'WORKGROUP',
        User: 'WORKGROUP\\WORKSTATION5$',
        TargetUserSid: 'S-1-0-0',
        TargetUserName: '-',
      }),
    );
    expect(f.refs.actor!.props.user).toBe('NT AUTHORITY\\SYSTEM');
    expect(nodes(f, 'User').map((n) => n.key)).toEqual(['User:NT AUTHORITY\\system@WORKSTATION5']);
  });
  it('4689 terminates by pid', () => {
    const f = buildEvent(security(4689, { ProcessId: '0x1c58', ProcessName: 'C:\\x.exe' }));
    expect(f.refs.actor).toMatchObject({ pid: 7256, terminated: true });
    expect(f.refs.actor!.props.terminate_time).toBe(T0);
  });
});

describe('buildEvent: other Sysmon events', () => {
  it('3 network connection', () => {
    const f = buildEvent(
      sysmon(3, {
        ProcessGuid: '{39e4a257-f121-5f8b-0100-000000000700}',
        ProcessId: '4',
        Image: 'System',
        Protocol: 'tcp',
        Initiated: 'true',
        SourceIp: 'fe80:0:0:0:90e:17af:263c:5209',
        SourcePort: '58391',
        DestinationIp: '::ffff:172.18.39.5',
        DestinationPort: '445',
        DestinationHostname: 'MORDORDC.theshire.local',
        User: 'NT AUTHORITY\\SYSTEM',
      }),
    );
    expectWellFormed(f);
    const ep = nodes(f, 'NetworkEndpoint')[0]!;
    expect(ep.key).toBe('NetworkEndpoint:172.18.39.5:445:tcp');
    expect(ep.props).toMatchObject({
      ip: '172.18.39.5',
      port: 445,
      protocol: 'tcp',
      hostname: 'MORDORDC.theshire.local',
    });
    expect(edges(f, 'CONNECTED_TO')[0]!.props).toMatchObject({
      src_ip: ['fe80::90e:17af:263c:5209'],
      src_port: ['58391'],
      direction: ['outbound'],
    });
    expect(nodes(f, 'IpAddress').map((n) => n.key)).toEqual(['IpAddress:172.18.39.5']);
    expect(edges(f, 'ENDPOINT_OF')).toEqual([
      expect.objectContaining({ from: ep.key, to: 'IpAddress:172.18.39.5' }),
    ]);
    // the reverse-lookup name is a property, not a DomainName (it was never resolved by the process)
    expect(nodes(f, 'DomainName')).toHaveLength(0);
    expect(f.target).toBe(ep.key);
    expect(nodes(f, 'User')[0]!.key).toBe('User:NT AUTHORITY\\system@WORKSTATION5');
  });
  it('3 inbound', () => {
    const f = buildEvent(
      sysmon(3, {
        ProcessGuid: 'X',
        ProcessId: '5',
        DestinationIp: '10.0.0.5',
        DestinationPort: '3389',
        Protocol: 'tcp',
        Initiated: 'false',
        SourceIp: '1.2.3.4',
      }),
    );
    expect(edges(f, 'CONNECTED_TO')[0]!.props.direction).toEqual(['inbound']);
  });
  it('5 terminate', () => {
    const f = buildEvent(sysmon(5, { ProcessGuid: PSEXEC_GUID, ProcessId: '7256', Image: 'C:\\x.exe' }));
    expect(f.refs.actor).toMatchObject({ terminated: true, guid: PSEXEC_GUID });
    expect(f.refs.actor!.props.terminate_time).toBe(T0);
    expect(f.refs.actor!.props.provisional).toBe(1);
  });
  it('7 image load', () => {
    const f = buildEvent(
      sysmon(7, {
        ProcessGuid: CMD_GUID,
        ProcessId: '2128',
        Image: 'C:\\Windows\\System32\\cmd.exe',
        ImageLoaded: 'C:\\Windows\\System32\\sechost.dll',
        Signed: 'true',
        Signature: 'Microsoft Windows',
        Hashes: 'SHA1=A,MD5=B',
      }),
    );
    expectWellFormed(f);
    expect(edges(f, 'LOADED')[0]).toMatchObject({
      from: ACTOR,
      to: 'File:WORKSTATION5:c:\\windows\\system32\\sechost.dll',
      props: { signed: 'true', signature: 'Microsoft Windows' },
    });
    expect(nodes(f, 'File')[0]!.props.hashes).toEqual(['SHA1=A', 'MD5=B']);
  });
  it('8 CreateRemoteThread', () => {
    const f = buildEvent(
      sysmon(8, {
        SourceProcessGuid: 'S',
        SourceProcessId: '1',
        SourceImage: 'C:\\a.exe',
        TargetProcessGuid: 'T',
        TargetProcessId: '2',
        TargetImage: 'C:\\b.exe',
        StartAddress: '0x1',
        StartModule: '-',
        StartFunction: 'LoadLibraryW',
      }),
    );
    expect(edges(f, 'INJECTED_INTO')[0]).toMatchObject({
      from: ACTOR,
      to: TARGET,
      props: { start_address: '0x1', start_function: 'LoadLibraryW' },
    });
    expect(edges(f, 'INJECTED_INTO')[0]!.props.start_module).toBeUndefined();
    expect(f.refs.target).toMatchObject({ guid: 'T', pid: 2 });
    expect(f.target).toBe(TARGET);
  });
  it('10 process access (GUID spelled GUID)', () => {
    const f = buildEvent(
      sysmon(10, {
        SourceProcessGUID: CMD_GUID,
        SourceProcessId: '2128',
        SourceImage: 'C:\\cmd.exe',
        TargetProcessGUID: PSEXEC_GUID,
        TargetProcessId: '7256',
        TargetImage: 'C:\\windows\\system32\\lsass.exe',
        GrantedAccess: '0x1010',
        CallTrace: 'C:\\windows\\SYSTEM32\\ntdll.dll+9c584',
      }),
    );
    expectWellFormed(f);
    expect(f.refs.actor).toMatchObject({ guid: CMD_GUID, pid: 2128 });
    expect(f.refs.target).toMatchObject({ guid: PSEXEC_GUID, pid: 7256 });
    expect(f.refs.target!.props.image).toBe('C:\\windows\\system32\\lsass.exe');
    expect(edges(f, 'ACCESSED')[0]!.props).toMatchObject({
      granted_access: ['0x1010'],
      call_trace: 'C:\\windows\\SYSTEM32\\ntdll.dll+9c584',
    });
  });
  it('11 / 15 / 23 / 26 files', () => {
    const c = buildEvent(
      sysmon(11, { ProcessGuid: CMD_GUID, ProcessId: '1', TargetFilename: 'C:\\Temp\\X.txt' }),
    );
    expect(edges(c, 'CREATED')[0]!.to).toBe('File:WORKSTATION5:c:\\temp\\x.txt');
    expect(c.target).toBe('File:WORKSTATION5:c:\\temp\\x.txt');
    const ads = buildEvent(
      sysmon(15, {
        ProcessGuid: CMD_GUID,
        ProcessId: '1',
        TargetFilename: 'C:\\d\\u.crdownload:Zone.Identifier',
        Hash: 'SHA1=Z',
      }),
    );
    expect(edges(ads, 'CREATED')[0]!.to).toBe('File:WORKSTATION5:c:\\d\\u.crdownload:zone.identifier');
    expect(nodes(ads, 'File')[0]!.props.hashes).toEqual(['SHA1=Z']);
    for (const id of [23, 26]) {
      const d = buildEvent(sysmon(id, { ProcessGuid: CMD_GUID, ProcessId: '1', TargetFilename: 'C:\\x.pf' }));
      expect(edges(d, 'DELETED')).toHaveLength(1);
    }
  });
  it('12 / 13 / 14 registry', () => {
    const create = buildEvent(
      sysmon(12, {
        ProcessGuid: CMD_GUID,
        ProcessId: '1',
        EventType: 'CreateKey',
        TargetObject: '\\REGISTRY\\MACHINE\\SOFTWARE\\Foo',
      }),
    );
    expect(edges(create, 'CREATED_KEY')[0]!.to).toBe('RegistryKey:WORKSTATION5:hklm\\software\\foo');
    expect(nodes(create, 'RegistryKey')[0]!.props.path).toBe('HKLM\\SOFTWARE\\Foo');
    const del = buildEvent(
      sysmon(12, {
        ProcessGuid: CMD_GUID,
        ProcessId: '1',
        EventType: 'DeleteKey',
        TargetObject: 'HKLM\\SOFTWARE\\Foo',
      }),
    );
    expect(edges(del, 'DELETED_KEY')[0]!.to).toBe('RegistryKey:WORKSTATION5:hklm\\software\\foo');
    const set = buildEvent(
      sysmon(13, {
        ProcessGuid: CMD_GUID,
        ProcessId: '1',
        EventType: 'SetValue',
        TargetObject: 'HKLM\\SOFTWARE\\Foo\\Bar',
        Details: 'DWORD (0x00000044)',
      }),
    );
    expect(edges(set, 'SET_VALUE')[0]).toMatchObject({
      to: 'RegistryKey:WORKSTATION5:hklm\\software\\foo',
      props: { details: ['Bar=DWORD (0x00000044)'] },
    });
    expect(nodes(set, 'RegistryKey')[0]!.props.values).toEqual(['Bar']);
    const long = buildEvent(
      sysmon(13, {
        ProcessGuid: CMD_GUID,
        ProcessId: '1',
        TargetObject: 'HKLM\\K\\V',
        Details: 'x'.repeat(5000),
      }),
    );
    expect((edges(long, 'SET_VALUE')[0]!.props.details as string[])[0]!.length).toBeLessThanOrEqual(256);
    const ren = buildEvent(
      sysmon(14, {
        ProcessGuid: CMD_GUID,
        ProcessId: '1',
        EventType: 'RenameKey',
        TargetObject: 'HKLM\\A',
        NewName: 'HKLM\\B',
      }),
    );
    expect(edges(ren, 'RENAMED_KEY')[0]!.props.new_name).toBe('HKLM\\B');
    const noType = buildEvent(sysmon(12, { ProcessGuid: CMD_GUID, ProcessId: '1', TargetObject: 'HKLM\\A' }));
    expect(edges(noType, 'CREATED_KEY')).toHaveLength(1);
  });
  it('17 / 18 pipes (anonymous pipes are not nodes)', () => {
    const c = buildEvent(sysmon(17, { ProcessGuid: CMD_GUID, ProcessId: '1', PipeName: '\\PSEXESVC' }));
    expect(edges(c, 'CREATED_PIPE')[0]!.to).toBe('Pipe:WORKSTATION5:\\psexesvc');
    const k = buildEvent(sysmon(18, { ProcessGuid: CMD_GUID, ProcessId: '1', PipeName: '\\psexesvc' }));
    expect(edges(k, 'CONNECTED_PIPE')[0]!.to).toBe('Pipe:WORKSTATION5:\\psexesvc');
    const anon = buildEvent(
      sysmon(17, { ProcessGuid: CMD_GUID, ProcessId: '1', PipeName: '<Anonymous Pipe>' }),
    );
    expect(nodes(anon, 'Pipe')).toHaveLength(0);
  });
  it('22 DNS: only IPs of QueryResults, unknown process by pid', () => {
    const f = buildEvent(
      sysmon(22, {
        ProcessGuid: '{00000000-0000-0000-0000-000000000000}',
        ProcessId: '7256',
        Image: '<unknown process>',
        QueryName: 'Outlook.Office365.com.',
        QueryResults: 'type:  5 outlook.ms-acdc.office.com;::ffff:52.96.35.2;::ffff:52.96.87.242;',
      }),
    );
    expectWellFormed(f);
    expect(f.refs.actor!.guid).toBeUndefined();
    expect(f.refs.actor!.pid).toBe(7256);
    expect(f.refs.actor!.props.image).toBeUndefined();
    expect(nodes(f, 'DomainName').map((n) => n.key)).toEqual(['DomainName:outlook.office365.com']);
    expect(edges(f, 'RESOLVES_TO').map((e) => e.to)).toEqual([
      'IpAddress:52.96.35.2',
      'IpAddress:52.96.87.242',
    ]);
    expect(edges(f, 'RESOLVED')).toHaveLength(1);
  });
  it('queryResultIps handles both formats', () => {
    expect(queryResultIps('192.168.2.5;')).toEqual(['192.168.2.5']);
    expect(queryResultIps('::1;::ffff:127.0.0.1;')).toEqual(['::1', '127.0.0.1']);
    expect(queryResultIps('type:  5 a.b;type:  5 c.d;')).toEqual([]);
    expect(queryResultIps('-')).toEqual([]);
  });
  it('4624 logon', () => {
    const f = buildEvent(
      security(
        4624,
        {
          TargetUserName: 'pgustavo',
          TargetDomainName: 'THESHIRE',
          TargetUserSid: 'S-1-5-21-1',
          TargetLogonId: '0x72029C6',
          LogonType: '3',
          IpAddress: '::ffff:172.18.39.5',
        },
        { host: 'MORDORDC.theshire.local' },
      ),
    );
    expectWellFormed(f);
    expect(nodes(f, 'User')[0]).toMatchObject({
      key: 'User:THESHIRE\\pgustavo',
      props: { sid: 'S-1-5-21-1' },
    });
    expect(edges(f, 'LOGGED_ON')[0]).toMatchObject({
      from: 'User:THESHIRE\\pgustavo',
      to: 'Asset:MORDORDC',
      props: { logon_type: ['3'], source_ip: ['172.18.39.5'] },
    });
    expect(nodes(f, 'LogonSession')[0]!.key).toBe('LogonSession:MORDORDC:0x72029c6');
    expect(edges(f, 'IN_SESSION')).toHaveLength(1);
    expect(edges(f, 'SESSION_ON')).toHaveLength(1);
    expect(nodes(f, 'Asset')[0]!.props.fqdn).toBe('MORDORDC.theshire.local');
    // A Sigma hit on the logon sits on the session (on its host), or on the user when there is no session.
    expect(f.target).toBe('LogonSession:MORDORDC:0x72029c6');
    const noSession = buildEvent(
      security(4624, { TargetUserName: 'pgustavo', TargetDomainName: 'THESHIRE', LogonType: '3' }),
    );
    expect(noSession.target).toBe('User:THESHIRE\\pgustavo');
  });
  it('osquery process events (Sysmon id, no GUID)', () => {
    const f = buildEvent(
      other(
        'osquery',
        1,
        { ProcessId: '300', ParentProcessId: '1', Image: '/usr/bin/curl', CommandLine: 'curl x' },
        { host: 'web01' },
      ),
    );
    expect(f.refs.actor).toMatchObject({ pid: 300, created: true, asset: 'WEB01' });
    expect(f.refs.actor!.guid).toBeUndefined();
    expect(edges(f, 'EXECUTED')[0]!.to).toBe('File:WEB01:/usr/bin/curl');
  });
  it('never throws on empty or odd events', () => {
    for (const id of [1, 3, 5, 7, 8, 10, 11, 12, 13, 14, 15, 17, 18, 22, 23, 26, 4624, 4688, 9999]) {
      expect(() => buildEvent(sysmon(id, {}))).not.toThrow();
      expect(() => buildEvent(security(id, {}))).not.toThrow();
    }
    const f = buildEvent(sysmon(1, {}));
    expect(f.refs).toEqual({});
    expect(f.edges).toEqual([]);
  });
});

describe('subjectFacts: what an event outside the graph model is about (its Sigma hits sit there)', () => {
  it('a Sysmon event the model does not keep: its process, by ProcessGuid', () => {
    const tampering = subjectFacts(
      sysmon(25, {
        ProcessGuid: `{${PSEXEC_GUID}}`,
        ProcessId: '7256',
        Image: 'C:\\Tools\\PsExec.exe',
        Type: 'Image is replaced',
      }),
      'test',
    )!;
    expectWellFormed(tampering);
    expect(tampering.process).toBe(ACTOR);
    expect(tampering.refs.actor).toMatchObject({ guid: PSEXEC_GUID, pid: 7256 });
    // WMI subscriptions and Sysmon's own errors name no process: they stay on the host.
    expect(
      subjectFacts(sysmon(19, { Operation: 'Created', Name: 'Updater', Query: 'SELECT * FROM x' })),
    ).toBeUndefined();
    expect(subjectFacts(sysmon(255, { Description: 'error' }))).toBeUndefined();
  });

  it('a driver load: the driver file, which joins the story of whoever wrote it', () => {
    const f = subjectFacts(
      sysmon(6, { ImageLoaded: 'C:\\Windows\\Temp\\Zam64.sys', Hashes: 'SHA256=AB', Signed: 'true' }),
    )!;
    expectWellFormed(f);
    expect(f.process).toBeUndefined();
    expect(f.target).toBe(buildEvent(sysmon(11, { TargetFilename: 'c:\\windows\\temp\\ZAM64.SYS' })).target);
    expect(subjectFacts(sysmon(6, {}))).toBeUndefined();
  });

  it("a Security event naming a user's logon session: that session, the node the 4624 of the same id made", () => {
    const logon = buildEvent(
      security(4624, {
        TargetUserName: 'wardog',
        TargetDomainName: 'WORKSTATION5',
        TargetLogonId: '0xC61D9',
        LogonType: '10',
      }),
    );
    const logoff = subjectFacts(
      security(4634, {
        TargetUserName: 'wardog',
        TargetDomainName: 'WORKSTATION5',
        TargetLogonId: '0xc61d9',
      }),
      'rdp.jsonl',
    )!;
    // The session keeps the files it was seen in, for the findings export (no process edge reaches it).
    expect(nodes(logoff, 'LogonSession')[0]!.props.sources).toEqual(['rdp.jsonl']);
    expectWellFormed(logoff);
    expect(logoff.target).toBe(logon.target);
    expect(logoff.target).toBe('LogonSession:WORKSTATION5:0xc61d9');
    expect(edges(logoff, 'SESSION_ON')[0]).toMatchObject({ from: logoff.target, to: 'Asset:WORKSTATION5' });
    expect(edges(logoff, 'IN_SESSION')[0]).toMatchObject({
      from: 'User:WORKSTATION5\\wardog',
      to: logoff.target,
    });
    // The acting session (SubjectLogonId) of anything else: an account created by an administrator.
    const created = subjectFacts(
      security(4720, {
        SubjectUserName: 'admin',
        SubjectDomainName: 'THESHIRE',
        SubjectLogonId: '0x1A2B',
        TargetUserName: 'backdoor',
      }),
    )!;
    expect(created.target).toBe('LogonSession:WORKSTATION5:0x1a2b');
    expect(nodes(created, 'LogonSession')[0]!.props).toMatchObject({
      logon_id: '0x1a2b',
      host: 'WORKSTATION5',
      user: 'THESHIRE\\admin',
    });
    // The machine's own sessions span every boot: the host, not a session.
    for (const id of ['0x3e7', '0x3E4', '0x3e5', '0x0', '999', '-', 'junk'])
      expect(
        subjectFacts(
          security(4697, { SubjectUserName: 'WS5$', SubjectLogonId: id, ServiceName: 'PSEXESVC' }),
        ),
        id,
      ).toBeUndefined();
    expect(subjectFacts(security(1102, {}))).toBeUndefined();
    // Events outside Security do not carry these fields' meaning.
    expect(subjectFacts(other('windows', 7045, { SubjectLogonId: '0x1a2b' }))).toBeUndefined();
  });

  it('a process the event names comes before its session', () => {
    const f = subjectFacts(
      security(4656, { ProcessId: '0x1c58', ProcessName: 'C:\\Tools\\PsExec.exe', SubjectLogonId: '0x1a2b' }),
    )!;
    expect(f.process).toBe(ACTOR);
    expect(f.target).toBeUndefined();
    expect(nodes(f, 'LogonSession')).toEqual([]);
  });
});
