/**
 * Files a browser wrote that are executable content, and such a file later being run: drive-by download,
 * phishing link, user tricked into running a payload. The write alone is common (software downloads) and
 * scores low; the execution of a freshly downloaded file scores high.
 */
import { basename, defineAnalyzer, describeProcess, endsWith, match, quote, text } from '../sdk';
import { EXECUTABLE_EXTENSIONS } from '../sdk/windows';
import { BROWSERS } from './_lists';
import { image, isDropLocation } from './_util';

export const browserWrittenExecutable = defineAnalyzer({
  id: 'browser-written-executable',
  title: 'Browser wrote an executable file',
  techniques: ['T1105', 'T1189'],
  score: 25,
  query: match('Process', 'browser', { image: image(BROWSERS) }).created('browser', 'file', {
    path: endsWith(...EXECUTABLE_EXTENSIONS),
  }),
  hits(m) {
    return {
      risky: [m.file],
      context: [m.browser],
      summary: `${describeProcess(m.browser)} wrote ${quote(m.file.path, 200)}`,
    };
  },
});

export const browserDownloadExecuted = defineAnalyzer({
  id: 'browser-download-executed',
  title: 'Program run from a file a browser downloaded',
  techniques: ['T1204.002', 'T1105'],
  score: 60,
  query: match('Process', 'proc')
    .executed('proc', 'file')
    .createdBy('file', 'browser', { image: image(BROWSERS) }, { edgeAs: 'write' })
    .distinct('proc', 'browser')
    .compare(['write', 'first_seen'], '<=', ['proc', 'create_time']),
  hits(m) {
    const dropped = isDropLocation(m.file.path);
    return {
      risky: [m.proc],
      context: [m.file, m.browser],
      score: dropped ? 65 : 55,
      summary: `${describeProcess(m.proc)} runs ${quote(m.file.path, 200)}, downloaded by ${quote(basename(m.browser.image), 60)}${text(m.proc.command_line) ? `: ${quote(m.proc.command_line, 160)}` : ''}`,
    };
  },
});

export const analyzers = [browserWrittenExecutable, browserDownloadExecuted];
