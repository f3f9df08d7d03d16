/**
 * lsass.exe itself writing a log, text or dump file: code loaded into the credential store (a malicious
 * Security Support Provider such as mimikatz misc::memssp, or an injected module) recording the passwords
 * that pass through it. LSA's own logging (Netlogon's debug log under \Windows\debug) is left out.
 */
import { anyOf, defineAnalyzer, describeProcess, endsWith, imageIs, match, not, quote, regex } from '../sdk';

export default defineAnalyzer({
  id: 'lsass-file-write',
  title: 'LSASS wrote a log or dump file',
  techniques: ['T1547.005', 'T1003.001'],
  score: 75,
  query: match('Process', 'lsass', { image: imageIs('lsass.exe') })
    .created('lsass', 'file', {
      path: anyOf(endsWith('.log', '.txt', '.dmp', '.tmp', '.dat'), regex(String.raw`\\(temp|users|programdata)\\`)),
    })
    .where('file', { path: not(regex(String.raw`^[a-z]:\\windows\\(debug|system32\\(logfiles|config|sru|wdi|winevt))\\`)) })
    .anchor('lsass'),
  hits(m) {
    return {
      risky: [m.lsass],
      context: [m.file],
      summary: `${describeProcess(m.lsass)} wrote ${quote(m.file.path, 200)}: code inside the credential store logging what passes through it`,
    };
  },
});
