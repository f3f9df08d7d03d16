/**
 * Built-in reconnaissance tools (whoami, systeminfo, net user, nltest ...) run by something other than a
 * person at a console: the first thing an implant does after landing. An administrator typing whoami in
 * a shell opened from Explorer is left alone; a burst of several tools from one parent marks the parent
 * too (it is the one asking the questions).
 */
import { basename, defineAnalyzer, describeProcess, exists, imageName, match, quote, text } from '../sdk';
import { EXECUTION_TOOLS, SCRIPT_HOSTS, SHELLS } from './_lists';
import { image, isDropLocation, startedAt } from './_util';

const RECON = [
  'whoami.exe',
  'systeminfo.exe',
  'hostname.exe',
  'ipconfig.exe',
  'net.exe',
  'net1.exe',
  'nltest.exe',
  'quser.exe',
  'qwinsta.exe',
  'query.exe',
  'tasklist.exe',
  'netstat.exe',
  'arp.exe',
  'route.exe',
  'nslookup.exe',
  'dsquery.exe',
  'setspn.exe',
  'klist.exe',
  'cmdkey.exe',
  'driverquery.exe',
  'getmac.exe',
  'gpresult.exe',
  'nbtstat.exe',
  'wmic.exe',
];

/** net / net1 / wmic are recon only with these verbs. */
function isRecon(name: string, cmd: string): boolean {
  if (name === 'net.exe' || name === 'net1.exe')
    return /\b(user|users|group|localgroup|view|share|accounts|session|config|use)\b/i.test(cmd);
  if (name === 'wmic.exe')
    return /\b(useraccount|group|computersystem|qfe|product|process\s+(list|get)|nicconfig|share|startup|os\s+get|antivirusproduct)\b/i.test(
      cmd,
    );
  if (name === 'route.exe') return /\bprint\b/i.test(cmd);
  if (name === 'arp.exe') return /\s-a\b/i.test(cmd);
  return true;
}

const BURST_WINDOW_MS = 10 * 60_000;

export default defineAnalyzer({
  id: 'discovery-tools',
  title: 'Reconnaissance tools run by a program',
  techniques: ['T1033', 'T1082', 'T1087'],
  score: 35,
  query: match('Process', 'tool', { image: image(RECON) })
    .parent('tool', 'parent', { image: exists() })
    .collect('grand', (s) => s.parent('parent', 'gp'), 'gp', 1)
    .collect('siblings', (s) => s.child('parent', 'sib', { image: image(RECON) }), 'sib', 20)
    .anchor('tool'),
  async hits(m, ctx) {
    const name = imageName(m.tool.image);
    const cmd = text(m.tool.command_line);
    if (!isRecon(name, cmd)) return null;
    const parent = imageName(m.parent.image);
    const grand = m.grand[0] ? imageName(m.grand[0].image) : '';
    // net.exe -> net1.exe is net's own plumbing: judge the pair by who started net.exe.
    const launcher = parent === 'net.exe' && name === 'net1.exe' ? grand : parent;
    const interactive = launcher === 'explorer.exe' || (SHELLS.includes(parent) && grand === 'explorer.exe');
    if (interactive) return null;
    let score = 35;
    if (SHELLS.includes(launcher) || SCRIPT_HOSTS.includes(launcher) || EXECUTION_TOOLS.includes(launcher))
      score = 45;
    if (isDropLocation(m.parent.image)) score = 55;
    const pair = await ctx.rarity.parentChild(text(m.parent.image), name);
    if (pair.hosts <= 1 && pair.count <= 2) score += 5;
    const t0 = startedAt(m.tool) ?? 0;
    // Several recon commands from one parent within minutes (the same tool twice counts: whoami, whoami /groups).
    const burst = m.siblings.filter(
      (s) =>
        Math.abs((startedAt(s) ?? Number.NaN) - t0) <= BURST_WINDOW_MS && imageName(s.image) !== 'net1.exe',
    );
    const tools = new Set(burst.map((s) => imageName(s.image)));
    const risky = burst.length >= 3 ? [m.tool, m.parent] : [m.tool];
    if (burst.length >= 3) score += 15;
    return {
      risky,
      context: [m.parent, ...m.grand],
      score,
      summary: `${quote(basename(m.parent.image), 80)} ran ${quote(cmd || basename(m.tool.image), 160)}${burst.length >= 3 ? ` among ${burst.length} reconnaissance commands (${[...tools].join(', ')}) within minutes` : ''} (${describeProcess(m.tool)})`,
    };
  },
});
