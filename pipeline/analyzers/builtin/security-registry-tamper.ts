/**
 * Registry values that switch a security control off: Defender disabled or given exclusions, UAC off or
 * remote UAC filtering off (lateral movement with local accounts), WDigest storing clear-text passwords
 * again (set before mimikatz runs), LSA protection off, Restricted Admin mode for pass-the-hash over
 * RDP, the event log or Sysmon service disabled, Office macros allowed or given the VBA object model.
 */
import { defineAnalyzer, describeProcess, list, match, not, quote, regex, text } from '../sdk';
import { image } from './_util';

interface Rule {
  readonly key: RegExp;
  readonly value: RegExp;
  readonly what: string;
  readonly techniques: readonly string[];
  readonly score: number;
}

const ON = String.raw`dword \(0x0*1\)`;
const OFF = String.raw`dword \(0x0+\)`;

const RULES: readonly Rule[] = [
  {
    key: /\\office\\[\d.]+\\[^\\]+\\security$/i,
    value: new RegExp(`^(accessvbom|vbawarnings)=${ON}`, 'i'),
    what: 'lets Office macros run unprompted or reach the VBA object model',
    techniques: ['T1562.001', 'T1112'],
    score: 60,
  },
  {
    key: /\\policies\\microsoft\\windows defender(\\real-time protection)?$|\\microsoft\\windows defender(\\real-time protection)?$/i,
    value: new RegExp(
      `^(disableantispyware|disableantivirus|disablerealtimemonitoring|disablebehaviormonitoring|disableioavprotection|disableonaccessprotection|disablescanonrealtimeenable)=${ON}`,
      'i',
    ),
    what: 'disables Defender',
    techniques: ['T1562.001'],
    score: 80,
  },
  {
    key: /\\windows defender\\exclusions\\(paths|processes|extensions)$/i,
    value: /^[^=]+=/,
    what: 'adds a Defender exclusion',
    techniques: ['T1562.001'],
    score: 65,
  },
  {
    key: /\\currentversion\\policies\\system$/i,
    value: new RegExp(
      `^enablelua=${OFF}|^consentpromptbehavioradmin=${OFF}|^localaccounttokenfilterpolicy=${ON}`,
      'i',
    ),
    what: 'turns UAC or remote UAC filtering off',
    techniques: ['T1548.002', 'T1112'],
    score: 70,
  },
  {
    key: /\\securityproviders\\wdigest$/i,
    value: new RegExp(`^uselogoncredential=${ON}`, 'i'),
    what: 'makes WDigest keep clear-text passwords',
    techniques: ['T1112', 'T1003.001'],
    score: 85,
  },
  {
    key: /\\control\\lsa$/i,
    value: new RegExp(
      `^runasppl=${OFF}|^disablerestrictedadmin=${OFF}|^(lmcompatibilitylevel)=dword \\(0x0*[0-2]\\)|^notificationpackages=|^security packages=`,
      'i',
    ),
    what: 'weakens LSA protection or credential settings',
    techniques: ['T1112', 'T1556'],
    score: 70,
  },
  {
    key: /\\services\\(eventlog|sysmon\d*|sysmondrv|windefend|wdboot|wdfilter|wdnisdrv|wdnissvc|sense)$/i,
    value: /^start=dword \(0x0*4\)/i,
    what: 'disables a security service',
    techniques: ['T1562.001', 'T1562.002'],
    score: 80,
  },
  {
    key: /\\shellids\\microsoft\.powershell$|\\policies\\microsoft\\windows\\powershell$/i,
    value: /^executionpolicy=(bypass|unrestricted)$/i,
    what: 'lets every PowerShell script run',
    techniques: ['T1562'],
    score: 45,
  },
  {
    key: /\\control\\session manager\\environment$|^hk(cu|u\\[^\\]+)\\environment$/i,
    value: /^__pslockdownpolicy=/i,
    what: 'overrides PowerShell Constrained Language Mode',
    techniques: ['T1562'],
    score: 65,
  },
  {
    key: /\\policies\\microsoft\\windows\\(powershell\\scriptblocklogging|powershell\\modulelogging|eventlog\\[^\\]+)$/i,
    value: new RegExp(`^(enablescriptblocklogging|enablemodulelogging)=${OFF}|^enabled=${OFF}`, 'i'),
    what: 'turns logging off',
    techniques: ['T1562.002'],
    score: 70,
  },
];

export default defineAnalyzer({
  id: 'security-registry-tamper',
  title: 'Security control switched off in the registry',
  techniques: ['T1562', 'T1112'],
  score: 70,
  query: match('Process', 'writer', {
    image: not(image(['msmpeng.exe', 'mpcmdrun.exe', 'trustedinstaller.exe', 'tiworker.exe', 'msiexec.exe'])),
  })
    .setValue(
      'writer',
      'key',
      {
        path: regex(
          String.raw`\\office\\[0-9.]+\\[^\\]+\\security$|shellids\\microsoft\.powershell$|\\windows\\powershell$|environment$|windows defender|\\policies\\system$|wdigest$|\\control\\lsa$|\\services\\(eventlog|sysmon|windefend|wd|sense)|scriptblocklogging$|modulelogging$|\\policies\\microsoft\\windows\\eventlog`,
        ),
      },
      { edgeAs: 'set' },
    )
    .anchor('writer'),
  hits(m) {
    const path = text(m.key.path);
    const details = list(m.set.details);
    const hit = RULES.flatMap((r) =>
      r.key.test(path) ? details.filter((d) => r.value.test(d)).map((d) => ({ r, d })) : [],
    );
    if (hit.length === 0) return null;
    const best = hit.reduce((a, b) => (b.r.score > a.r.score ? b : a));
    return {
      risky: [m.writer],
      context: [m.key],
      score: best.r.score,
      techniques: [...new Set(hit.flatMap((h) => h.r.techniques))],
      summary: `${describeProcess(m.writer)} ${best.r.what}: ${quote(best.d, 120)} under ${quote(path, 160)}`,
    };
  },
});
