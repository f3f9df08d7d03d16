import { describe, expect, it } from 'vitest';
import { Channels } from '../../domain/event';
import { CompiledRuleset } from './ruleset';
import { compileYaml, detectionRule, matches, procMatch, sysmonEvent } from './test-helpers';

describe('selections', () => {
  it('ANDs the fields of a map and ORs the values of a list', () => {
    const det = `    selection:
        Image|endswith: '\\cmd.exe'
        CommandLine|contains:
            - '/c whoami'
            - '/c net user'
    condition: selection`;
    expect(procMatch(det, { Image: 'C:\\Windows\\System32\\cmd.exe', CommandLine: 'cmd /c whoami' })).toBe(
      true,
    );
    expect(
      procMatch(det, { Image: 'C:\\Windows\\System32\\cmd.exe', CommandLine: 'cmd /c NET USER x' }),
    ).toBe(true);
    expect(procMatch(det, { Image: 'C:\\Windows\\System32\\cmd.exe', CommandLine: 'cmd /c dir' })).toBe(
      false,
    );
    expect(procMatch(det, { Image: 'C:\\x\\pwsh.exe', CommandLine: 'cmd /c whoami' })).toBe(false);
  });

  it('ORs the maps of a list of maps', () => {
    const det = `    selection:
        - Image|endswith: '\\a.exe'
        - OriginalFileName: 'b.exe'
    condition: selection`;
    expect(procMatch(det, { Image: 'C:\\a.exe' })).toBe(true);
    expect(procMatch(det, { Image: 'C:\\z.exe', OriginalFileName: 'B.EXE' })).toBe(true);
    expect(procMatch(det, { Image: 'C:\\z.exe', OriginalFileName: 'c.exe' })).toBe(false);
  });

  it('matches case-insensitively by default and exactly without modifiers', () => {
    const det = `    selection:
        Image: 'C:\\Windows\\System32\\CMD.exe'
    condition: selection`;
    expect(procMatch(det, { Image: 'c:\\windows\\system32\\cmd.EXE' })).toBe(true);
    expect(procMatch(det, { Image: 'c:\\windows\\system32\\cmd.exe2' })).toBe(false);
  });

  it('uses wildcards in plain values', () => {
    const det = `    selection:
        CommandLine: '*rundll32*,#?*'
    condition: selection`;
    expect(procMatch(det, { CommandLine: 'rundll32.exe x.dll,#1' })).toBe(true);
    expect(procMatch(det, { CommandLine: 'rundll32.exe x.dll,#' })).toBe(false);
  });

  it('treats an escaped wildcard as a literal character', () => {
    const det = `    selection:
        CommandLine|contains: 'a\\*b'
    condition: selection`;
    expect(procMatch(det, { CommandLine: 'x a*b y' })).toBe(true);
    expect(procMatch(det, { CommandLine: 'x aXb y' })).toBe(false);
  });

  it('compares numbers as their decimal text', () => {
    const det = `    selection:
        TerminalSessionId: 0
    condition: selection`;
    expect(procMatch(det, { TerminalSessionId: '0' })).toBe(true);
    expect(procMatch(det, { TerminalSessionId: '1' })).toBe(false);
  });
});

describe('null and empty values', () => {
  const nullDet = `    selection:
        Image|endswith: '\\x.exe'
    filter:
        CommandLine: null
    condition: selection and not filter`;
  it('null matches an absent or empty field', () => {
    expect(procMatch(nullDet, { Image: 'C:\\x.exe' })).toBe(false);
    expect(procMatch(nullDet, { Image: 'C:\\x.exe', CommandLine: '' })).toBe(false);
    expect(procMatch(nullDet, { Image: 'C:\\x.exe', CommandLine: 'x.exe -a' })).toBe(true);
  });

  it("'' matches a present, empty field only", () => {
    const det = `    selection:
        CommandLine: ''
    condition: selection`;
    expect(procMatch(det, { CommandLine: '' })).toBe(true);
    expect(procMatch(det, { CommandLine: 'x' })).toBe(false);
    expect(procMatch(det, {})).toBe(false);
  });

  it('a field missing from the event matches no value test', () => {
    const det = `    selection:
        ParentCommandLine|contains: 'x'
    condition: not selection`;
    expect(procMatch(det, {})).toBe(true);
  });
});

