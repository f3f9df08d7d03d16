/**
 * A command line that downloads content and runs it in memory: `IEX (New-Object Net.WebClient)
 * .DownloadString(...)`, `iwr ... | iex`, BITS transfers, XMLHTTP objects; also when hidden in an
 * encoded command. The download-and-execute pair is the technique; a download alone scores lower.
 */
import { defineAnalyzer, describeProcess, match, quote, regex, text } from '../sdk';
import { decodePowerShellCommand, DOWNLOAD_CRADLE, EXECUTE_IDIOM } from '../sdk/windows';

const PREFILTER = String.raw`net\.webclient|downloadstring|downloaddata|downloadfile|invoke-webrequest|\biwr\b|invoke-restmethod|\birm\b|start-bitstransfer|msxml2\.xmlhttp|winhttp|system\.net\.http|\s[-/]e(c|n|nc|ncodedcommand)?\s+[A-Za-z0-9+/=]{16,}`;

export default defineAnalyzer({
  id: 'powershell-download-cradle',
  title: 'Command line downloads and runs code',
  techniques: ['T1059.001', 'T1105'],
  score: 75,
  query: match('Process', 'proc', { command_line: regex(PREFILTER) }),
  hits(m) {
    const cmd = text(m.proc.command_line);
    const decoded = decodePowerShellCommand(cmd);
    const body = `${cmd}\n${decoded ?? ''}`;
    if (!DOWNLOAD_CRADLE.test(body)) return null;
    const runs = EXECUTE_IDIOM.test(body);
    const url = /https?:\/\/[^\s'"`)]+/i.exec(body)?.[0];
    if (!runs && !url) return null;
    return {
      risky: [m.proc],
      score: runs ? 80 : 55,
      summary: `${describeProcess(m.proc)} ${runs ? 'downloads and runs code' : 'downloads content'}${url ? ` from ${quote(url, 160)}` : ''}: ${quote(decoded ?? cmd, 200)}`,
    };
  },
});
