/**
 * Remote Desktop switched on or weakened: fDenyTSConnections set to 0, Network Level Authentication
 * turned off, the RDP port moved, or the firewall opened for it, in the registry or on the command line.
 * An attacker preparing interactive access or RDP hijacking.
 */
import { defineAnalyzer, describeProcess, list, match, quote, regex, text } from '../sdk';

export const rdpRegistry = defineAnalyzer({
  id: 'remote-desktop-enabled',
  title: 'Remote Desktop enabled or weakened in the registry',
  techniques: ['T1021.001', 'T1112'],
  score: 60,
  query: match('Process', 'writer').setValue(
    'writer',
    'key',
    {
      path: regex(
        String.raw`\\control\\terminal server(\\winstations\\rdp-tcp)?$|\\policies\\microsoft\\windows nt\\terminal services$|\\services\\portproxy\\v[46]tov[46]\\tcp$`,
      ),
    },
    { edgeAs: 'set' },
  ),
  hits(m) {
    if (/\\portproxy\\/i.test(text(m.key.path))) {
      const rules = list(m.set.details).filter((d) => !/=\(deleted\)$/i.test(d));
      if (rules.length === 0) return null;
      return {
        risky: [m.writer],
        context: [m.key],
        score: 65,
        techniques: ['T1090'],
        summary: `${describeProcess(m.writer)} added a port forward ${quote(rules.join(' '), 120)} (netsh portproxy)`,
      };
    }
    const changes = list(m.set.details).filter(
      (d) =>
        /^fdenytsconnections=dword \(0x0+\)$/i.test(d) ||
        /^(userauthentication|securitylayer)=dword \(0x0+\)$/i.test(d) ||
        /^portnumber=/i.test(d) ||
        /^fallowunsolicited|^fsinglesessionperuser=dword \(0x0+\)$/i.test(d),
    );
    if (changes.length === 0) return null;
    return {
      risky: [m.writer],
      context: [m.key],
      summary: `${describeProcess(m.writer)} set ${quote(changes.join(' '), 160)} under ${quote(m.key.path, 160)}`,
    };
  },
});

const COMMANDS: readonly { re: RegExp; what: string; techniques: readonly string[]; score: number }[] = [
  {
    re: /terminal server.*fdenytsconnections.*\/d\s+0|fdenytsconnections.*\/d\s+0/i,
    what: 'enables Remote Desktop',
    techniques: ['T1021.001', 'T1112'],
    score: 65,
  },
  {
    re: /rdp-tcp.*userauthentication.*\/d\s+0/i,
    what: 'disables Network Level Authentication',
    techniques: ['T1021.001', 'T1112'],
    score: 65,
  },
  {
    re: /\bnetsh(\.exe)?["']?\s+(advfirewall\s+)?firewall\s+(set|add)\b.*(remotedesktop|remote desktop|3389)/i,
    what: 'opens the firewall for Remote Desktop',
    techniques: ['T1021.001', 'T1562.004'],
    score: 65,
  },
  {
    re: /\bnetsh(\.exe)?["']?\s+(advfirewall\s+set\s+\w+\s+state\s+off|firewall\s+set\s+opmode\s+(mode=)?disable)/i,
    what: 'turns the firewall off',
    techniques: ['T1562.004'],
    score: 70,
  },
  {
    re: /\bnetsh(\.exe)?["']?\s+(advfirewall\s+)?firewall\s+add\s+(rule|allowedprogram|portopening)\b/i,
    what: 'adds a firewall exception',
    techniques: ['T1562.004'],
    score: 45,
  },
  {
    re: /\bnetsh(\.exe)?["']?\s+interface\s+portproxy\s+add\b/i,
    what: 'adds a port forward (portproxy)',
    techniques: ['T1090'],
    score: 65,
  },
  {
    re: /set-netfirewallprofile\b.*-enabled\s+(\$?false|0)|set-itemproperty\b.*fdenytsconnections.*-value\s+0/i,
    what: 'turns the firewall off or enables Remote Desktop from PowerShell',
    techniques: ['T1562.004', 'T1021.001'],
    score: 65,
  },
];

export const rdpCommandline = defineAnalyzer({
  id: 'remote-access-commandline',
  title: 'Command line opens remote access or the firewall',
  techniques: ['T1562.004'],
  score: 60,
  query: match('Process', 'proc', {
    command_line: regex(
      String.raw`fdenytsconnections|userauthentication|netsh|portproxy|set-netfirewallprofile`,
    ),
  }),
  hits(m) {
    const cmd = text(m.proc.command_line);
    const hit = COMMANDS.filter((c) => c.re.test(cmd));
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

export const analyzers = [rdpRegistry, rdpCommandline];