describe('keywords', () => {
  it('searches every field value for a list of keywords (OR)', () => {
    const det = `    keywords:
        - 'sekurlsa::'
        - 'Invoke-Mimikatz'
    condition: keywords`;
    expect(procMatch(det, { CommandLine: 'x SEKURLSA::logonpasswords' })).toBe(true);
    expect(procMatch(det, { Image: 'C:\\x.exe', ParentCommandLine: 'powershell invoke-mimikatz' })).toBe(
      true,
    );
    expect(procMatch(det, { CommandLine: 'benign' })).toBe(false);
  });

  it('does not let a keyword straddle two fields', () => {
    const det = `    keywords:
        - 'ab'
    condition: keywords`;
    expect(procMatch(det, { A: 'xa', B: 'bx' })).toBe(false);
  });

  it("supports keyword maps with '|all' and wildcard keywords", () => {
    const det = `    keywords:
        '|all':
            - 'alpha'
            - 'beta'
    condition: keywords`;
    expect(procMatch(det, { A: 'alpha', B: 'xbetax' })).toBe(true);
    expect(procMatch(det, { A: 'alpha' })).toBe(false);
    const glob = `    keywords:
        - 'foo*bar'
    condition: keywords`;
    expect(procMatch(glob, { A: 'xx foo 1 bar yy' })).toBe(true);
    expect(procMatch(glob, { A: 'foo', B: 'bar' })).toBe(false);
  });
});

