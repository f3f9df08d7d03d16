/**
 * Command lines that dump credentials with built-in or well-known tools, whatever the binary is called:
 * comsvcs.dll MiniDump through rundll32, procdump-style `-ma lsass`, registry hive export of SAM /
 * SECURITY / SYSTEM (LSA secrets, local hashes), NTDS copies (ntdsutil IFM, shadow copies, esentutl).
 */
import { defineAnalyzer, describeProcess, exists, match, quote, regex, text } from '../sdk';

interface Rule {
  readonly re: RegExp;
  readonly what: string;
  readonly techniques: readonly string[];
  readonly score: number;
}

const RULES: readonly Rule[] = [
  {
    re: /comsvcs(\.dll)?["']?\s*[, ]\s*(#\s*\+?0*24\b|#-4294967272|minidump)/i,
    what: 'lsass dump through comsvcs.dll MiniDump',
    techniques: ['T1003.001', 'T1218.011'],
    score: 90,
  },
  {
    re: /\s[-/]ma\s+("?lsass(\.exe)?"?|\d+)\b|lsass.*\s[-/]ma\s/i,
    what: 'full process dump (procdump-style -ma)',
    techniques: ['T1003.001'],
    score: 70,
  },
  {
    re: /(minidumpwritedump|out-minidump|sekurlsa::|lsadump::|invoke-mimikatz|dumpcreds|get-process\s+lsass)/i,
    what: 'credential dumping tool invoked',
    techniques: ['T1003.001'],
    score: 90,
  },
  {
    re: /\brdrleakdiag(\.exe)?\b.*\/fullmemdmp/i,
    what: 'lsass dump through rdrleakdiag',
    techniques: ['T1003.001'],
    score: 85,
  },
  {
    re: /\bsqldumper(\.exe)?\b.*\s0x01100/i,
    what: 'process dump through SQLDumper',
    techniques: ['T1003.001'],
    score: 80,
  },
  {
    re: /\breg(\.exe)?["']?\s+(save|export)\s+["']?(hklm|hkey_local_machine)\\(sam|security|system)\b/i,
    what: 'registry hive export of SAM/SECURITY/SYSTEM',
    techniques: ['T1003.002', 'T1003.004'],
    score: 85,
  },
  {
    re: /\bntdsutil(\.exe)?\b.*\b(ifm|create\s+full)\b/i,
    what: 'NTDS.dit copy through ntdsutil IFM',
    techniques: ['T1003.003'],
    score: 85,
  },
  {
    re: /\besentutl(\.exe)?\b.*\/y\b.*(ntds\.dit|\\sam\b|\\system\b|\\security\b)/i,
    what: 'locked credential store copied with esentutl',
    techniques: ['T1003.002', 'T1003.003'],
    score: 85,
  },
  {
    re: /(harddiskvolumeshadowcopy\d*\\windows\\(ntds\\ntds\.dit|system32\\config\\(sam|system|security)))/i,
    what: 'credential store copied from a volume shadow copy',
    techniques: ['T1003.002', 'T1003.003'],
    score: 85,
  },
  {
    re: /\bvssadmin(\.exe)?\b.*\bcreate\s+shadow\b/i,
    what: 'volume shadow copy created (credential store copy)',
    techniques: ['T1003.003'],
    score: 55,
  },
];

const PREFILTER = String.raw`comsvcs|\s[-/]ma\s|minidump|mimikatz|sekurlsa|lsadump|dumpcreds|lsass|rdrleakdiag|sqldumper|\breg(\.exe)?["']?\s+(save|export)|ntdsutil|esentutl|shadowcopy|vssadmin`;

export default defineAnalyzer({
  id: 'credential-dump-commandline',
  title: 'Credential dumping command line',
  techniques: ['T1003'],
  score: 85,
  query: match('Process', 'proc', { command_line: regex(PREFILTER) }).where('proc', { image: exists() }),
  hits(m) {
    const cmd = text(m.proc.command_line);
    const hit = RULES.filter((r) => r.re.test(cmd));
    if (hit.length === 0) return null;
    const best = hit.reduce((a, b) => (b.score > a.score ? b : a));
    return {
      risky: [m.proc],
      score: best.score,
      techniques: [...new Set(hit.flatMap((r) => r.techniques))],
      summary: `${describeProcess(m.proc)}: ${best.what}: ${quote(cmd, 240)}`,
    };
  },
});
