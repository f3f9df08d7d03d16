/**
 * A program started from cmd.exe that then talks to another machine: a tool or implant launched from a
 * shell, reaching out (C2, lateral movement, download).
 */
import {
  basename,
  defineAnalyzer,
  describeProcess,
  exists,
  imageIs,
  imageName,
  match,
  not,
  quote,
  text,
} from '../sdk';
import { REMOTE_IP } from './_util';

export default defineAnalyzer({
  id: 'cmd-child-network',
  title: 'Program started from cmd.exe connected to another host',
  techniques: ['T1059.003', 'T1071'],
  score: 45,
  query: match('Process', 'proc', { image: exists() })
    .parent('proc', 'shell', { image: imageIs('cmd.exe') })
    .where('proc', { image: not(imageIs('conhost.exe', 'cmd.exe', 'ping.exe')) })
    .exists((s) => s.connection('proc', 'e', { ip: REMOTE_IP }, { edgeWhere: { direction: not('inbound') } }))
    .collect(
      'eps',
      (s) => s.connection('proc', 'ep', { ip: REMOTE_IP }, { edgeWhere: { direction: not('inbound') } }),
      'ep',
      10,
    )
    .anchor('proc'),
  hits(m) {
    const dests = m.eps.map((e) => `${text(e.ip)}:${text(e.port)}`);
    // Browsers and updaters started from a script are noisy and not what this is about.
    if (['chrome.exe', 'msedge.exe', 'firefox.exe', 'iexplore.exe'].includes(imageName(m.proc.image)))
      return null;
    return {
      risky: [m.proc],
      context: [m.shell, ...m.eps],
      summary: `${describeProcess(m.proc)}, started from cmd.exe (${quote(m.shell.command_line, 120)}), connected to ${quote(dests.join(' '), 120)} (${quote(basename(m.proc.image), 60)})`,
    };
  },
});
