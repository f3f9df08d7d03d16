/**
 * Command lines that blind the defenders or destroy recovery: clearing event logs, disabling Defender or
 * adding exclusions, stopping Sysmon / the event log, unloading the Sysmon driver, deleting shadow copies
 * and backups, turning off recovery, audit policy wipes, USN journal deletion, programs hidden with attrib.
 */
import { defineAnalyzer, describeProcess, match, quote, regex, text } from '../sdk';

const RULES: readonly { re: RegExp; what: string; techniques: readonly string[]; score: number }[] = [
  {
    re: /\bwevtutil(\.exe)?["']?\s+(cl|clear-log)\b/i,
    what: 'clears an event log',
    techniques: ['T1070.001'],
    score: 75,
  },
  {
    re: /clear-eventlog\b|remove-eventlog\b|\[system\.diagnostics\.eventing\.reader\.eventlogsession\]::globalsession\.clearlog/i,
    what: 'clears an event log from PowerShell',
    techniques: ['T1070.001'],
    score: 75,
  },
  {
    re: /set-mppreference\b.*-(disablerealtimemonitoring|disableioavprotection|disablebehaviormonitoring|disableblockatfirstseen|disablescriptscanning|disableintrusionpreventionsystem)\s+(\$?true|1)/i,
    what: 'disables Defender protection',
    techniques: ['T1562.001'],
    score: 80,
  },
  {
    re: /add-mppreference\b.*-exclusion(path|process|extension)/i,
    what: 'adds a Defender exclusion',
    techniques: ['T1562.001'],
    score: 65,
  },
  {
    re: /\bsc(\.exe)?["']?\s+(\\\\\S+\s+)?(stop|delete|config)\s+["']?(windefend|sense|wdboot|wdfilter|wdnissvc|sysmon\d*|sysmondrv|eventlog)\b/i,
    what: 'stops or reconfigures a security service',
    techniques: ['T1562.001', 'T1562.002'],
    score: 75,
  },
  {
    re: /\bfltmc(\.exe)?["']?\s+(unload|detach)\b/i,
    what: 'unloads a file system filter (Sysmon, AV)',
    techniques: ['T1562.001'],
    score: 80,
  },
  {
    re: /\bvssadmin(\.exe)?["']?\s+(delete\s+shadows|resize\s+shadowstorage)\b|shadowcopy\s+delete|win32_shadowcopy.*\.delete\(|\bwbadmin(\.exe)?["']?\s+delete\s+(catalog|systemstatebackup|backup)/i,
    what: 'deletes shadow copies or backups',
    techniques: ['T1490'],
    score: 85,
  },
  {
    re: /\bbcdedit(\.exe)?["']?\s+.*(recoveryenabled\s+no|bootstatuspolicy\s+ignoreallfailures)/i,
    what: 'turns off Windows recovery',
    techniques: ['T1490'],
    score: 80,
  },
  {
    re: /\bauditpol(\.exe)?["']?\s+.*(\/clear|\/remove|\/success:disable|\/failure:disable)/i,
    what: 'weakens the audit policy',
    techniques: ['T1562.002'],
    score: 70,
  },
  {
    re: /\bfsutil(\.exe)?["']?\s+usn\s+deletejournal\b/i,
    what: 'deletes the USN journal',
    techniques: ['T1070'],
    score: 70,
  },
  {
    // Hidden or system attribute on a program or script (desktop.ini is Explorer's own).
    re: /\battrib(\.exe)?["']?\s+(?!.*desktop\.ini)(.*\s)?\+[hs]\b.*\.(exe|dll|ps1|bat|cmd|vbs|js|hta|scr|lnk)\b/i,
    what: 'hides a program or script',
    techniques: ['T1564.001'],
    score: 55,
  },
  {
    re: /\bwmic(\.exe)?["']?\s+.*\bnteventlog\b.*\bcleareventlog\b/i,
    what: 'clears an event log through WMI',
    techniques: ['T1070.001'],
    score: 75,
  },
];

export default defineAnalyzer({
  id: 'defense-evasion-commandline',
  title: 'Command line disables defences or destroys recovery',
  techniques: ['T1562'],
  score: 75,
  query: match('Process', 'proc', {
    command_line: regex(
      String.raw`wevtutil|eventlog|mppreference|attrib|\bsc(\.exe)?["']?\s|fltmc|shadow|wbadmin|bcdedit|auditpol|fsutil|nteventlog`,
    ),
  }),
  hits(m) {
    const cmd = text(m.proc.command_line);
    const hit = RULES.filter((r) => r.re.test(cmd));
    if (hit.length === 0) return null;
    const best = hit.reduce((a, b) => (b.score > a.score ? b : a));
    return {
      risky: [m.proc],
      score: best.score,
      techniques: [...new Set(hit.flatMap((h) => h.techniques))],
      summary: `${describeProcess(m.proc)} ${best.what}: ${quote(cmd, 220)}`,
    };
  },
});
