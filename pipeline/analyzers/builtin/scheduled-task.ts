/**
 * Scheduled task creation from the command line (schtasks /create, at, PowerShell Register-ScheduledTask):
 * persistence, and with /S remote execution on another host. What the task runs and where raises the
 * score: a shell or script, a user folder, SYSTEM, another host, a task named to hide among Microsoft's.
 * A `cmd /c` wrapper only carries the command: for a strong case, the shell, script host or LOLBin that
 * issued it (an agent running in PowerShell, say) is flagged with it.
 */
import { defineAnalyzer, describeProcess, imageName, match, quote, regex, text } from '../sdk';
import { EXECUTION_TOOLS } from './_lists';

const TASK = String.raw`schtasks(\.exe)?["']?\s.*[-/]create\b|schtasks(\.exe)?["']?\s.*[-/]change\b.*[-/]tr\b|\bat(\.exe)?["']?\s+(\\\\\S+\s+)?\d{1,2}:\d{2}|register-scheduledtask|new-scheduledtaskaction|schedule\.service`;

export default defineAnalyzer({
  id: 'scheduled-task',
  title: 'Scheduled task created from the command line',
  techniques: ['T1053.005'],
  score: 45,
  query: match('Process', 'proc', { command_line: regex(TASK) }).collect(
    'parents',
    (s) => s.parent('proc', 'p'),
    'p',
    1,
  ),
  hits(m) {
    const cmd = text(m.proc.command_line);
    const notes: string[] = [];
    const techniques: string[] = [];
    let score = 45;
    const remote = /[-/]s\s+\\?\\?[a-z0-9][\w.-]*/i.exec(cmd.replace(/[-/]sc\s+\w+/gi, ''));
    if (remote) {
      score += 20;
      notes.push(`on remote host ${quote(remote[0].replace(/^[-/]s\s+/i, ''), 60)}`);
      techniques.push('T1021');
    }
    const tr = /[-/]tr\s+("[^"]*"|'[^']*'|\S+)/i.exec(cmd)?.[1] ?? '';
    if (
      /(cmd|powershell|pwsh|wscript|cscript|mshta|rundll32|regsvr32)(\.exe)?\b/i.test(tr) ||
      /\\users\\|\\temp\\|\\programdata\\|\\public\\|https?:/i.test(tr)
    ) {
      score += 15;
      notes.push(`runs ${quote(tr, 120)}`);
    }
    if (/[-/]ru\s+["']?(system|nt authority\\system)\b/i.test(cmd)) {
      score += 10;
      notes.push('as SYSTEM');
    }
    if (/[-/]tn\s+["']?\\?microsoft\\windows\\/i.test(cmd)) {
      score += 10;
      notes.push("named among Microsoft's tasks");
    }
    const issuer = m.parents[0];
    const wrapped = imageName(m.proc.image) === 'cmd.exe' && /(^|\s)\/c\s/i.test(cmd);
    const byTool = issuer !== undefined && EXECUTION_TOOLS.includes(imageName(issuer.image));
    return {
      risky: wrapped && byTool && score >= 70 ? [m.proc, issuer] : [m.proc],
      context: m.parents,
      score: Math.min(score, 90),
      techniques,
      summary: `${describeProcess(m.proc)} creates a scheduled task${notes.length ? ` (${notes.join(', ')})` : ''}: ${quote(cmd, 220)}`,
    };
  },
});
