/**
 * Every built-in analyzer on a small graph built from real recorded attacks: the events of a few
 * processes are taken from a dataset of ../shared/data, replayed under this test's own namespace (hosts,
 * GUIDs and IP addresses remapped), run through buildEvent -> resolveIdentities -> mergeSubgraphs into the
 * shared Neo4j, and the analyzers run anchored on the keys the merge reported changed. Each case checks
 * the malicious process fires and a benign neighbour from the same recording does not.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hit } from '../../../domain/detection';
import type { NormalizedEvent } from '../../../domain/event';
import { createLogger } from '../../../lib/log';
import type { GraphGateway } from '../../../lib/neo4j';
import { ensureGraphSchema } from '../../merge';
import { gatewayFromEnv } from '../../merge/test-support';
import { replayGuid } from '../../stages/parse/replay';
import { FOLLOWERS } from '../follow';
import { createAnalyzerHost, loadAnalyzers, type RunningHost } from '../host';
import { GraphRarity } from '../sdk/rarity';
import { ingestEvents, keysOfGuids, namespaced, newTag, planOffenders, readEvents } from '../test-support';

const DATA = path.resolve(import.meta.dirname, '../../../../shared/data');
const SYSMON = (f: string) => path.join(DATA, 'sysmon-json', f);
const EVTX = (f: string) => path.join(DATA, 'evtx-jsonl', f);

let gateway: GraphGateway;
let host: RunningHost;
const cache = new Map<string, Promise<NormalizedEvent[]>>();

beforeAll(async () => {
  gateway = gatewayFromEnv();
  await ensureGraphSchema(gateway);
  const { analyzers, report } = await loadAnalyzers(undefined);
  expect(report.failed).toEqual([]);
  host = createAnalyzerHost(gateway, analyzers, createLogger({ test: 'analyzers-int' }, 'error'), {
    rarity: new GraphRarity(gateway, { ttlMs: 0 }),
  });
});

afterAll(async () => {
  await gateway?.close();
});

function events(file: string): Promise<NormalizedEvent[]> {
  let p = cache.get(file);
  if (!p) {
    p = readEvents(file);
    cache.set(file, p);
  }
  return p;
}

const norm = (g: string) => g.replace(/[{}]/g, '').toUpperCase();

interface Scenario {
  hits: Hit[];
  /** Graph key of a process by its recorded ProcessGuid. */
  key(guid: string): string;
  /** Keys of the processes whose image ends with `name`. */
  byImage(name: string): Promise<string[]>;
  fired(analyzer: string, key: string): boolean;
}

/**
 * The events of a recording that concern `guids` (acting process, or source of an access/injection),
 * optionally only some event ids, plus `extra` events; replayed under a fresh namespace and merged.
 */
async function scenario(
  files: string[],
  opts: { guids?: string[]; eventIds?: number[]; extra?: (e: NormalizedEvent) => boolean; all?: boolean },
): Promise<Scenario> {
  const tag = newTag();
  const set = new Set((opts.guids ?? []).map(norm));
  const acts = (e: NormalizedEvent) =>
    [e.fields.ProcessGuid, e.fields.SourceProcessGuid].some((g) => g !== undefined && set.has(g)) &&
    (!opts.eventIds || opts.eventIds.includes(e.eventId));
  const picked: NormalizedEvent[] = [];
  for (const f of files)
    for (const e of await events(f))
      if (opts.all || acts(e) || opts.extra?.(e)) picked.push(namespaced(e, tag));
  picked.sort((a, b) => a.time - b.time);
  expect(picked.length).toBeGreaterThan(0);
  const changed = await ingestEvents(gateway, picked, { origin: `analyzer-int-${tag}` });
  const hits = await host.run(changed);
  expect(host.lastRun.failed).toEqual([]);
  // Every process the picked events mention, by its replayed GUID.
  const mentioned = new Set<string>();
  for (const e of picked) {
    for (const f of ['ProcessGuid', 'ParentProcessGuid', 'SourceProcessGuid', 'TargetProcessGuid'])
      if (e.fields[f]) mentioned.add(e.fields[f]!);
  }
  const keys = await keysOfGuids(gateway, [...mentioned]);
  const key = (guid: string) => {
    const k = keys.get(replayGuid(norm(guid), tag));
    if (!k) throw new Error(`process ${guid} not in the graph`);
    return k;
  };
  const byImage = async (name: string) =>
    (
      await gateway.query<{ key: string }>(
        'analyzer-int.by-image',
        'MATCH (p:Process) WHERE p.host ENDS WITH $suffix AND toLower(p.image) ENDS WITH $name RETURN p.key AS key',
        { suffix: `-${tag.toUpperCase()}`, name: name.toLowerCase() },
      )
    ).map((r) => r.key);
  const fired = (analyzer: string, k: string) =>
    hits.some((h) => h.detection === `analyzer:${analyzer}` && h.riskyNodes.includes(k));
  return { hits, key, byImage, fired };
}