describe('modifiers', () => {
  it('contains|all requires every value', () => {
    const det = `    selection:
        CommandLine|contains|all:
            - ' -a '
            - ' -b '
    condition: selection`;
    expect(procMatch(det, { CommandLine: 'x -b  -a y' })).toBe(true);
    expect(procMatch(det, { CommandLine: 'x -a y' })).toBe(false);
  });

  it('startswith / endswith', () => {
    const det = `    selection:
        CommandLine|startswith: 'net '
        Image|endswith: '.exe'
    condition: selection`;
    expect(procMatch(det, { CommandLine: 'NET user', Image: 'a.EXE' })).toBe(true);
    expect(procMatch(det, { CommandLine: ' net user', Image: 'a.exe' })).toBe(false);
  });

  it('exists checks presence, even of an empty field', () => {
    const det = `    selection:
        ParentUser|exists: true
    condition: selection`;
    expect(procMatch(det, { ParentUser: '' })).toBe(true);
    expect(procMatch(det, {})).toBe(false);
    const absent = `    selection:
        ParentUser|exists: false
    condition: selection`;
    expect(procMatch(absent, {})).toBe(true);
  });

  it('cased matches case-sensitively', () => {
    const det = `    selection:
        CommandLine|contains|cased: 'AbC'
    condition: selection`;
    expect(procMatch(det, { CommandLine: 'xAbCx' })).toBe(true);
    expect(procMatch(det, { CommandLine: 'xabcx' })).toBe(false);
  });

  it('neq matches values different from all listed ones (and absent fields)', () => {
    const det = `    selection:
        IntegrityLevel|neq:
            - 'High'
            - 'System'
    condition: selection`;
    expect(procMatch(det, { IntegrityLevel: 'Medium' })).toBe(true);
    expect(procMatch(det, { IntegrityLevel: 'high' })).toBe(false);
    expect(procMatch(det, { IntegrityLevel: 'System' })).toBe(false);
    expect(procMatch(det, {})).toBe(true);
  });

  it('windash matches every dash variant of a switch', () => {
    const det = `    selection:
        CommandLine|contains|windash: ' -enc '
    condition: selection`;
    for (const d of ['-', '/', '\u2013', '\u2014', '\u2015'])
      expect(procMatch(det, { CommandLine: `powershell ${d}enc AAAA` })).toBe(true);
    expect(procMatch(det, { CommandLine: 'powershell +enc AAAA' })).toBe(false);
  });

  it('re is case-sensitive unless i; m and s change anchors and dot', () => {
    const re = (mods: string, value: string) => `    selection:
        CommandLine|re${mods}: '${value}'
    condition: selection`;
    expect(procMatch(re('', 'Mimi[a-z]+'), { CommandLine: 'x Mimikatz' })).toBe(true);
    expect(procMatch(re('', 'Mimi[a-z]+'), { CommandLine: 'x mimikatz' })).toBe(false);
    expect(procMatch(re('|i', 'Mimi[a-z]+'), { CommandLine: 'x mimikatz' })).toBe(true);
    expect(procMatch(re('', '(?i)mimi'), { CommandLine: 'MIMI' })).toBe(true);
    expect(procMatch(re('', '^b$'), { CommandLine: 'a\nb\nc' })).toBe(false);
    expect(procMatch(re('|m', '^b$'), { CommandLine: 'a\nb\nc' })).toBe(true);
    expect(procMatch(re('', 'a.c'), { CommandLine: 'a\nc' })).toBe(false);
    expect(procMatch(re('|s', 'a.c'), { CommandLine: 'a\nc' })).toBe(true);
  });

  it('refuses regexes RE2 cannot run in linear time (backreferences, lookahead)', () => {
    const bad = (v: string) =>
      detectionRule(`    selection:
        CommandLine|re: '${v}'
    condition: selection`);
    expect(() => compileYaml(bad('(a)\\1'))).toThrow(/not supported by RE2/);
    expect(() => compileYaml(bad('a(?=b)'))).toThrow(/not supported by RE2/);
  });

  it('base64 and base64offset|contains find encoded text', () => {
    const det = `    selection:
        CommandLine|base64offset|contains: 'Invoke-Mimikatz'
    condition: selection`;
    for (const prefix of ['', 'a', 'ab', 'abc']) {
      const encoded = Buffer.from(`${prefix}Invoke-Mimikatz -DumpCreds`).toString('base64');
      expect(procMatch(det, { CommandLine: `powershell -enc ${encoded}` })).toBe(true);
    }
    expect(
      procMatch(det, { CommandLine: `powershell -enc ${Buffer.from('Get-Process').toString('base64')}` }),
    ).toBe(false);
    const exact = `    selection:
        CommandLine|base64: 'whoami'
    condition: selection`;
    expect(procMatch(exact, { CommandLine: Buffer.from('whoami').toString('base64') })).toBe(true);
  });

  it('wide|base64offset|contains finds UTF-16LE encoded PowerShell', () => {
    const det = `    selection:
        CommandLine|wide|base64offset|contains: 'IEX'
    condition: selection`;
    const enc = Buffer.from('$x = 1; IEX (New-Object Net.WebClient)', 'utf16le').toString('base64');
    expect(procMatch(det, { CommandLine: `powershell -EncodedCommand ${enc}` })).toBe(true);
  });

  it('cidr matches addresses in any listed network', () => {
    const rule = `title: t
id: 00000000-0000-0000-0000-000000000002
logsource:
    product: windows
    category: network_connection
detection:
    selection:
        DestinationIp|cidr:
            - '10.0.0.0/8'
            - 'fe80::/10'
    condition: not selection`;
    expect(matches(rule, sysmonEvent(3, { DestinationIp: '10.1.2.3' }))).toBe(false);
    expect(matches(rule, sysmonEvent(3, { DestinationIp: 'fe80::1' }))).toBe(false);
    expect(matches(rule, sysmonEvent(3, { DestinationIp: '8.8.8.8' }))).toBe(true);
  });

  it('lt / lte / gt / gte compare numerically (decimal or 0x hex field values)', () => {
    const cmp = (op: string, n: number) => `    selection:
        ProcessId|${op}: ${n}
    condition: selection`;
    expect(procMatch(cmp('lt', 10), { ProcessId: '9' })).toBe(true);
    expect(procMatch(cmp('lt', 10), { ProcessId: '10' })).toBe(false);
    expect(procMatch(cmp('lte', 10), { ProcessId: '10' })).toBe(true);
    expect(procMatch(cmp('gt', 10), { ProcessId: '0x1660' })).toBe(true);
    expect(procMatch(cmp('gte', 5733), { ProcessId: '5733' })).toBe(true);
    expect(procMatch(cmp('gt', 10), { ProcessId: 'abc' })).toBe(false);
  });

  it('fieldref compares two fields of the same event', () => {
    const det = `    selection:
        Image|fieldref: ParentImage
    condition: selection`;
    expect(procMatch(det, { Image: 'C:\\A.exe', ParentImage: 'c:\\a.exe' })).toBe(true);
    expect(procMatch(det, { Image: 'C:\\A.exe', ParentImage: 'c:\\b.exe' })).toBe(false);
    expect(procMatch(det, { Image: 'C:\\A.exe' })).toBe(false);
    const neq = `    selection:
        User|fieldref|neq: ParentUser
    condition: selection`;
    expect(procMatch(neq, { User: 'a', ParentUser: 'b' })).toBe(true);
    expect(procMatch(neq, { User: 'a', ParentUser: 'A' })).toBe(false);
    const ends = `    selection:
        CommandLine|fieldref|endswith: Image
    condition: selection`;
    expect(procMatch(ends, { CommandLine: '"x" C:\\a.exe', Image: 'c:\\A.exe' })).toBe(true);
  });

  it('expand substitutes placeholders from the configuration', () => {
    const det = `    selection:
        User|expand: '%admins%'
    condition: selection`;
    const ph = { admins: ['CORP\\admin*', 'CORP\\root'] };
    expect(procMatch(det, { User: 'corp\\administrator' }, ph)).toBe(true);
    expect(procMatch(det, { User: 'corp\\root' }, ph)).toBe(true);
    expect(procMatch(det, { User: 'corp\\alice' }, ph)).toBe(false);
    expect(() => compileYaml(detectionRule(det))).toThrow(/undefined placeholder %admins%/);
  });

  it('time modifiers extract a component of a date field', () => {
    const det = `    selection:
        UtcTime|hour|gte: 22
    condition: selection`;
    expect(procMatch(det, { UtcTime: '2023-08-27 23:04:14.801' })).toBe(true);
    expect(procMatch(det, { UtcTime: '2023-08-27 03:04:14.801' })).toBe(false);
  });

  it('rejects unknown modifiers and contradictory combinations', () => {
    const rule = (key: string) =>
      detectionRule(`    selection:
        ${key}: 'x'
    condition: selection`);
    expect(() => compileYaml(rule('CommandLine|frobnicate'))).toThrow(/unsupported modifier 'frobnicate'/);
    expect(() => compileYaml(rule('CommandLine|re|contains'))).toThrow(/cannot be combined/);
    expect(() => compileYaml(rule('CommandLine|contains|base64'))).toThrow(/wildcards/);
    expect(() => compileYaml(rule('CommandLine|i'))).toThrow(/without 're'/);
  });
});

