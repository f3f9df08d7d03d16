/**
 * One process reaching many internal hosts on administration ports (SMB, RPC, WinRM, RDP, LDAP ...)

 * (one process's lifetime): share and session enumeration (Invoke-UserHunter, net view sweeps, BloodHound
 * collection), port scans, worm-like spreading. The operating system's own networking services, which
 * talk to many peers by design, are left out.
 */
import { defineAnalyzer, describeProcess, imageName, match, num, quote, text } from '../sdk';
import { isPrivateIp } from './_util';

const PORTS = [22, 135, 139, 445, 3389, 5985, 5986, 389, 636, 1433, 5900];
const SYSTEM_SERVICES = [
  'system',
  'svchost.exe',
  'lsass.exe',
  'dns.exe',
  'dfsrs.exe',
  'services.exe',
  'spoolsv.exe',
  'microsoft.activedirectory.webservices.exe',
  'ntoskrnl.exe',
  'msmpeng.exe',
  'sensendr.exe',
  'mssense.exe',
];
const MIN_HOSTS = 8;

export default defineAnalyzer({
  id: 'internal-fanout',
  title: 'Process contacted many internal hosts on administration ports',
  techniques: ['T1046', 'T1135'],
  score: 55,
  query: match('Process', 'proc')
    .exists((s) => s.connection('proc', 'e', { port: PORTS }, { edgeWhere: { direction: 'outbound' } }))
    .collect(
      'eps',
      (s) => s.connection('proc', 'ep', { port: PORTS }, { edgeWhere: { direction: 'outbound' } }),
      'ep',
      50,
    ),
  hits(m) {
    if (SYSTEM_SERVICES.includes(imageName(m.proc.image)) || num(m.proc.pid) === 4) return null;
    const eps = m.eps.filter((e) => isPrivateIp(e.ip));
    const hosts = new Set(eps.map((e) => text(e.ip)));
    if (hosts.size < MIN_HOSTS) return null;
    const ports = [...new Set(eps.map((e) => text(e.port)))];
    return {
      risky: [m.proc],
      score: hosts.size >= 20 ? 70 : 55,
      summary: `${describeProcess(m.proc)} contacted ${hosts.size} internal hosts on port(s) ${quote(ports.join(','), 40)}${text(m.proc.command_line) ? `: ${quote(m.proc.command_line, 160)}` : ''}`,
    };
  },
});
