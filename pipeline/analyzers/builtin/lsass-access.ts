/**
 * A process opening lsass.exe with rights that read or write its memory: credential theft (mimikatz
 * sekurlsa, MiniDumpWriteDump, handle duplication).
 *
 * The evidence is the access mask together with the call trace, not the caller's name (attackers run from
 * System32 too: rundll32 + comsvcs, Task Manager):
 *   0x1010  QUERY_LIMITED | VM_READ                    mimikatz sekurlsa::logonpasswords
 *   0x1410  + QUERY_INFORMATION                        MiniDumpWriteDump (comsvcs, procdump, taskmgr)
 *   0x1438  + VM_WRITE | VM_OPERATION                  mimikatz patching (lsadump, pth)
 *   0x143a  + CREATE_THREAD                            mimikatz misc / injection
 *   0x1fffff, 0x1f3fff, 0x1f1fff, 0x1f0fff  PROCESS_ALL_ACCESS (per Windows version / .NET)
 *   0x40    DUP_HANDLE                                 handle duplication dumpers
 * Query-only masks (0x1000, 0x1400, 0x2000, 0x3000) are what svchost, AV and VM tools ask for all day.
 * A call trace through dbghelp/dbgcore/comsvcs is a dump being written; a frame in UNKNOWN memory is
 * code running from memory that has no file (injected shellcode, reflective loaders, PowerShell
 * in-memory modules). Known security/VM agents are excused only without such evidence.
 */
import {
  accessCapabilities,
  allOf,
  exists,
  defineAnalyzer,
  describeProcess,
  imageIs,
  imageName,
  list,
  match,
  parseAccessMask,
  text,
} from '../sdk';
import { REMOTE_IP } from './_util';
import { isSystemPath } from '../sdk/windows';

/** Agents that read lsass memory as part of their job (only excused without dump/unknown evidence). */
const KNOWN_READERS = [
  'msmpeng.exe',
  'mssense.exe',
  'sensecncproxy.exe',
  'nissrv.exe',
  'wininit.exe',
  'csrss.exe',
  'smss.exe',
  'svchost.exe',
  'wmiprvse.exe',
  'lsm.exe',
  'vmtoolsd.exe',
  'vboxservice.exe',
  'sysmon.exe',
  'sysmon64.exe',
  'mrt.exe',
  'taskmgr.exe',
  'perfmon.exe',
  'procexp.exe',
  'procexp64.exe',
  'werfault.exe',
];

export default defineAnalyzer({
  id: 'lsass-access',
  title: 'LSASS memory opened for reading or writing',
  techniques: ['T1003.001'],
  score: 70,
  query: match('Process', 'src')
    .accessed('src', 'lsass', { image: imageIs('lsass.exe') }, { edgeAs: 'access' })
    .distinct('src', 'lsass')
    // Every access changes its source; lsass itself is touched by hundreds of accessors.
    .collect(
      'rdp',
      (s) =>
        s
          .asset('src', 'own')
          .out('src', 'RAN_AS', 'user')
          .out('user', 'LOGGED_ON', 'via', {
            edgeWhere: { logon_type: ['10', '7'], source_ip: allOf(exists(), REMOTE_IP) },
          })
          .compare(['via', 'key'], '=', ['own', 'key']),
      'via',
      1,
    )
    .anchor('src'),
  hits(m) {
    const masks = list(m.access.granted_access)
      .map((g) => ({ text: g, mask: parseAccessMask(g) }))
      .filter((x): x is { text: string; mask: number } => x.mask !== undefined);
    const caps = masks.map((x) => ({ ...x, ...accessCapabilities(x.mask) }));
    const strong = caps.filter((c) => c.read || c.write);
    const dup = caps.filter((c) => c.dupHandle && !c.read && !c.write);
    if (strong.length === 0 && dup.length === 0) return null;
    const trace = text(m.access.call_trace).toLowerCase();
    const dumpEvidence = /\\(dbghelp|dbgcore|comsvcs)\.dll/.test(trace);
    const unknownCode = /unknown\(/.test(trace);
    const name = imageName(m.src.image);
    const knownAgent = KNOWN_READERS.includes(name) && isSystemPathOrAgent(text(m.src.image));
    if (knownAgent && !dumpEvidence && !unknownCode) return null;
    let score = strong.length > 0 ? 70 : 55;
    // Security and backup agents installed under Program Files read lsass for a living; without dump or
    // injected-code evidence their access is only worth a low score (an attacker can install there too).
    if (/^[a-z]:\\program files( \(x86\))?\\/i.test(text(m.src.image)) && !strong.some((c) => c.write))
      score = 40;
    const why: string[] = [];
    if (dumpEvidence) {
      score = 90;
      why.push('through the minidump API (dbghelp/dbgcore/comsvcs in the call trace)');
    }
    if (unknownCode) {
      score = Math.max(score, 85);
      why.push('from code in memory with no backing file (UNKNOWN in the call trace)');
    }
    const shown = (strong.length > 0 ? strong : dup)
      .map((c) => c.text)
      .slice(0, 4)
      .join(', ');
    const rights = strong.some((c) => c.write)
      ? 'read/write memory'
      : strong.length > 0
        ? 'read memory'
        : 'duplicate its handles';
    const rdp = m.rdp.length > 0;
    return {
      risky: [m.src],
      context: [m.lsass, ...m.rdp],
      score,
      techniques: rdp ? ['T1021.001'] : [],
      summary: `${describeProcess(m.src)} opened lsass.exe with access ${shown} (${rights})${why.length ? ` ${why.join(' and ')}` : ''}${rdp ? ', by a user logged on to this host over Remote Desktop' : ''}`,
    };
  },
});

function isSystemPathOrAgent(image: string): boolean {
  return (
    isSystemPath(image) ||
    /^[a-z]:\\programdata\\microsoft\\(windows defender|windows defender advanced threat protection)\\/i.test(
      image,
    )
  );
}