const detectionsOn = (s: Scenario, k: string) =>
  s.hits.filter((h) => h.riskyNodes.includes(k)).map((h) => h.detection.replace('analyzer:', ''));

describe('credential access', () => {
  it('comsvcs MiniDump: lsass access, dump file and command line on rundll32, not on its PowerShell parent', async () => {
    const rundll32 = '39E4A257-D4AD-5F8C-3303-000000000700';
    const parent = '39E4A257-D445-5F8C-2C03-000000000700';
    const s = await scenario([SYSMON('psh_lsass_memory_dump_comsvcs.jsonl')], { guids: [rundll32, parent] });
    for (const a of ['lsass-access', 'lsass-dump-file', 'credential-dump-commandline'])
      expect(s.fired(a, s.key(rundll32)), a).toBe(true);
    expect(detectionsOn(s, s.key(parent))).not.toContain('lsass-access');
  });

  it('Task Manager "create dump file": the dumping instance fires, the other Task Manager does not', async () => {
    const dumper = 'B34BC01C-B7F3-5F69-DF02-000000000900';
    const other = 'B34BC01C-B7F3-5F69-DD02-000000000900';
    const s = await scenario([SYSMON('rdp_interactive_taskmanager_lsass_dump.jsonl')], {
      guids: [dumper, other],
      eventIds: [1, 10, 11],
    });
    expect(s.fired('lsass-dump-file', s.key(dumper))).toBe(true);
    expect(s.fired('lsass-access', s.key(dumper))).toBe(true);
    expect(detectionsOn(s, s.key(other))).toEqual([]);
  });

  it('Dumpert direct syscalls: full access with a dump written', async () => {
    const dumpert = '39E4A257-004E-5F8D-4304-000000000700';
    const s = await scenario([SYSMON('cmd_lsass_memory_dumpert_syscalls.jsonl')], { guids: [dumpert] });
    expect(s.fired('lsass-dump-file', s.key(dumpert))).toBe(true);
    expect(s.fired('lsass-access', s.key(dumpert))).toBe(true);
  });

  it('PsExec -s reg save of LSA secrets: hive export on reg.exe and PsExec, dropped service binary, conhost only as its console', async () => {
    const psexec = '39E4A257-40A6-5F8D-A005-000000000700';
    const svc = '39E4A257-40A6-5F8D-A105-000000000700';
    const reg = '39E4A257-40A6-5F8D-A205-000000000700';
    const conhost = '39E4A257-40A6-5F8D-A305-000000000700';
    const s = await scenario([SYSMON('cmd_psexec_lsa_secrets_dump.jsonl')], {
      guids: [psexec, svc, reg, conhost],
    });
    expect(s.fired('credential-dump-commandline', s.key(reg))).toBe(true);
    expect(s.fired('credential-dump-commandline', s.key(psexec))).toBe(true);
    expect(s.fired('dropped-executable-run', s.key(svc))).toBe(true);
    expect(s.fired('dropped-executable-run', s.key(psexec))).toBe(true);
    expect(s.fired('remote-execution', s.key(svc))).toBe(true);
    expect(detectionsOn(s, s.key(conhost))).toEqual(['console-host']);
  });
});

