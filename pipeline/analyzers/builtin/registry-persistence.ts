/**
 * Autostart registry values (Run/RunOnce, Winlogon Shell/Userinit, Image File Execution Options Debugger,
 * SilentProcessExit monitors, logon scripts) written by something other than an installer, and
 * especially pointing at scripts, LOLBins or user folders.
 */
import { defineAnalyzer, describeProcess, list, match, not, quote, regex, text } from '../sdk';
import { INSTALLERS } from './_lists';
import { image } from './_util';

const KEYS = String.raw`\\currentversion\\(run|runonce|runonceex|runservices|runservicesonce|policies\\explorer\\run)$|\\windows nt\\currentversion\\winlogon$|\\image file execution options\\[^\\]+$|\\silentprocessexit\\[^\\]+$|^hk(cu|u\\[^\\]+)\\environment$|\\windows nt\\currentversion\\windows$`;
const BAD_DATA =
  /\b(powershell|pwsh|cmd(\.exe)?\s+\/[ck]|mshta|wscript|cscript|rundll32|regsvr32|certutil|bitsadmin)\b|\\users\\[^\\]+\\(appdata|downloads|desktop|documents)\\|\\users\\public\\|\\temp\\|\\programdata\\[^\\]+\.(exe|dll|bat|cmd|ps1|vbs|js)|https?:\/\//i;

export default defineAnalyzer({
  id: 'registry-persistence',
  title: 'Autostart registry value written',
  techniques: ['T1547.001'],
  score: 50,
  query: match('Process', 'writer', {
    image: not(image([...INSTALLERS, 'explorer.exe', 'services.exe', 'regedit.exe'])),
  }).setValue('writer', 'key', { path: regex(KEYS) }, { edgeAs: 'set' }),
  hits(m) {
    const path = text(m.key.path);
    let entries = list(m.set.details);
    const techniques: string[] = [];
    if (/\\winlogon$/i.test(path)) {
      entries = entries.filter(
        (d) =>
          /^(userinit|shell)=/i.test(d) &&
          !/^userinit=c:\\windows\\system32\\userinit\.exe,?$/i.test(d) &&
          !/^shell=explorer\.exe$/i.test(d),
      );
      techniques.push('T1547.004');
    } else if (/\\image file execution options\\|\\silentprocessexit\\/i.test(path)) {
      entries = entries.filter((d) => /^(debugger|monitorprocess|globalflag)=/i.test(d));
      techniques.push('T1546.012');
    } else if (/\\environment$/i.test(path)) {
      entries = entries.filter((d) => /^userinitmprlogonscript=/i.test(d));
      techniques.push('T1037.001');
    } else if (/\\windows nt\\currentversion\\windows$/i.test(path)) {
      entries = entries.filter((d) => /^(appinit_dlls|load|run)=./i.test(d) && !/^appinit_dlls=$/i.test(d));
      techniques.push('T1546.010');
    }
    entries = entries.filter((d) => !/=\(deleted\)$/i.test(d) && !/=$/.test(d));
    if (entries.length === 0) return null;
    const bad = entries.some((d) => BAD_DATA.test(d));
    return {
      risky: [m.writer],
      context: [m.key],
      score: bad ? 75 : 50,
      techniques,
      summary: `${describeProcess(m.writer)} set ${quote(entries.slice(0, 3).join(' '), 200)} under ${quote(path, 160)}`,
    };
  },
});
