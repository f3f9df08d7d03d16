/**
 * A process that opened lsass.exe and wrote a dump file: the memory of the credential store saved to
 * disk for offline extraction (Task Manager "create dump file", procdump, comsvcs MiniDump, Dumpert,
 * Out-Minidump ...). Whatever the tool, the pair "handle to lsass + .dmp written" is the technique.
 * When the dumping process itself holds a connection out to another host, it is a remote-controlled
 * implant (Meterpreter, Beacon, Grunt): the dump is meant to leave through that channel (T1041).
 */
import {
  allOf,
  anyOf,
  exists,
  contains,
  defineAnalyzer,
  describeProcess,
  endsWith,
  imageIs,
  match,
  not,
  quote,
  text,
} from '../sdk';
import { REMOTE_IP } from './_util';

export default defineAnalyzer({
  id: 'lsass-dump-file',
  title: 'LSASS opened and a memory dump written',
  techniques: ['T1003.001'],
  score: 90,
  query: match('Process', 'src')
    .accessed('src', 'lsass', { image: imageIs('lsass.exe') }, { edgeAs: 'access' })
    .created('src', 'dump', {
      path: anyOf(endsWith('.dmp', '.dump', '.mdmp', '.dmp.zip'), contains('lsass')),
    })
    .distinct('src', 'lsass')
    .collect(
      'rdp',
      (s) =>
        s
          .asset('src', 'own')
          .out('src', 'RAN_AS', 'user')
          .out('user', 'LOGGED_ON', 'via', {
            edgeWhere: { logon_type: ['10', '7'], source_ip: allOf(exists(), REMOTE_IP) },
          })
          .compare(['via', 'key'], '=', ['own', 'key']),
      'via',
      1,
    )
    .collect(
      'channel',
      (s) => s.connection('src', 'ep', { ip: REMOTE_IP }, { edgeWhere: { direction: not('inbound') } }),
      'ep',
      1,
    )
    .anchor('src'),
  hits(m) {
    const rdp = m.rdp.length > 0;
    const channel = m.channel[0];
    return {
      risky: [m.src],
      context: [m.lsass, m.dump, ...m.rdp, ...m.channel],
      techniques: [...(rdp ? ['T1021.001'] : []), ...(channel ? ['T1041'] : [])],
      summary: `${describeProcess(m.src)} opened lsass.exe (access ${quote(text(m.access.granted_access), 60)}) and wrote ${quote(m.dump.path, 200)}${rdp ? ', by a user logged on to this host over Remote Desktop' : ''}${channel ? `, while connected out to ${quote(text(channel.ip), 60)} (a channel the dump can leave by)` : ''}`,
    };
  },
});
