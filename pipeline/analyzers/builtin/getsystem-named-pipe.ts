/**
 * Named-pipe impersonation to reach SYSTEM (Meterpreter/Cobalt Strike getsystem and friends): a service
 * or child whose command line writes into a named pipe (`cmd.exe /c echo x > \\.\pipe\name`) so the
 * listening process can impersonate the SYSTEM client, or the rundll32 variant (`,a /p:name`).
 */
import { defineAnalyzer, describeProcess, match, quote, regex, text } from '../sdk';

const PIPE_ECHO = String.raw`\becho\b.*>\s*\\\\\.\\pipe\\|,a\s+/p:\w+`;

export default defineAnalyzer({
  id: 'getsystem-named-pipe',
  title: 'Named-pipe impersonation (getsystem)',
  techniques: ['T1134.001', 'T1543.003'],
  score: 90,
  query: match('Process', 'proc', { command_line: regex(PIPE_ECHO) }).collect(
    'parents',
    (s) => s.parent('proc', 'p'),
    'p',
    1,
  ),
  hits(m) {
    const cmd = text(m.proc.command_line);
    return {
      risky: [m.proc],
      context: m.parents,
      summary: `${describeProcess(m.proc)} writes to a named pipe for token impersonation: ${quote(cmd, 200)}`,
    };
  },
});
