/**
 * Code run on this host on behalf of another: the service control manager (PsExec, SMBExec, Impacket,
 * Empire/Metasploit psexec), WMI (wmiexec, Invoke-WmiMethod Win32_Process Create), WinRM (wsmprovhost,
 * winrshost), WMI event consumers (scrcons) and DCOM MMC starting a shell, script host or LOLBin, or a
 * service binary from outside the system folders.
 *
 * Where the telemetry shows it, the hit is tied to its origin: inbound connections accepted on this host
 * shortly before the start, and the processes on other hosts that made them (both ends of a connection
 * share one endpoint node). Those remote processes are flagged as the source of the lateral movement.
 */
import {
  allOf,
  basename,
  defineAnalyzer,
  describeProcess,
  exists,
  imageName,
  list,
  match,
  not,
  quote,
  regex,
  text,
} from '../sdk';
import { isSystemPath } from '../sdk/windows';
import { EXECUTION_TOOLS, REMOTE_EXEC_PARENTS } from './_lists';
import { image, REMOTE_IP, startedAt } from './_util';

const TECHNIQUES: Record<string, readonly string[]> = {
  'services.exe': ['T1569.002', 'T1021.002'],
  'wmiprvse.exe': ['T1047'],
  'wsmprovhost.exe': ['T1021.006'],
  'winrshost.exe': ['T1021.006'],
  'scrcons.exe': ['T1546.003'],
  'mmc.exe': ['T1021.003'],
};

const SYSTEM_FOLDER = String.raw`^([a-z]:|\\systemroot|%systemroot%)?\\(windows\\(system32|syswow64|winsxs|servicing|microsoft\.net|ccm|ccmsetup|adws)|program files|programdata\\microsoft\\windows defender)`;

/** Inbound connections accepted on the child's host from other hosts, around the child's start. */
const inbound = match('Process', 'child')
  .asset('child', 'host')
  .processOn('host', 'listener')
  .connection(
    'listener',
    'ep',
    {},
    { edgeAs: 'conn', edgeWhere: { direction: 'inbound', src_ip: REMOTE_IP } },
  )
  .compare(['conn', 'last_seen'], '>=', ['child', 'create_time'], -180_000)
  .compare(['conn', 'first_seen'], '<=', ['child', 'create_time'], 10_000)
  .collect(
    'sources',
    (s) =>
      s
        .connectedBy('ep', 'src', { image: exists() }, { edgeWhere: { direction: not('inbound') } })
        .compare(['src', 'host'], '<>', ['child', 'host']),
    'src',
    10,
  )
  .anchor('child');

export default defineAnalyzer({
  id: 'remote-execution',
  title: 'Program started remotely through services, WMI, WinRM or DCOM',
  techniques: ['T1021'],
  score: 75,
  expansions: [inbound],
  query: match('Process', 'child', { image: exists() })
    .parent('child', 'parent', { image: image(REMOTE_EXEC_PARENTS) })
    .where('child', {
      image: allOf(
        not(
          image([
            'svchost.exe',
            'conhost.exe',
            'werfault.exe',
            'wmiprvse.exe',
            'wermgr.exe',
            'msiexec.exe',
            'trustedinstaller.exe',
            'sppsvc.exe',
            'searchindexer.exe',
            'mmc.exe',
            'dllhost.exe',
          ]),
        ),
        // A shell / script host / LOLBin, or (for services) a binary outside the system folders.
        regex(
          `(^|\\\\)(${EXECUTION_TOOLS.map((n) => n.replace('.', '\\.')).join('|')})$|^(?!${SYSTEM_FOLDER.slice(1)})`,
        ),
      ),
    })
    .anchor('child'),
  async hits(m, ctx) {
    const parent = imageName(m.parent.image);
    const child = imageName(m.child.image);
    const tool = EXECUTION_TOOLS.includes(child);
    if (parent === 'mmc.exe' && !/-embedding/i.test(text(m.parent.command_line))) return null;
    if (!tool && (parent !== 'services.exe' || isSystemPath(text(m.child.image)))) return null;
    const techniques = [...(TECHNIQUES[parent] ?? [])];
    let score = tool ? 75 : 55;
    // Remote management that happens all over the environment (WinRM automation, SCCM, monitoring) is
    // routine; strong command-line evidence below still lifts it.
    const pair = await ctx.rarity.parentChild(text(m.parent.image), child);
    if (pair.hosts >= 5 && pair.count >= 20) score = 40;
    const cmd = text(m.child.command_line);
    if (/\\\\\.\\pipe\\|\becho\b.*>\s*\\\\/i.test(cmd)) score = Math.max(score, 85);
    if (
      /[-/]e(nc|c|ncodedcommand)?\s+[A-Za-z0-9+/=]{16,}|\b(iex|invoke-expression|downloadstring)\b/i.test(cmd)
    )
      score = Math.max(score, 85);

    const ctxRows = startedAt(m.child) !== undefined ? await ctx.expand(inbound, [m.child.key]) : [];
    const listeners = ctxRows.map((r) => r.listener);
    const eps = ctxRows.map((r) => r.ep);
    const srcIps = [...new Set(ctxRows.flatMap((r) => list(r.conn.src_ip)))];
    const sources = [...new Map(ctxRows.flatMap((r) => r.sources).map((s) => [s.key, s] as const)).values()];
    if (srcIps.length > 0) score = Math.min(95, score + 10);
    const origin =
      srcIps.length > 0 ? `, after inbound connections from ${quote(srcIps.slice(0, 5).join(' '), 100)}` : '';
    const how = tool
      ? `started ${quote(basename(m.child.image), 60)}`
      : `started the service binary ${quote(m.child.image, 160)}`;
    const hits = [
      {
        risky: [m.child],
        context: [m.parent, ...listeners, ...eps, ...sources],
        score,
        techniques,
        summary: `${describeProcess(m.parent)} ${how}${origin}: ${quote(cmd, 200)}`,
      },
      ...sources.map((s) => ({
        risky: [s],
        context: [m.child, m.parent, ...eps],
        score: Math.max(50, score - 15),
        techniques,
        summary: `${describeProcess(s)} connected to ${text(m.child.host) || 'another host'} just before ${describeProcess(m.parent)} ${how}: source of remote execution`,
      })),
    ];
    return hits;
  },
});
