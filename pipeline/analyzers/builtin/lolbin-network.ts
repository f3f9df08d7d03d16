/**
 * LOLBins and script hosts that talk to other machines: mshta, regsvr32, rundll32, certutil, msbuild ...
 * making connections is fetching remote content or carrying a C2 channel for code they proxy.
 */
import { basename, defineAnalyzer, describeProcess, match, not, quote, text } from '../sdk';
import { image, isPrivateIp, REMOTE_IP } from './_util';

const NETWORKING_LOLBINS = [
  'mshta.exe',
  'rundll32.exe',
  'regsvr32.exe',
  'certutil.exe',
  'msbuild.exe',
  'installutil.exe',
  'regasm.exe',
  'regsvcs.exe',
  'cmstp.exe',
  'odbcconf.exe',
  'msxsl.exe',
  'hh.exe',
  'wscript.exe',
  'cscript.exe',
  'ieexec.exe',
  'xwizard.exe',
  'msiexec.exe',
  'control.exe',
];

export default defineAnalyzer({
  id: 'lolbin-network',
  title: 'LOLBin or script host connected to another host',
  techniques: ['T1218', 'T1105', 'T1071'],
  score: 60,
  query: match('Process', 'proc', { image: image(NETWORKING_LOLBINS) })
    .exists((s) => s.connection('proc', 'e', { ip: REMOTE_IP }, { edgeWhere: { direction: not('inbound') } }))
    .collect(
      'eps',
      (s) => s.connection('proc', 'ep', { ip: REMOTE_IP }, { edgeWhere: { direction: not('inbound') } }),
      'ep',
      10,
    ),
  hits(m) {
    // msiexec talks to internal deployment shares routinely; only the internet is of interest for it.
    const name = basename(m.proc.image).toLowerCase();
    const eps = name === 'msiexec.exe' ? m.eps.filter((e) => !isPrivateIp(e.ip)) : m.eps;
    if (eps.length === 0) return null;
    const dests = eps.map((e) => `${text(e.ip)}:${text(e.port)}`).join(' ');
    return {
      risky: [m.proc],
      context: eps,
      summary: `${describeProcess(m.proc)} connected to ${quote(dests, 120)}: ${quote(m.proc.command_line, 200)}`,
    };
  },
});
