/**
 * UAC bypass through auto-elevating binaries that read a per-user registry key before running a command
 * (fodhelper / computerdefaults -> ms-settings, eventvwr / compmgmtlauncher -> mscfile, sdclt -> Folder or
 * App Paths\control.exe, wsreset -> AppX..., slui/changepk -> exefile), or an %windir% override in the
 * user's Environment key (SilentCleanup task). Two views: the registry hijack being written, and an
 * auto-elevating binary starting something it never starts by itself.
 */
import {
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
import { AUTO_ELEVATE } from './_lists';
import { image } from './_util';

const HIJACK_KEY = String.raw`\\(ms-settings|mscfile|exefile|folder|launcher\.systemsettings|appx82a6gwre4fdg3bt635tn5ctqjf8msdd2|htmlfile|lnkfile|piffile)\\shell\\(open|runas)\\command$|\\currentversion\\app paths\\control\.exe$|^hk(cu|u\\[^\\]+)\\environment$`;

export const uacRegistryHijack = defineAnalyzer({
  id: 'uac-bypass-registry',
  title: 'Registry hijack of an auto-elevating program (UAC bypass)',
  techniques: ['T1548.002', 'T1112'],
  score: 75,
  query: match('Process', 'writer').setValue('writer', 'key', { path: regex(HIJACK_KEY) }, { edgeAs: 'set' }),
  hits(m) {
    const path = text(m.key.path);
    const details = list(m.set.details);
    if (/\\environment$/i.test(path)) {
      // Only an override of the Windows folder variables is a bypass; other user variables are normal.
      const bad = details.filter((d) => /^(windir|systemroot)=/i.test(d));
      if (bad.length === 0) return null;
      return {
        risky: [m.writer],
        context: [m.key],
        summary: `${describeProcess(m.writer)} redirected ${quote(bad.join(' '), 160)} in the user's environment (UAC bypass through a scheduled task)`,
      };
    }
    const command = details.filter((d) => !/^delegateexecute=/i.test(d));
    return {
      risky: [m.writer],
      context: [m.key],
      summary: `${describeProcess(m.writer)} set the command of ${quote(path, 160)}${command.length ? ` to ${quote(command.join(' '), 200)}` : ''}`,
    };
  },
});

// Auto-elevating programs do start a few things on their own: management consoles, help, crash handling.
const ELEVATOR_ROUTINE = [
  'mmc.exe',
  'conhost.exe',
  'werfault.exe',
  'control.exe',
  'systemsettings.exe',
  'hh.exe',
  'slui.exe',
  'dllhost.exe',
  'explorer.exe',
  'consent.exe',
];

export const uacAutoElevateChild = defineAnalyzer({
  id: 'uac-bypass-auto-elevate',
  title: 'Auto-elevating program started an unexpected child (UAC bypass)',
  techniques: ['T1548.002'],
  score: 85,
  query: match('Process', 'child', { image: exists() })
    .parent('child', 'elevator', { image: image(AUTO_ELEVATE) })
    .where('child', { image: not(image(ELEVATOR_ROUTINE)) })
    .collect(
      'hijacks',
      (s) =>
        s
          .asset('elevator', 'host')
          .processOn('host', 'writer')
          .setValue('writer', 'key', { path: regex(HIJACK_KEY) }, { edgeAs: 'set' })
          .compare(['set', 'last_seen'], '>=', ['elevator', 'first_seen'], -600_000)
          .compare(['set', 'first_seen'], '<=', ['elevator', 'first_seen'], 60_000),
      'writer',
      5,
    )
    .anchor('child'),
  hits(m) {
    const elevator = imageName(m.elevator.image);
    const hijacked = m.hijacks.length > 0;
    return {
      risky: [m.child, m.elevator, ...m.hijacks],
      score: hijacked ? 90 : 80,
      summary: `${describeProcess(m.elevator)} started ${quote(basename(m.child.image), 60)}${hijacked ? ' after its registry command was hijacked' : ''}: ${quote(m.child.command_line, 200)}`,
      techniques: elevator === 'eventvwr.exe' || elevator === 'sdclt.exe' ? ['T1548.002'] : [],
    };
  },
});

export const analyzers = [uacRegistryHijack, uacAutoElevateChild];