describe('execution', () => {
  it('VBS launcher: script host child, encoded PowerShell with a cradle, beaconing; WMI provider host clean', async () => {
    const wscript = '860BA2E3-9F13-5F52-2603-000000000400';
    const ps = '860BA2E3-9F13-5F52-2703-000000000400';
    const wmi = '860BA2E3-9F19-5F52-2903-000000000400';
    const s = await scenario([SYSMON('empire_launcher_vbs.jsonl')], {
      guids: [wscript, ps, wmi],
      eventIds: [1, 3],
    });
    expect(s.fired('script-host-child', s.key(ps))).toBe(true);
    expect(s.fired('script-host-child', s.key(wscript))).toBe(true);
    expect(s.fired('encoded-powershell', s.key(ps))).toBe(true);
    expect(s.fired('powershell-download-cradle', s.key(ps))).toBe(true);
    expect(s.fired('script-host-network', s.key(ps))).toBe(true);
    expect(detectionsOn(s, s.key(wmi))).toEqual([]);
  });

  it('mshta vbscript:Execute: LOLBin proxy execution and its PowerShell child', async () => {
    const mshta = '39E4A257-2D77-5F91-6B13-000000000700';
    const ps = '39E4A257-2D78-5F91-6C13-000000000700';
    const conhost = '39E4A257-2D78-5F91-6D13-000000000700';
    const s = await scenario([SYSMON('cmd_mshta_vbscript_execute_psh.jsonl')], {
      guids: [mshta, ps, conhost],
      eventIds: [1],
    });
    expect(s.fired('lolbin-proxy-execution', s.key(mshta))).toBe(true);
    expect(s.fired('script-host-child', s.key(ps))).toBe(true);
    // Follow-up: the console of the flagged PowerShell belongs to it (and is nothing more).
    expect(detectionsOn(s, s.key(conhost))).toEqual(['console-host']);
    const con = s.hits.find((h) => h.detection === 'analyzer:console-host');
    expect(con?.contextNodes).toEqual([s.key(ps)]);
    expect(con?.techniques).toEqual([]);
  });

  it('bitsadmin /transfer: BITS download fires, the BITS service host does not', async () => {
    const bits = '39E4A257-79FB-5F92-7117-000000000700';
    const svc = '39E4A257-79FB-5F92-7217-000000000700';
    const s = await scenario([SYSMON('cmd_bitsadmin_download_psh_script.jsonl')], { guids: [bits, svc] });
    expect(s.fired('lolbin-proxy-execution', s.key(bits))).toBe(true);
    expect(detectionsOn(s, s.key(svc))).toEqual([]);
  });

  it('drive-by payload: browser download executed, recon burst from its shell, lsass dump; Edge helpers and lab tracing clean', async () => {
    const payload = '716D09E4-C8A0-64EB-5303-000000000600';
    const edge = '716D09E4-C87F-64EB-4903-000000000600';
    const cmd = '716D09E4-C8BB-64EB-5503-000000000600';
    const whoami = '716D09E4-C8CC-64EB-5C03-000000000600';
    const recon = ['716D09E4-C8BF-64EB-5703-000000000600', '716D09E4-C8CC-64EB-5D03-000000000600'];
    const helper = '716D09E4-C87F-64EB-4703-000000000600';
    const netTrace = '716D09E4-C9A9-64EB-9D03-000000000600';
    const s = await scenario([SYSMON('metasploit_out-minidump_lsass_memory_dump.jsonl.gz')], {
      guids: [payload, edge, cmd, whoami, ...recon, helper, netTrace],
      eventIds: [1, 3, 10, 11, 15],
    });
    expect(s.fired('browser-download-executed', s.key(payload))).toBe(true);
    expect(s.fired('user-folder-program-network', s.key(payload))).toBe(true);
    expect(s.fired('lsass-access', s.key(payload))).toBe(true);
    expect(s.fired('lsass-dump-file', s.key(payload))).toBe(true);
    // The dumper holds its Meterpreter channel open: the dump can leave by it.
    const dump = s.hits.find(
      (h) => h.detection === 'analyzer:lsass-dump-file' && h.riskyNodes.includes(s.key(payload)),
    );
    expect(dump?.techniques).toContain('T1041');
    expect(s.fired('discovery-tools', s.key(whoami))).toBe(true);
    expect(s.fired('discovery-tools', s.key(cmd))).toBe(true);
    expect(detectionsOn(s, s.key(helper))).toEqual([]);
    expect(detectionsOn(s, s.key(netTrace))).not.toContain('discovery-tools');
  }, 240_000);

  it('schtasks /create through cmd: both fire, the SCOM script host does not', async () => {
    const cmd = '67E11D8C-EB56-5FDD-1F97-000000000700';
    const schtasks = '67E11D8C-EB56-5FDD-2097-000000000700';
    const scom = '67E11D8C-EB52-5FDD-1D97-000000000700';
    const s = await scenario([SYSMON('schtask_create.jsonl')], {
      guids: [cmd, schtasks, scom],
      eventIds: [1],
    });
    expect(s.fired('scheduled-task', s.key(cmd))).toBe(true);
    expect(s.fired('scheduled-task', s.key(schtasks))).toBe(true);
    expect(detectionsOn(s, s.key(scom))).toEqual([]);
  });
});

