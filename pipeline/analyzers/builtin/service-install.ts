/**
 * Services installed to run commands: `sc create/config ... binPath=`, PowerShell New-Service, and in the
 * registry a service ImagePath that is a shell command, a script, a named-pipe echo (getsystem) or a
 * binary in a user folder or the bare Windows folder (PsExec-style remote services). The registry view
 * catches services created through the API (by services.exe on behalf of a remote caller), which no
 * command line shows.
 */
import { defineAnalyzer, describeProcess, list, match, quote, regex, text } from '../sdk';

const SUSPICIOUS_IMAGEPATH =
  /%comspec%|\bcmd(\.exe)?["']?\s+\/[ck]\b|powershell|pwsh|mshta|rundll32|regsvr32|wscript|cscript|\\\\\.\\pipe\\|\becho\b|\\users\\|\\temp\\|\\programdata\\[^\\]+\.exe|\\appdata\\|^["']?(%+(systemroot|windir)%+|[a-z]:\\windows)\\[^\\]+\.exe|^["']?\\\\[^\\]+\\/i;

export const serviceCommandline = defineAnalyzer({
  id: 'service-install-commandline',
  title: 'Service created or reconfigured from the command line',
  techniques: ['T1543.003'],
  score: 55,
  query: match('Process', 'proc', {
    command_line: regex(
      String.raw`\bsc(\.exe)?["']?\s+(\\\\\S+\s+)?(create|config)\b.*binpath|new-service\b|set-service\b.*-binarypathname`,
    ),
  }),
  hits(m) {
    const cmd = text(m.proc.command_line);
    const bin =
      /binpath\s*=\s*("[^"]*"|\S+)/i.exec(cmd)?.[1] ??
      /-binarypathname\s+("[^"]*"|'[^']*'|\S+)/i.exec(cmd)?.[1] ??
      '';
    const bad = SUSPICIOUS_IMAGEPATH.test(bin.replace(/^["']|["']$/g, ''));
    const remote = /\bsc(\.exe)?["']?\s+\\\\/i.test(cmd);
    return {
      risky: [m.proc],
      score: 55 + (bad ? 20 : 0) + (remote ? 15 : 0),
      techniques: remote ? ['T1021.002', 'T1569.002'] : [],
      summary: `${describeProcess(m.proc)} ${remote ? 'creates a service on a remote host' : 'creates a service'}${bin ? ` running ${quote(bin, 160)}` : ''}: ${quote(cmd, 200)}`,
    };
  },
});

export const serviceRegistry = defineAnalyzer({
  id: 'service-install-registry',
  title: 'Service registered with a suspicious command',
  techniques: ['T1543.003', 'T1569.002'],
  score: 70,
  query: match('Process', 'writer').setValue(
    'writer',
    'svc',
    { path: regex(String.raw`\\(currentcontrolset|controlset\d{3})\\services\\[^\\]+$`) },
    { edgeAs: 'set', edgeWhere: { details: regex('^imagepath=') } },
  ),
  hits(m) {
    const image = list(m.set.details)
      .filter((d) => /^imagepath=/i.test(d))
      .map((d) => d.slice('imagepath='.length));
    const bad = image.filter((p) => SUSPICIOUS_IMAGEPATH.test(p.trim()));
    if (bad.length === 0) return null;
    const shell = bad.some((p) => /%comspec%|cmd(\.exe)?["']?\s+\/[ck]|powershell|\\\\\.\\pipe\\/i.test(p));
    const name = text(m.svc.path).split('\\').pop() ?? '';
    return {
      risky: [m.svc],
      context: [m.writer],
      score: shell ? 85 : 65,
      summary: `Service ${quote(name, 80)} registered by ${describeProcess(m.writer)} to run ${quote(bad[0], 220)}`,
    };
  },
});

export const analyzers = [serviceCommandline, serviceRegistry];
