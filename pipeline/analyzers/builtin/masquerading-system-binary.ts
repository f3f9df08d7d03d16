/**
 * A process named like a core Windows binary (lsass.exe, svchost.exe, csrss.exe ...) that does not run
 * from the Windows folders: a file named to blend into a process list.
 */
import { defineAnalyzer, describeProcess, imageIs, match, not, quote, regex, text } from '../sdk';

const CORE = [
  'svchost.exe',
  'lsass.exe',
  'csrss.exe',
  'smss.exe',
  'services.exe',
  'winlogon.exe',
  'wininit.exe',
  'lsm.exe',
  'spoolsv.exe',
  'taskhostw.exe',
  'taskhost.exe',
  'dllhost.exe',
  'conhost.exe',
  'rundll32.exe',
  'regsvr32.exe',
  'explorer.exe',
  'searchindexer.exe',
  'wmiprvse.exe',
  'dwm.exe',
  'sihost.exe',
  'ctfmon.exe',
  'cmd.exe',
  'powershell.exe',
];

export default defineAnalyzer({
  id: 'masquerading-system-binary',
  title: 'Windows system binary name running from an unusual folder',
  techniques: ['T1036.005'],
  score: 70,
  query: match('Process', 'proc', {
    image: imageIs(...CORE),
  }).where('proc', {
    // \Windows\System32, SysWOW64, WinSxS (servicing copies), \Windows\explorer.exe, .NET/PowerShell dirs.
    image: not(
      regex(
        String.raw`^([a-z]:|\\\\\?\\[a-z]:|\\systemroot)?\\windows\\(system32|syswow64|winsxs|explorer\.exe$|servicing)`,
      ),
    ),
  }),
  hits(m) {
    const img = text(m.proc.image);
    // Bare names (no folder) say nothing about where the file is.
    if (!/[\\/]/.test(img)) return null;
    return { risky: [m.proc], summary: `${describeProcess(m.proc)} runs from ${quote(img)}` };
  },
});
