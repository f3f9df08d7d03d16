/**
 * Programs that have no reason to use the network (Notepad, Calculator, Paint, accessibility tools,
 * conhost ...) connecting to another host: code injected into them (process hollowing, migrate) is using
 * their identity for its C2.
 */
import { defineAnalyzer, describeProcess, match, not, quote, text } from '../sdk';
import { NON_NETWORK_PROGRAMS } from './_lists';
import { image, REMOTE_IP } from './_util';

export default defineAnalyzer({
  id: 'unexpected-network-program',
  title: 'Program that never uses the network connected to another host',
  techniques: ['T1055', 'T1071'],
  score: 70,
  query: match('Process', 'proc', { image: image(NON_NETWORK_PROGRAMS) })
    .exists((s) => s.connection('proc', 'e', { ip: REMOTE_IP }, { edgeWhere: { direction: not('inbound') } }))
    .collect(
      'eps',
      (s) => s.connection('proc', 'ep', { ip: REMOTE_IP }, { edgeWhere: { direction: not('inbound') } }),
      'ep',
      10,
    ),
  hits(m) {
    const dests = m.eps.map((e) => `${text(e.ip)}:${text(e.port)}`).join(' ');
    return {
      risky: [m.proc],
      context: m.eps,
      summary: `${describeProcess(m.proc)} connected to ${quote(dests, 120)}: likely injected code`,
    };
  },
});
