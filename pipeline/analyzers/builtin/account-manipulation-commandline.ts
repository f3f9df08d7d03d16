/**
 * Accounts created or given privileges from the command line: `net user x pw /add`, `net localgroup
 * administrators x /add`, domain group changes, PowerShell New-LocalUser / Add-LocalGroupMember /
 * Add-ADGroupMember, and enabling the built-in Guest/Administrator accounts. Persistence and privilege
 * escalation with the system's own account tools.
 */
import { defineAnalyzer, describeProcess, match, quote, regex, text } from '../sdk';

const RULES: readonly { re: RegExp; what: string; techniques: readonly string[]; score: number }[] = [
  {
    re: /\bnet1?(\.exe)?["']?\s+user\s+\S+\s+\S*\s*\/add\b/i,
    what: 'creates a local account',
    techniques: ['T1136.001'],
    score: 65,
  },
  {
    re: /\bnet1?(\.exe)?["']?\s+user\s+\S+.*\/add\b.*\/domain\b|\bnet1?(\.exe)?["']?\s+user\s+\S+.*\/domain\b.*\/add\b/i,
    what: 'creates a domain account',
    techniques: ['T1136.002'],
    score: 70,
  },
  {
    re: /\bnet1?(\.exe)?["']?\s+localgroup\s+("?(administrators|administrateurs|administradores|remote desktop users|remote management users|backup operators)"?)\s+\S+.*\/add\b/i,
    what: 'adds an account to a privileged local group',
    techniques: ['T1098'],
    score: 75,
  },
  {
    re: /\bnet1?(\.exe)?["']?\s+group\s+"?(domain admins|enterprise admins|schema admins|administrators|dnsadmins|account operators)"?\s+\S+.*\/add\b/i,
    what: 'adds an account to a privileged domain group',
    techniques: ['T1098'],
    score: 85,
  },
  {
    re: /\bnet1?(\.exe)?["']?\s+user\s+(guest|administrator)\s+\/active:yes\b/i,
    what: 'enables a built-in account',
    techniques: ['T1078.001'],
    score: 65,
  },
  {
    re: /\bnew-localuser\b|\bnew-aduser\b/i,
    what: 'creates an account from PowerShell',
    techniques: ['T1136'],
    score: 60,
  },
  {
    re: /\badd-localgroupmember\b.*\b(administrators|remote desktop users)\b|\badd-adgroupmember\b.*\b(domain admins|enterprise admins|administrators)\b/i,
    what: 'adds an account to a privileged group from PowerShell',
    techniques: ['T1098'],
    score: 75,
  },
];

export default defineAnalyzer({
  id: 'account-manipulation-commandline',
  title: 'Account created or added to a privileged group',
  techniques: ['T1136', 'T1098'],
  score: 65,
  query: match('Process', 'proc', {
    command_line: regex(
      String.raw`/add\b|/active:yes|new-localuser|new-aduser|add-localgroupmember|add-adgroupmember`,
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
