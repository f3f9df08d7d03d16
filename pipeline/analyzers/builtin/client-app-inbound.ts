/**
 * Client programs accepting a connection from another host: Office applications driven over DCOM
 * (Excel.Application / ExecuteExcel4Macro, Outlook, Word lateral movement), Explorer driven through
 * ShellWindows / ShellBrowserWindow, shells and LOLBins bound to
 * a port (bind shells). Servers accept connections; document editors and shells do not. The remote
 * processes seen on the other end, if the telemetry has them, are the source.
 */
import { basename, defineAnalyzer, describeProcess, list, match, not, quote, text } from '../sdk';
import { EXECUTION_TOOLS, NON_NETWORK_PROGRAMS, OFFICE_APPS } from './_lists';
import { image, isRemoteIp, REMOTE_IP } from './_util';

// Broadcast/multicast discovery that every program with a socket answers.
const DISCOVERY_PORTS = [137, 138, 1900, 5353, 5355, 3702];

export default defineAnalyzer({
  id: 'client-app-inbound',
  title: 'Office application or shell accepted a connection from another host',
  techniques: ['T1021.003', 'T1559.001'],
  score: 75,
  query: match('Process', 'proc', {
    image: image([...OFFICE_APPS, ...EXECUTION_TOOLS, ...NON_NETWORK_PROGRAMS, 'explorer.exe']),
  })
    .connection(
      'proc',
      'ep',
      { port: not(DISCOVERY_PORTS) },
      { edgeAs: 'conn', edgeWhere: { direction: 'inbound', src_ip: REMOTE_IP } },
    )
    .collect(
      'sources',
      (s) =>
        s.connectedBy('ep', 'src', {}, { edgeWhere: { direction: not('inbound') } }).distinct('src', 'proc'),
      'src',
      10,
    ),
  hits(m) {
    const from = list(m.conn.src_ip).filter((ip) => isRemoteIp(ip));
    if (from.length === 0) return null;
    const office = OFFICE_APPS.includes(basename(m.proc.image).toLowerCase());
    const embedded = /-embedding|\/automation/i.test(text(m.proc.command_line));
    const hits = [
      {
        risky: [m.proc],
        context: [m.ep, ...m.sources],
        score: office && embedded ? 85 : 75,
        techniques: office ? [] : ['T1059'],
        summary: `${describeProcess(m.proc)}${office && embedded ? ' (started for automation over DCOM)' : ''} accepted a connection on port ${text(m.ep.port)} from ${quote(from.join(' '), 80)}`,
      },
      ...m.sources.map((s) => ({
        risky: [s],
        context: [m.proc, m.ep],
        score: 65,
        summary: `${describeProcess(s)} connected to ${describeProcess(m.proc)} on port ${text(m.ep.port)}: source of the remote session`,
      })),
    ];
    return hits;
  },
});
