/**
 * A Windows built-in (a program of System32 / SysWOW64) started by a program that is not part of Windows
 * or of installed software, as a pair this environment has hardly ever seen: an implant, a dropped tool
 * or a weaponised document host using the system's own binaries (shells, LOLBins, recon tools) to act.
 * Installed software (Program Files), Windows itself and updaters start built-ins all day; what is normal
 * is learnt from the graph (environment rarity), so the rule names no program of its own.
 */
import {
  allOf,
  basename,
  defineAnalyzer,
  describeProcess,
  exists,
  imageName,
  match,
  not,
  quote,
  regex,
  text,
} from '../sdk';
import { isSystemPath } from '../sdk/windows';
import { DISCOVERY_TOOLS, INSTALLERS, LOLBINS, SCRIPT_HOSTS, SHELLS } from './_lists';
import { image, isDropLocation } from './_util';

const SYSTEM_BINARY = String.raw`^([a-z]:|\\systemroot|%systemroot%)?\\windows\\(system32|syswow64)\\[^\\]+\.exe$`;
/** Helpers every program may start (console, crash reporting, .NET compilation, COM surrogates). */
const ROUTINE = ['conhost.exe', 'werfault.exe', 'wermgr.exe', 'csc.exe', 'cvtres.exe', 'dllhost.exe', 'msiexec.exe', 'consent.exe'];
const UPDATER = /(setup|install|update|upgrade|squirrel|uninst)[^\\]*\.exe$/i;

function techniquesOf(child: string): string[] {
  if (child === 'cmd.exe') return ['T1059.003'];
  if (SHELLS.includes(child)) return ['T1059.001'];
  if (SCRIPT_HOSTS.includes(child)) return ['T1059.005'];
  if (LOLBINS.includes(child)) return ['T1218'];
  return [];
}

export default defineAnalyzer({
  id: 'unique-builtin-execution',
  title: 'Windows built-in started by a foreign program',
  techniques: ['T1059'],
  score: 45,
  query: match('Process', 'child', { image: allOf(regex(SYSTEM_BINARY), not(image(ROUTINE))) })
    .parent('child', 'parent', { image: exists() })
    .where('parent', { image: not(image([...INSTALLERS, 'explorer.exe'])) })
    .anchor('child'),
  async hits(m, ctx) {
    const parentPath = text(m.parent.image);
    const child = imageName(m.child.image);
    if (isSystemPath(parentPath) || /^[a-z]:\\windows\\/i.test(parentPath) || UPDATER.test(parentPath)) return null;
    if (!/^([a-z]:|\\\\)/i.test(parentPath)) return null; // not a path: nothing to judge
    const pair = await ctx.rarity.parentChild(parentPath, child);
    if (pair.count > 2 || pair.hosts > 1) return null;
    const dropped = isDropLocation(parentPath);
    const tool = [...SHELLS, ...SCRIPT_HOSTS, ...LOLBINS, ...DISCOVERY_TOOLS].includes(child);
    const score = dropped && tool ? 55 : tool || dropped ? 45 : 35;
    return {
      risky: dropped ? [m.child, m.parent] : [m.child],
      context: [m.parent],
      score,
      techniques: techniquesOf(child),
      summary: `${quote(basename(parentPath), 80)} (${quote(parentPath, 160)}) started the Windows built-in ${quote(basename(m.child.image), 60)}, a pair seen ${pair.count} time(s): ${quote(m.child.command_line, 160)} (${describeProcess(m.child)})`,
    };
  },
});
