/**
 * PowerShell started with an encoded command (-EncodedCommand and its abbreviations -e, -en, -enc, -ec
 * ...): a whole script hidden in Base64 on the command line, the launcher of most PowerShell implants.
 * Hidden window / no profile / non-interactive flags and a decoded payload that downloads or evaluates
 * code raise the score. Any process whose command line starts PowerShell this way counts (a service or
 * cmd.exe wrapper is part of the same launch).
 */
import { defineAnalyzer, describeProcess, match, quote, regex, text } from '../sdk';
import { decodePowerShellCommand, DOWNLOAD_CRADLE, EXECUTE_IDIOM } from '../sdk/windows';

const ENCODED = String.raw`(powershell|pwsh)(\.exe)?["']?(\s.*)?\s[-/]e(c|n|nc|nco|ncod|ncode|ncoded|ncodedc|ncodedco|ncodedcom|ncodedcomm|ncodedcomma|ncodedcomman|ncodedcommand)?\s+["']?[A-Za-z0-9+/=]{16,}|(powershell|pwsh)(\.exe)?["']?(\s.*)?\s[-/]e(c|n|nc)?\s+\$`;

export default defineAnalyzer({
  id: 'encoded-powershell',
  title: 'PowerShell with an encoded command',
  techniques: ['T1059.001', 'T1027'],
  score: 60,
  query: match('Process', 'proc', { command_line: regex(ENCODED) }),
  hits(m) {
    const cmd = text(m.proc.command_line);
    const decoded = decodePowerShellCommand(cmd);
    const stealth = [
      /\s[-/]w(i|in|ind|indo|indow|indows|indowst|indowsty|indowstyl|indowstyle)?\s+(hidden|1)\b/i,
      /\s[-/]nop(rofile)?\b/i,
      /\s[-/]noni(nteractive)?\b/i,
      /\s[-/]exec(utionpolicy)?\s+bypass\b/i,
      /\s[-/]sta\b/i,
    ].filter((re) => re.test(cmd)).length;
    let score = 60 + Math.min(stealth, 3) * 5;
    const notes: string[] = [];
    if (decoded) {
      if (DOWNLOAD_CRADLE.test(decoded)) {
        score = Math.max(score, 85);
        notes.push('decoded payload downloads content');
      }
      if (EXECUTE_IDIOM.test(decoded)) {
        score = Math.max(score, 80);
        notes.push('decoded payload evaluates code');
      }
      if (/amsiutils|amsiinitfailed|scriptblocklogging|etwprovider/i.test(decoded)) {
        score = Math.max(score, 90);
        notes.push('decoded payload disables AMSI or script logging');
      }
    } else if (/\s[-/]e(c|n|nc)?\s+\$/i.test(cmd)) {
      notes.push('payload read from a variable (registry or environment)');
      score = Math.max(score, 75);
    }
    return {
      risky: [m.proc],
      score: Math.min(score, 95),
      techniques: notes.some((n) => n.includes('AMSI')) ? ['T1562.001'] : [],
      summary: `${describeProcess(m.proc)} runs encoded PowerShell${notes.length ? ` (${notes.join('; ')})` : ''}${decoded ? `: decoded ${quote(decoded, 200)}` : `: ${quote(cmd, 200)}`}`,
    };
  },
});