describe('lateral movement', () => {
  it('PsExec-style service over DCE/RPC: the service shell fires with its source on the other host; RPCSS clean', async () => {
    const shell = 'D273D0F0-8078-5F67-CB06-000000000800';
    const services = 'D273D0F0-E865-5F64-0B00-000000000800';
    const source = 'B34BC01C-7DFC-5F67-DE11-000000000400';
    const rpcss = 'D273D0F0-E867-5F64-1200-000000000800';
    const s = await scenario([SYSMON('empire_psexec_dcerpc_tcp_svcctl.jsonl')], {
      guids: [shell, source, rpcss],
      eventIds: [1, 3],
      extra: (e) =>
        e.fields.ProcessGuid === services &&
        (e.eventId === 3 || (e.eventId === 13 && /\\Services\\Updater\\/i.test(e.fields.TargetObject ?? ''))),
    });
    expect(s.fired('remote-execution', s.key(shell))).toBe(true);
    expect(s.fired('remote-execution', s.key(source))).toBe(true);
    expect(
      s.hits.some(
        (h) =>
          h.detection === 'analyzer:service-install-registry' &&
          h.riskyNodes.some((k) => k.startsWith('RegistryKey:')),
      ),
    ).toBe(true);
    expect(detectionsOn(s, s.key(rpcss))).toEqual([]);
    expect(detectionsOn(s, s.key(services))).toEqual([]);
  });

  it('DCOM Excel automation: Office accepting a remote connection, its source and its children', async () => {
    const excel = 'D273D0F0-D91D-5F63-6B05-000000000400';
    const mover = 'B34BC01C-D91D-5F63-4106-000000000400';
    const surrogate = 'D273D0F0-D92D-5F63-7305-000000000400';
    const onedrive = 'D273D0F0-D929-5F63-7105-000000000400';
    const s = await scenario([SYSMON('covenant_dcom_executeexcel4macro_allowed.jsonl')], {
      guids: [excel, mover, surrogate, onedrive],
      eventIds: [1, 3],
    });
    expect(s.fired('client-app-inbound', s.key(excel))).toBe(true);
    expect(s.fired('client-app-inbound', s.key(mover))).toBe(true);
    expect(s.fired('office-child', s.key(surrogate))).toBe(true);
    expect(detectionsOn(s, s.key(onedrive))).toEqual([]);
  });

  it('impacket wmiexec: WMI provider host starting cmd', async () => {
    const s = await scenario([EVTX('Lateral Movement/LM_wmiexec_impacket_sysmon_whoami.jsonl')], {
      all: true,
    });
    const shells = await s.byImage('\\cmd.exe');
    expect(shells.some((k) => s.fired('remote-execution', k))).toBe(true);
  });
});

