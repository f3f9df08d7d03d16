/**
 * Programs running from where files are dropped (Downloads, Desktop, Temp, Public, ProgramData root,
 * C:\Windows\Temp, shares) and either talking to other hosts or started by a shell / script host: the
 * shape of a payload or tool brought in by an attacker. Installed software lives elsewhere.
 */
import { basename, defineAnalyzer, describeProcess, exists, match, not, quote, regex, text } from '../sdk';
import { EXECUTION_TOOLS, SHELLS } from './_lists';
import { image, isDropLocation, REMOTE_IP } from './_util';

// Pre-filter in the database; isDropLocation() decides.
const DROP = String.raw`^([a-z]:\\(users\\[^\\]+\\(downloads|desktop|documents|music|pictures|videos|appdata\\local\\temp)\\|users\\public\\|windows\\temp\\|perflogs\\|programdata\\[^\\]+$|\$recycle\.bin\\|intel\\)|\\\\)`;

export const userFolderNetwork = defineAnalyzer({
  id: 'user-folder-program-network',
  title: 'Program from a user folder connected to another host',
  techniques: ['T1204.002', 'T1071'],
  score: 50,
  query: match('Process', 'proc', { image: regex(DROP) })
    .exists((s) => s.connection('proc', 'e', { ip: REMOTE_IP }, { edgeWhere: { direction: not('inbound') } }))
    .collect(
      'eps',
      (s) => s.connection('proc', 'ep', { ip: REMOTE_IP }, { edgeWhere: { direction: not('inbound') } }),
      'ep',
      10,
    ),
  hits(m) {
    if (!isDropLocation(m.proc.image)) return null;
    const dests = m.eps.map((e) => `${text(e.ip)}:${text(e.port)}`).join(' ');
    return {
      risky: [m.proc],
      context: m.eps,
      summary: `${describeProcess(m.proc)} runs from ${quote(m.proc.image, 160)} and connected to ${quote(dests, 120)}`,
    };
  },
});

export const userFolderFromShell = defineAnalyzer({
  id: 'user-folder-program-from-shell',
  title: 'Program from a user folder started by a shell or script host',
  techniques: ['T1204.002', 'T1059'],
  score: 40,
  query: match('Process', 'proc', { image: regex(DROP) })
    .parent('proc', 'parent', { image: image(EXECUTION_TOOLS) })
    .collect('grand', (s) => s.parent('parent', 'gp', { image: exists() }), 'gp', 1)
    .anchor('proc'),
  hits(m) {
    if (!isDropLocation(m.proc.image)) return null;
    // An installer someone started from a console they opened is still someone's choice: lower.
    const interactive =
      SHELLS.includes(basename(m.parent.image).toLowerCase()) &&
      basename(m.grand[0]?.image).toLowerCase() === 'explorer.exe';
    return {
      risky: [m.proc],
      context: [m.parent, ...m.grand],
      score: interactive ? 30 : 45,
      summary: `${quote(basename(m.parent.image), 60)} started ${quote(m.proc.image, 160)}: ${quote(m.proc.command_line, 160)} (${describeProcess(m.proc)})`,
    };
  },
});

export const analyzers = [userFolderNetwork, userFolderFromShell];
