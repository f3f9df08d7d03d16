/**
 * Signed Windows binaries made to fetch or run someone else's code (LOLBins): mshta running script or a
 * remote HTA, regsvr32 /i:http (Squiblydoo), rundll32 with javascript: or a DLL from a user folder,
 * certutil -urlcache / -decode, bitsadmin /transfer, msiexec from a URL, cmstp, odbcconf, wmic /format,
 * InstallUtil / MSBuild / RegAsm on user files. The binary is legitimate; the command line is the attack.
 */
import { defineAnalyzer, describeProcess, imageName, match, quote, text } from '../sdk';
import { LOLBINS } from './_lists';
import { image } from './_util';

interface Rule {
  readonly image: readonly string[];
  readonly re: RegExp;
  readonly what: string;
  readonly techniques: readonly string[];
  readonly score: number;
}

const USER_PATH = String.raw`[a-z]:\\(users\\[^\\]+\\(appdata|downloads|desktop|documents)|users\\public|windows\\temp|programdata\\[^\\]+\.|perflogs)|\\\\[^\\]+\\`;
const URL = /(https?|ftp):\/\/|\\\\[0-9a-z.-]+@?(ssl)?\\|\\\\\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\\/i;

const RULES: readonly Rule[] = [
  {
    image: ['mshta.exe'],
    re: /\b(javascript|vbscript)\s*:/i,
    what: 'mshta runs inline script',
    techniques: ['T1218.005'],
    score: 80,
  },
  {
    image: ['mshta.exe'],
    re: URL,
    what: 'mshta runs a remote HTA',
    techniques: ['T1218.005', 'T1105'],
    score: 85,
  },
  {
    image: ['mshta.exe'],
    re: new RegExp(USER_PATH, 'i'),
    what: 'mshta runs an HTA from a user folder',
    techniques: ['T1218.005'],
    score: 60,
  },
  {
    image: ['regsvr32.exe'],
    re: /[-/]i\s*:\s*["']?((https?|ftp):|\\\\)|scrobj(\.dll)?/i,
    what: 'regsvr32 runs a scriptlet (Squiblydoo)',
    techniques: ['T1218.010'],
    score: 85,
  },
  {
    image: ['regsvr32.exe'],
    re: new RegExp(USER_PATH, 'i'),
    what: 'regsvr32 registers a DLL from a user folder',
    techniques: ['T1218.010'],
    score: 60,
  },
  {
    image: ['rundll32.exe'],
    re: /\b(javascript|vbscript)\s*:|mshtml(\.dll)?\s*,\s*#?runhtmlapplication/i,
    what: 'rundll32 runs inline script',
    techniques: ['T1218.011'],
    score: 85,
  },
  {
    image: ['rundll32.exe'],
    re: /(url|shdocvw|ieframe)(\.dll)?\s*,\s*(openurl[a-z]*|fileprotocolhandler)|shell32(\.dll)?\s*,\s*shellexec_rundll|ieadvpack|advpack(\.dll)?\s*,\s*(launchinfsection|registerocx)|zipfldr(\.dll)?\s*,\s*routethecall|pcwutl(\.dll)?\s*,\s*launchapplication|setupapi(\.dll)?\s*,\s*installhinfsection|syssetup(\.dll)?\s*,\s*setupinfobjectinstallaction/i,
    what: 'rundll32 proxies execution through a Windows DLL',
    techniques: ['T1218.011'],
    score: 70,
  },
  {
    image: ['rundll32.exe'],
    re: URL,
    what: 'rundll32 loads from a remote location',
    techniques: ['T1218.011', 'T1105'],
    score: 80,
  },
  {
    image: ['rundll32.exe'],
    re: new RegExp(String.raw`(${USER_PATH})[^,]*,`, 'i'),
    what: 'rundll32 runs a DLL from a user folder',
    techniques: ['T1218.011'],
    score: 65,
  },
  {
    image: ['certutil.exe'],
    re: /[-/](urlcache|verifyctl)\b/i,
    what: 'certutil downloads a file',
    techniques: ['T1105'],
    score: 80,
  },
  {
    image: ['certutil.exe'],
    re: /[-/]decode(hex)?\b/i,
    what: 'certutil decodes a file',
    techniques: ['T1140'],
    score: 65,
  },
  {
    image: ['bitsadmin.exe'],
    re: /[-/](transfer|addfile|download|setnotifycmdline|replaceremoteprefix)\b/i,
    what: 'bitsadmin transfers a file or sets a notify command',
    techniques: ['T1197', 'T1105'],
    score: 70,
  },
  {
    image: ['msiexec.exe'],
    re: /[-/][ij]\s*["']?(https?|ftp):/i,
    what: 'msiexec installs a package from a URL',
    techniques: ['T1218.007', 'T1105'],
    score: 75,
  },
  {
    image: ['msiexec.exe'],
    re: /[-/]y\s|[-/]z\s/i,
    what: 'msiexec registers a DLL',
    techniques: ['T1218.007'],
    score: 55,
  },
  {
    image: ['cmstp.exe'],
    re: /\.inf\b/i,
    what: 'cmstp installs an INF profile',
    techniques: ['T1218.003'],
    score: 70,
  },
  {
    image: ['odbcconf.exe'],
    re: /\b(regsvr|installdriver)\b|[-/]f\s+\S+\.rsp/i,
    what: 'odbcconf loads a DLL',
    techniques: ['T1218.008'],
    score: 70,
  },
  {
    image: ['wmic.exe'],
    re: /\/format\s*:\s*["']?((https?|ftp):|[a-z]:\\|\\\\)[^"'\s]*\.xsl/i,
    what: 'wmic runs an XSL script',
    techniques: ['T1220'],
    score: 80,
  },
  {
    image: ['wmic.exe'],
    re: /\bprocess\s+call\s+create\b/i,
    what: 'wmic starts a process',
    techniques: ['T1047'],
    score: 55,
  },
  {
    image: ['wmic.exe'],
    re: /\/node\s*:/i,
    what: 'wmic against a remote host',
    techniques: ['T1047', 'T1021'],
    score: 60,
  },
  {
    image: ['installutil.exe', 'regasm.exe', 'regsvcs.exe', 'msbuild.exe'],
    re: new RegExp(USER_PATH, 'i'),
    what: '.NET developer tool runs code from a user folder',
    techniques: ['T1218.004', 'T1218.009', 'T1127.001'],
    score: 65,
  },
  { image: ['msxsl.exe'], re: /./, what: 'msxsl runs an XSL script', techniques: ['T1220'], score: 70 },
  { image: ['hh.exe'], re: URL, what: 'hh opens a remote help file', techniques: ['T1218.001'], score: 70 },
  {
    image: [
      'curl.exe',
      'certreq.exe',
      'desktopimgdownldr.exe',
      'finger.exe',
      'expand.exe',
      'extrac32.exe',
      'esentutl.exe',
    ],
    re: URL,
    what: 'built-in tool fetches from a remote location',
    techniques: ['T1105'],
    score: 50,
  },
  {
    image: ['forfiles.exe', 'pcalua.exe'],
    re: /[-/](c|a)\s/i,
    what: 'indirect command execution',
    techniques: ['T1202'],
    score: 45,
  },
  {
    image: ['ieexec.exe', 'xwizard.exe'],
    re: /./,
    what: 'LOLBin runs remote or registered code',
    techniques: ['T1218'],
    score: 60,
  },
  {
    image: ['wscript.exe', 'cscript.exe'],
    re: /[-/]e:\s*(vbs|vbscript|jscript|javascript|jscript\.encode|vbscript\.encode)\s+["']?[^"'\s]+\.(?!vbs\b|vbe\b|js\b|jse\b|wsf\b)[a-z0-9]+\b/i,
    what: 'script host runs a file disguised as another type',
    techniques: ['T1059.005', 'T1036.008'],
    score: 75,
  },
  {
    image: ['wscript.exe', 'cscript.exe'],
    re: /(https?:|\\\\[0-9a-z.-]+\\)[^\s"']*\.(vbs|vbe|js|jse|wsf|sct)\b/i,
    what: 'script host runs a remote script',
    techniques: ['T1059.005', 'T1105'],
    score: 75,
  },
  {
    image: ['wusa.exe'],
    re: /[-/]extract\s*:\s*["']?([a-z]:\\windows|%windir%|%systemroot%)/i,
    what: 'wusa extracts files into the Windows folder (UAC bypass)',
    techniques: ['T1548.002', 'T1140'],
    score: 75,
  },
  {
    image: ['explorer.exe'],
    re: /explorer(\.exe)?["']?\s+(\/root,\s*)?["']?[^"'\s]+\.(exe|dll|scr|bat|cmd|ps1|vbs|js|hta|com|pif)\b/i,
    what: 'Explorer used to start a program (parent-process evasion)',
    techniques: ['T1202'],
    score: 55,
  },
];

export default defineAnalyzer({
  id: 'lolbin-proxy-execution',
  title: 'Signed Windows binary used to fetch or run code',
  techniques: ['T1218'],
  score: 70,
  query: match('Process', 'proc', {
    image: image([...LOLBINS, 'wscript.exe', 'cscript.exe', 'explorer.exe', 'wusa.exe']),
  }),
  hits(m) {
    const name = imageName(m.proc.image);
    const cmd = text(m.proc.command_line);
    if (!cmd) return null;
    const hits = RULES.filter((r) => r.image.includes(name) && r.re.test(cmd));
    if (hits.length === 0) return null;
    const best = hits.reduce((a, b) => (b.score > a.score ? b : a));
    return {
      risky: [m.proc],
      score: best.score,
      techniques: [...new Set(hits.flatMap((h) => h.techniques))],
      summary: `${describeProcess(m.proc)}: ${best.what}: ${quote(cmd, 240)}`,
    };
  },
});
