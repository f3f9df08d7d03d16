/**
 * A process that opened lsass.exe and wrote a dump file: the memory of the credential store saved to
 * disk for offline extraction (Task Manager "create dump file", procdump, comsvcs MiniDump, Dumpert,
 * Out-Minidump ...). Whatever the tool, the pair "handle to lsass + .dmp written" is the technique.
 */
import { anyOf, contains, defineAnalyzer, describeProcess, endsWith, imageIs, match, quote, text } from '../sdk';

export default defineAnalyzer({
  id: 'lsass-dump-file',
  title: 'LSASS opened and a memory dump written',
  techniques: ['T1003.001'],
  score: 90,
  query: match('Process', 'src')
    .accessed('src', 'lsass', { image: imageIs('lsass.exe') }, { edgeAs: 'access' })
    .created('src', 'dump', { path: anyOf(endsWith('.dmp', '.dump', '.mdmp', '.dmp.zip'), contains('lsass')) })
    .distinct('src', 'lsass')
    .anchor('src'),
  hits(m) {
    return {
      risky: [m.src],
      context: [m.lsass, m.dump],
      summary: `${describeProcess(m.src)} opened lsass.exe (access ${quote(text(m.access.granted_access), 60)}) and wrote ${quote(m.dump.path, 200)}`,
    };
  },
});
