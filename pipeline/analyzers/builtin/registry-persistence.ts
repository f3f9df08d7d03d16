/**
 * Autostart registry values (Run/RunOnce, Winlogon Shell/Userinit, Image File Execution Options Debugger,
 * SilentProcessExit monitors, logon scripts) written by something other than an installer, and
 * especially pointing at scripts, LOLBins or user folders.
 */
import { defineAnalyzer, imageName, describeProcess, list, match, not, quote, regex, text } from '../sdk';
import { EXECUTION_TOOLS, INSTALLERS } from './_lists';
import { image, isDropLocation } from './_util';

const KEYS = String.raw`\\windows\\currentversion$|\\explorer\\(user )?shell folders$|_classes\\clsid\\\{[^}]+\}\\(inprocserver32|localserver32|treatas)$|^hk(cu|u\\[^\\]+)\\software\\classes\\clsid\\\{[^}]+\}\\(inprocserver32|localserver32|treatas)$|\\currentversion\\(run|runonce|runonceex|runservices|runservicesonce|policies\\explorer\\run)$|\\windows nt\\currentversion\\winlogon$|\\image file execution options\\[^\\]+$|\\silentprocessexit\\[^\\]+$|^hk(cu|u\\[^\\]+)\\environment$|\\windows nt\\currentversion\\windows$`;
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
    } else if (/\\windows\\currentversion$/i.test(path)) {
      // `...\Run\` with an empty value name: Sysmon shows it as a value named Run of CurrentVersion,
      // and regedit does not show it at all.
      entries = entries.filter((d) => /^(run|runonce)=/i.test(d));
      techniques.push('T1547.001', 'T1564');
    } else if (/\\shell folders$/i.test(path)) {
      entries = entries.filter(
        (d) => /^(common )?startup=/i.test(d) && !/\\start menu\\programs\\startup\\?$/i.test(d),
      );
      techniques.push('T1547.001');
    } else if (/\\clsid\\/i.test(path)) {
      // Per-user COM registrations are common (OneDrive, Teams); a server in a drop folder or written
      // with a shell tool is a hijack.
      const tool = EXECUTION_TOOLS.includes(imageName(m.writer.image));
      const treatAs = /\\treatas$/i.test(path);
      entries = entries.filter(
        (d) =>
          /^[({]default[)}]=/i.test(d) &&
          (treatAs || tool || isDropLocation(d.slice(d.indexOf('=') + 1)) || BAD_DATA.test(d)),
      );
      techniques.push('T1546.015');
    } else if (/\\windows nt\\currentversion\\windows$/i.test(path)) {
      entries = entries.filter((d) => /^(appinit_dlls|load|run)=./i.test(d) && !/^appinit_dlls=$/i.test(d));
      techniques.push('T1546.010');
    }
    entries = entries.filter((d) => !/=\(deleted\)$/i.test(d) && !/=$/.test(d));
    if (entries.length === 0) return null;
    const bad = entries.some((d) => BAD_DATA.test(d) || isDropLocation(d.slice(d.indexOf('=') + 1)));
    return {
      risky: [m.writer],
      context: [m.key],
      score: bad ? 75 : 50,
      techniques,
      summary: `${describeProcess(m.writer)} set ${quote(entries.slice(0, 3).join(' '), 200)} under ${quote(path, 160)}`,
    };
  },
});
