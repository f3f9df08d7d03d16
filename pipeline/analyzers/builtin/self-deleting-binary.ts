/**
 * A process that deletes the very file it was started from: malware cleaning up after itself so the
 * binary is gone before anyone looks.
 */
import { defineAnalyzer, describeProcess, match, not, quote } from '../sdk';
import { INSTALLERS } from './_lists';
import { image } from './_util';

export default defineAnalyzer({
  id: 'self-deleting-binary',
  title: 'Process deleted the file it was started from',
  techniques: ['T1070.004'],
  score: 70,
  query: match('Process', 'proc', { image: not(image(INSTALLERS)) })
    .executed('proc', 'file')
    .deletedBy('file', 'deleter')
    .compare(['deleter', 'key'], '=', ['proc', 'key'])
    .anchor('proc'),
  hits(m) {
    return {
      risky: [m.proc],
      context: [m.file],
      summary: `${describeProcess(m.proc)} deleted its own executable ${quote(m.file.path, 200)}`,
    };
  },
});