describe('privilege escalation and defence evasion', () => {
  it('fodhelper UAC bypass: the hijack writer, the elevated child and fodhelper fire; consent.exe does not', async () => {
    const fodhelper = '3DDC5665-ED05-5F51-F002-000000000500';
    const child = '3DDC5665-ED06-5F51-F102-000000000500';
    const writer = '3DDC5665-E80D-5F51-2501-000000000500';
    const consent = '3DDC5665-ED05-5F51-EF02-000000000500';
    const s = await scenario([SYSMON('empire_uac_shellapi_fodhelper.jsonl')], {
      guids: [fodhelper, child, consent],
      eventIds: [1, 12, 13],
      extra: (e) =>
        e.fields.ProcessGuid === writer &&
        (e.eventId === 12 || e.eventId === 13) &&
        /ms-settings/i.test(e.fields.TargetObject ?? ''),
    });
    expect(s.fired('uac-bypass-auto-elevate', s.key(child))).toBe(true);
    expect(s.fired('uac-bypass-auto-elevate', s.key(fodhelper))).toBe(true);
    expect(s.fired('uac-bypass-registry', s.key(writer))).toBe(true);
    expect(detectionsOn(s, s.key(consent))).toEqual([]);
  });

  it('Meterpreter getsystem: echo into a named pipe from a service', async () => {
    const s = await scenario(
      [EVTX('Privilege Escalation/sysmon_13_1_meterpreter_getsystem_NamedPipeImpersonation.jsonl')],
      { all: true },
    );
    const shells = await s.byImage('\\cmd.exe');
    expect(shells.some((k) => s.fired('getsystem-named-pipe', k))).toBe(true);
  });

  it('CreateRemoteThread: meterpreter migrate fires, csrss console control does not', async () => {
    const s = await scenario(
      [
        EVTX('Defense Evasion/meterpreter_migrate_to_explorer_sysmon_8.jsonl'),
        SYSMON('schtask_create.jsonl'),
      ],
      {
        extra: (e) =>
          e.eventId === 8 || (e.eventId === 1 && /\\(m|powershell)\.exe$/i.test(e.fields.Image ?? '')),
      },
    );
    const injectors = await s.byImage('\\m.exe');
    expect(injectors.some((k) => s.fired('remote-thread-injection', k))).toBe(true);
    for (const k of await s.byImage('\\csrss.exe')) expect(detectionsOn(s, k)).toEqual([]);
  });

  it('process hollowing into svchost: svchost with a foreign parent', async () => {
    const s = await scenario(
      [EVTX('Defense Evasion/apt10_jjs_sideloading_prochollowing_persist_as_service_sysmon_1_7_8_13.jsonl')],
      { all: true },
    );
    const svchosts = await s.byImage('\\svchost.exe');
    expect(svchosts.some((k) => s.fired('suspicious-svchost', k))).toBe(true);
  });
});

