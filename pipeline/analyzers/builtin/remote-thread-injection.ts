/**
 * CreateRemoteThread into another process (Sysmon 8): classic injection (meterpreter migrate, PowerShell
 * Invoke-*Injection, reflective loaders). Windows does this itself in a few well-known ways: csrss.exe
 * delivering Ctrl+C to console programs (CtrlRoutine), dwm and wininit housekeeping; those are left out
 * by their source in the system folder. A thread starting outside any module (shellcode) or a target
 * holding secrets or a network identity (lsass, browsers, explorer) scores higher.
 */
import { basename, defineAnalyzer, describeProcess, imageName, match, quote, text } from '../sdk';
import { isSystemPath } from '../sdk/windows';
import { BROWSERS } from './_lists';

const SYSTEM_SOURCES = [
  'csrss.exe',
  'wininit.exe',
  'smss.exe',
  'dwm.exe',
  'system',
  'services.exe',
  'winlogon.exe',
];
const BENIGN_START = /^(ctrlroutine|exitprocess)$/i;
const VALUABLE = [
  'lsass.exe',
  'winlogon.exe',
  'explorer.exe',
  'svchost.exe',
  'spoolsv.exe',
  ...BROWSERS,
  'outlook.exe',
  'keepass.exe',
];

export default defineAnalyzer({
  id: 'remote-thread-injection',
  title: 'Thread created in another process',
  techniques: ['T1055.001', 'T1055'],
  score: 70,
  query: match('Process', 'src')
    .injectedInto('src', 'target', {}, { edgeAs: 'thread' })
    .distinct('src', 'target')
    .anchor('src'),
  hits(m) {
    const src = imageName(m.src.image);
    const fn = text(m.thread.start_function);
    const module = text(m.thread.start_module);
    const srcSystem = SYSTEM_SOURCES.includes(src) && (isSystemPath(text(m.src.image)) || src === 'system');
    if (srcSystem) return null;
    if (BENIGN_START.test(fn) && isSystemPath(module)) return null;
    let score = 70;
    const why: string[] = [];
    if (!module || module === '-') {
      score += 15;
      why.push('starting outside any module');
    }
    if (VALUABLE.includes(imageName(m.target.image))) {
      score += 10;
      why.push(`into ${quote(basename(m.target.image), 40)}`);
    }
    return {
      risky: [m.src, m.target],
      score: Math.min(score, 95),
      summary: `${describeProcess(m.src)} created a thread in ${describeProcess(m.target)}${why.length ? ` (${why.join(', ')})` : ''}${module && module !== '-' ? ` at ${quote(`${basename(module)}!${fn}`, 80)}` : ''}`,
    };
  },
});