describe('conditions over selections', () => {
  it('evaluates 1 of / all of / not with filters', () => {
    const det = `    selection_img:
        Image|endswith: '\\reg.exe'
    selection_cli:
        CommandLine|contains: ' save '
    filter_main_system:
        User|contains: 'SYSTEM'
    filter_optional_admin:
        User|contains: 'admin'
    condition: all of selection_* and not 1 of filter_*`;
    expect(procMatch(det, { Image: 'C:\\reg.exe', CommandLine: 'reg save hklm\\sam', User: 'bob' })).toBe(
      true,
    );
    expect(
      procMatch(det, {
        Image: 'C:\\reg.exe',
        CommandLine: 'reg save hklm\\sam',
        User: 'NT AUTHORITY\\SYSTEM',
      }),
    ).toBe(false);
    expect(procMatch(det, { Image: 'C:\\reg.exe', CommandLine: 'reg query', User: 'bob' })).toBe(false);
  });

  it('supports a legacy list of conditions as their OR', () => {
    const det = `    a:
        Image|endswith: '\\a.exe'
    b:
        Image|endswith: '\\b.exe'
    condition:
        - a
        - b`;
    expect(procMatch(det, { Image: 'C:\\b.exe' })).toBe(true);
  });
});

describe('logsource and field mapping', () => {
  it('process_creation rules also run on Security 4688 with Security field names', () => {
    const rule = compileYaml(
      detectionRule(`    selection:
        Image|endswith: '\\whoami.exe'
        ParentImage|endswith: '\\cmd.exe'
        IntegrityLevel: 'S-1-16-12288'
    condition: selection`),
    );
    const rs = new CompiledRuleset([rule]);
    const sec = {
      source: 'security' as const,
      channel: Channels.security,
      eventId: 4688,
      host: 'WS01',
      time: 0,
      fields: {
        NewProcessName: 'C:\\Windows\\System32\\whoami.exe',
        ParentProcessName: 'C:\\Windows\\System32\\cmd.exe',
        MandatoryLabel: 'S-1-16-12288',
      },
    };
    expect(rs.evaluate(sec)).toHaveLength(1);
    expect(rs.evaluate({ ...sec, channel: 'security' })).toHaveLength(1);
    expect(rs.evaluate({ ...sec, eventId: 4689 })).toHaveLength(0);
  });

  it('maps EventID, Channel, Provider_Name and Computer to the event envelope', () => {
    const rule = `title: t
id: 00000000-0000-0000-0000-000000000003
logsource:
    product: windows
    service: system
detection:
    selection:
        Provider_Name: 'Service Control Manager'
        EventID: 7045
        Channel: System
        Computer|startswith: 'DC'
    condition: selection`;
    const ev = {
      source: 'windows' as const,
      channel: 'System',
      provider: 'Service Control Manager',
      eventId: 7045,
      host: 'DC01.corp',
      time: 0,
      fields: { ServiceName: 'x' },
    };
    expect(matches(rule, ev)).toBe(true);
    expect(matches(rule, { ...ev, host: 'WS01' })).toBe(false);
  });

  it('indexes service rules by the EventIDs their condition requires', () => {
    const rule = compileYaml(`title: t
id: 00000000-0000-0000-0000-000000000004
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID:
            - 4624
            - 4625
        LogonType: 3
    filter:
        EventID: 4625
        Status: '0xc000006a'
    condition: selection and not filter`);
    expect(rule.targets.map((t) => t.eventId).sort()).toEqual([4624, 4625]);
  });

  it('finds fields whose provider names contain spaces (Defender: "Threat Name")', () => {
    const rule = `title: t
id: 00000000-0000-0000-0000-000000000005
logsource:
    product: windows
    service: windefend
detection:
    selection:
        ThreatName|contains: 'EICAR'
    condition: selection`;
    const ev = {
      source: 'windows' as const,
      channel: 'Microsoft-Windows-Windows Defender/Operational',
      eventId: 1116,
      host: 'WS01',
      time: 0,
      fields: { 'Threat Name': 'Virus:DOS/EICAR_Test_File' },
    };
    expect(matches(rule, ev)).toBe(true);
  });
});

describe('matches', () => {
  it('carry rule metadata, risk score and ATT&CK techniques', () => {
    const rule = compileYaml(
      detectionRule(`    selection:
        Image|endswith: '\\x.exe'
    condition: selection`),
    );
    const [m] = new CompiledRuleset([rule]).evaluate(sysmonEvent(1, { Image: 'C:\\x.exe' }));
    expect(m).toEqual({
      ruleId: '00000000-0000-0000-0000-000000000001',
      title: 'test rule',
      level: 'high',
      riskScore: 70,
      techniques: ['T1059.001'],
      tags: ['attack.execution', 'attack.t1059.001'],
      status: 'test',
    });
  });
});