describe('persistence and impact', () => {
  it('Remote Desktop enabled through reg.exe and netsh; notepad beaconing; WinRM svchost clean', async () => {
    const reg = '03BA39F5-6CF6-5CE0-0000-0010348C0E02';
    const netsh = '03BA39F5-6CF6-5CE0-0000-0010F78E0E02';
    const notepad = '03BA39F5-652C-5CE0-0000-0010760BFF01';
    const winrm = 'AA6B4A20-E96E-5CDA-0000-00109C120A00';
    const s = await scenario([SYSMON('empire_enable_rdp.jsonl')], {
      guids: [reg, netsh, notepad, winrm],
      eventIds: [1, 3, 12, 13],
    });
    expect(s.fired('remote-desktop-enabled', s.key(reg))).toBe(true);
    expect(s.fired('remote-access-commandline', s.key(reg))).toBe(true);
    expect(s.fired('remote-access-commandline', s.key(netsh))).toBe(true);
    expect(s.fired('unexpected-network-program', s.key(notepad))).toBe(true);
    expect(detectionsOn(s, s.key(winrm))).toEqual([]);
  });

  it('SilentProcessExit image hijack: autostart registry value', async () => {
    const s = await scenario(
      [EVTX('Persistence/persistence_SilentProcessExit_ImageHijack_sysmon_13_1.jsonl')],
      { all: true },
    );
    expect(s.hits.some((h) => h.detection === 'analyzer:registry-persistence')).toBe(true);
  });
});

/**
 * Techniques the development sets do not show, on the labelled EVTX samples: the whole (small) recording
 * replayed; the analyzer must fire on the named process and stay quiet on its benign neighbour.
 */
