/**
 * PowerShell and Windows script hosts opening connections to other machines: download cradles and
 * PowerShell/VBS implants beaconing (Empire, PoshC2 ...), and PowerShell reaching other hosts' admin
 * ports (RPC, SMB, WinRM: remote WMI, services, PsExec-style lateral movement). Directory services
 * traffic (DNS, Kerberos, LDAP, time) is what management scripts do all day and is left out.
 */
import { defineAnalyzer, describeProcess, match, not, num, quote, text } from '../sdk';
import { ADMIN_PORTS, POWERSHELL, SCRIPT_HOSTS } from './_lists';
import { image, isPrivateIp, REMOTE_IP } from './_util';

const INFRA_PORTS = [53, 88, 123, 389, 636, 3268, 3269, 464];

export default defineAnalyzer({
  id: 'script-host-network',
  title: 'PowerShell or script host connected to another host',
  techniques: ['T1059.001', 'T1071.001'],
  score: 50,
  query: match('Process', 'proc', { image: image([...POWERSHELL, ...SCRIPT_HOSTS]) })
    .exists((s) =>
      s.connection(
        'proc',
        'e',
        { ip: REMOTE_IP, port: not(INFRA_PORTS) },
        { edgeWhere: { direction: not('inbound') } },
      ),
    )
    .collect(
      'eps',
      (s) =>
        s.connection(
          'proc',
          'ep',
          { ip: REMOTE_IP, port: not(INFRA_PORTS) },
          { edgeWhere: { direction: not('inbound') } },
        ),
      'ep',
      20,
    ),
  hits(m) {
    if (m.eps.length === 0) return null;
    const lateral = m.eps.filter((e) => {
      const port = num(e.port) ?? 0;
      return isPrivateIp(e.ip) && (ADMIN_PORTS.includes(port) || port >= 49152);
    });
    const dests = m.eps.map((e) => `${text(e.ip)}:${text(e.port)}`);
    return {
      risky: [m.proc],
      context: m.eps,
      score: lateral.length > 0 ? 60 : 50,
      techniques: lateral.length > 0 ? ['T1021'] : [],
      summary: `${describeProcess(m.proc)} connected to ${quote(dests.slice(0, 6).join(' '), 160)}${lateral.length > 0 ? ' (remote administration ports of another host)' : ''}${text(m.proc.command_line) ? `: ${quote(m.proc.command_line, 160)}` : ''}`,
    };
  },
});
