/**
 * A process started from a file that another process wrote shortly before: droppers, unpackers, tools
 * copied over SMB and started as a service (PsExec and friends). Installers and updaters do this for a
 * living and are left out; a file written through the SMB server (the System process) is attributed to
 * the network, not to System.
 */
import {
  basename,
  defineAnalyzer,
  describeProcess,
  imageIs,
  imageName,
  match,
  not,
  num,
  quote,
  text,
} from '../sdk';
import { BROWSERS, INSTALLERS } from './_lists';
import { image, isDropLocation } from './_util';

const WINDOW_MS = 24 * 3600_000;

export default defineAnalyzer({
  id: 'dropped-executable-run',
  title: 'Program run from a file another process just wrote',
  techniques: ['T1105', 'T1204.002'],
  score: 60,
  query: match('Process', 'proc')
    .executed('proc', 'file')
    .createdBy('file', 'writer', { image: not(image([...INSTALLERS, ...BROWSERS])) }, { edgeAs: 'write' })
    .distinct('proc', 'writer')
    .compare(['write', 'first_seen'], '<=', ['proc', 'create_time'])
    .compare(['proc', 'create_time'], '<=', ['write', 'last_seen'], WINDOW_MS)
    .collect('launcher', (s) => s.parent('proc', 'pp'), 'pp', 1)
    .where('writer', { image: not(imageIs('explorer.exe')) }),
  hits(m) {
    const systemWriter = imageName(m.writer.image) === 'system' || num(m.writer.pid) === 4;
    const launcher = m.launcher[0];
    const asService = launcher !== undefined && imageName(launcher.image) === 'services.exe';
    let score = 60;
    if (isDropLocation(m.file.path)) score += 10;
    if (asService) score += 10;
    // Self-updaters (Squirrel Update.exe, vendor *updater*/setup programs) do this all day; an attacker can
    // borrow the name, so they are scored down rather than ignored.
    if (!asService && /(setup|install|update|upgrade|squirrel)[^\\]*\.exe$/i.test(text(m.writer.image)))
      score = 35;
    const how = systemWriter
      ? 'written over the network (SMB)'
      : `written by ${quote(basename(m.writer.image), 80)}`;
    return {
      risky: systemWriter ? [m.proc] : [m.proc, m.writer],
      context: [m.file, ...(systemWriter ? [m.writer] : []), ...m.launcher],
      score,
      techniques: asService ? ['T1569.002', 'T1543.003'] : [],
      summary: `${describeProcess(m.proc)} runs ${quote(m.file.path, 200)}, ${how} shortly before${asService ? ', started as a service' : ''}${text(m.proc.command_line) ? `: ${quote(m.proc.command_line, 120)}` : ''}`,
    };
  },
});