describe('labelled attack samples', () => {
  const cases: Array<{ file: string; analyzer: string; on: string; notOn?: string }> = [
    {
      file: 'Lateral Movement/LM_typical_IIS_webshell_sysmon_1_10_traces.jsonl',
      analyzer: 'server-app-shell',
      on: '\\cmd.exe',
      notOn: '\\net1.exe',
    },
    {
      file: 'Lateral Movement/sysmon_1_exec_via_sql_xpcmdshell.jsonl',
      analyzer: 'server-app-shell',
      on: '\\cmd.exe',
    },
    {
      file: 'Lateral Movement/LM_tsclient_startup_folder.jsonl',
      analyzer: 'startup-folder-file',
      on: '\\mstsc.exe',
      notOn: '\\rundll32.exe',
    },
    {
      file: 'Privilege Escalation/sysmon_1_7_11_sysprep_uacbypass.jsonl',
      analyzer: 'dll-hijack-system-folder',
      on: '\\sysprep.exe',
      notOn: '\\makecab.exe',
    },
    {
      file: 'Privilege Escalation/sysmon_1_7_11_sysprep_uacbypass.jsonl',
      analyzer: 'lolbin-proxy-execution',
      on: '\\wusa.exe',
      notOn: '\\makecab.exe',
    },
    {
      file: 'Defense Evasion/de_portforward_netsh_rdp_sysmon_13_1.jsonl',
      analyzer: 'remote-desktop-enabled',
      on: '\\netsh.exe',
      notOn: '\\cmd.exe',
    },
    {
      file: 'Persistence/persist_turla_outlook_backdoor_comhijack.jsonl',
      analyzer: 'registry-persistence',
      on: '\\reg.exe',
    },
    {
      file: 'Lateral Movement/LM_sysmon_3_DCOM_ShellBrowserWindow_ShellWindows.jsonl',
      analyzer: 'client-app-inbound',
      on: '\\explorer.exe',
    },
    {
      file: 'Credential Access/sysmon_10_lsass_mimikatz_sekurlsa_logonpasswords.jsonl',
      analyzer: 'lsass-access',
      on: '\\mimikatz.exe',
    },
    {
      file: 'Execution/exec_sysmon_lobin_regsvr32_sct.jsonl',
      analyzer: 'lolbin-proxy-execution',
      on: '\\regsvr32.exe',
    },
    {
      file: 'Defense Evasion/de_powershell_execpolicy_changed_sysmon_13.jsonl',
      analyzer: 'security-registry-tamper',
      on: '\\powershell.exe',
    },
    {
      file: 'Defense Evasion/sysmon_10_1_ppid_spoofing.jsonl',
      analyzer: 'process-tampering-access',
      on: '\\cmd.exe',
      notOn: '\\svchost.exe',
    },
    {
      file: 'Defense Evasion/Sysmon_10_Evasion_Suspicious_NtOpenProcess_CallTrace.jsonl',
      analyzer: 'process-tampering-access',
      on: '\\za3bollo.exe',
    },
    {
      file: 'Credential Access/CA_Mimikatz_Memssp_Default_Logs_Sysmon_11.jsonl',
      analyzer: 'lsass-file-write',
      on: '\\lsass.exe',
    },
    {
      file: 'Defense Evasion/de_hiding_files_via_attrib_cmdlet.jsonl',
      analyzer: 'defense-evasion-commandline',
      on: '\\attrib.exe',
    },
    {
      file: 'Persistence/persist_valid_account_guest_rid_hijack.jsonl',
      analyzer: 'account-registry-change',
      on: '\\msbuild.exe',
      notOn: '\\services.exe',
    },
    {
      file: 'Lateral Movement/LM_add_new_namedpipe_tp_nullsession_registry_turla_like_ttp.jsonl',
      analyzer: 'account-registry-change',
      on: '\\reg.exe',
    },
    {
      file: 'Persistence/persistence_pendingGPO_sysmon_13.jsonl',
      analyzer: 'account-registry-change',
      on: '\\regedit.exe',
      notOn: '\\explorer.exe',
    },
    {
      file: 'Defense Evasion/Sysmon_12_DE_AntiForensics_MRU_DeleteKey.jsonl',
      analyzer: 'mru-deleted',
      on: '\\regedit.exe',
      notOn: '\\mmc.exe',
    },
    {
      file: 'Defense Evasion/de_sysmon_13_VBA_Security_AccessVBOM.jsonl',
      analyzer: 'security-registry-tamper',
      on: '\\wmiprvse.exe',
    },
    {
      file: 'Execution/exec_sysmon_1_11_lolbin_rundll32_shdocvw_openurl.jsonl',
      analyzer: 'lolbin-proxy-execution',
      on: '\\rundll32.exe',
      notOn: '\\python.exe',
    },
  ];
  it('account-registry-change: a hidden local account is a risky SAM key, written by lsass as context', async () => {
    const s = await scenario([EVTX('Persistence/persistence_hidden_local_account_sysmon.jsonl')], {
      all: true,
    });
    const hit = s.hits.find((h) => h.detection === 'analyzer:account-registry-change');
    expect(hit?.riskyNodes.every((k) => k.startsWith('RegistryKey:'))).toBe(true);
    expect(hit?.techniques).toContain('T1564.002');
  });

  for (const c of cases) {
    it(`${c.analyzer}: ${path.basename(c.file, '.jsonl')}`, async () => {
      const s = await scenario([EVTX(c.file)], { all: true });
      const on = await s.byImage(c.on);
      expect(on.length, `no ${c.on} in the sample`).toBeGreaterThan(0);
      expect(on.some((k) => s.fired(c.analyzer, k))).toBe(true);
      if (c.notOn) {
        const off = await s.byImage(c.notOn);
        expect(off.length, `no ${c.notOn} in the sample`).toBeGreaterThan(0);
        for (const k of off) expect(s.fired(c.analyzer, k)).toBe(false);
      }
    });
  }
});

describe('query plans', () => {
  // See planOffenders (../test-support.ts); plans.int.test.ts checks the plans a nearly empty graph gives.
  it('every analyzer looks nodes up in an index only at its anchors, on a graph of real recordings', async () => {
    const { analyzers } = await loadAnalyzers(undefined);
    expect(await planOffenders(gateway, [...analyzers, ...FOLLOWERS])).toEqual([]);
  });
});
