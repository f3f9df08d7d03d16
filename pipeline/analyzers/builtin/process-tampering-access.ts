/**
 * A process opening another (not lsass: lsass-access covers it) with rights that change it, where the
 * opener gives itself away:
 *
 *   - parent PID spoofing: a handle with PROCESS_CREATE_PROCESS (0x80) on a process that, moments later,
 *     is the "parent" of a new program (T1134.004): the new program is really the opener's;
 *   - code from memory without a file: the call trace runs through UNKNOWN frames (shellcode, reflective
 *     loaders) while asking to write, inject or take over the process (T1055);
 *   - a program from a user folder (Downloads, Desktop, Temp, Public ...) writing into, injecting into or
 *     suspending a program that is not its own child (T1055; T1562.001 for suspension).
 *
 * A parent handling its own children (browsers, installers, shells) is normal and left out, and so are
 * programs from the system folders without UNKNOWN frames (csrss, conhost, services, AV, WER, Task
 * Manager), except shells, script hosts and LOLBins, which spoof parents for attackers.
 *
 * Whether the target is the opener's own child is known only once the target's creation is in the graph,
 * and Sysmon often logs a parent's access to a new child before the child's creation. An access to a
 * process that started within two seconds before it (by its Sysmon GUID's start time) and whose creation
 * is not in the graph yet is therefore left for later: the query is anchored on the target too, so the
 * creation's update evaluates it again with the parent known. The result is then the same in whatever
 * order and batches the events arrive.
 */
import type { PropValue } from '../../../domain/model';
import { guidStartTime } from '../../graph/keys';
import {
  basename,
  contains,
  defineAnalyzer,
  describeProcess,
  imageIs,
  imageName,
  list,
  match,
  not,
  num,
  quote,
  regex,
  text,
} from '../sdk';
import { isSystemPath, parseAccessMask, PROCESS_ACCESS, SYSTEM_PATH_PATTERN } from '../sdk/windows';
import { EXECUTION_TOOLS } from './_lists';
import { isDropLocation } from './_util';

const A = PROCESS_ACCESS;
/** Rights that change another process: inject, write, take over threads, spawn as it. */
const TAMPER = A.CREATE_THREAD | A.VM_WRITE | A.CREATE_PROCESS | A.SUSPEND_RESUME | A.SET_INFORMATION;

function maskOf(granted: PropValue | undefined): number {
  let m = 0;
  for (const v of list(granted)) m |= parseAccessMask(v) ?? 0;
  return m;
}

export default defineAnalyzer({
  id: 'process-tampering-access',
  title: 'Process opened another to inject, spoof its parent or suspend it',
  techniques: ['T1055'],
  score: 65,
  query: match('Process', 'src')
    .accessed('src', 'target', { image: not(imageIs('lsass.exe')) }, { edgeAs: 'access' })
    .distinct('src', 'target')
    // What hits() drops first, dropped in the query instead: a Windows or installed program that is not a
    // shell, script host or LOLBin and runs no code from memory (csrss, conhost, services, AV ...). These
    // are most accesses, and each row costs a projection and the `spawned` collection.
    .whereAny(
      { src: { image: not(regex(SYSTEM_PATH_PATTERN)) } },
      { access: { call_trace: contains('unknown(') } },
      { src: { image: imageIs(...EXECUTION_TOOLS) } },
    )
    // Its own child: a parent managing what it started.
    .notExists((s) => s.child('src', 'own').compare(['own', 'key'], '=', ['target', 'key']))
    .collect(
      'spawned',
      (s) =>
        s
          .child('target', 'kid')
          .compare(['kid', 'create_time'], '>=', ['access', 'first_seen'], -1_000)
          .compare(['kid', 'create_time'], '<=', ['access', 'last_seen'], 5_000),
      'kid',
      3,
    )
    .anchor('src', 'target'),
  hits(m) {
    const mask = maskOf(m.access.granted_access);
    if ((mask & TAMPER) === 0) return null;
    if (newbornOfUnknownParent(m.target.key, m.target.create_time, m.access.first_seen)) return null;
    const srcPath = text(m.src.image);
    const trace = text(m.access.call_trace);
    const unbacked = /unknown\(/i.test(trace);
    const dropped = isDropLocation(srcPath);
    // Windows binaries (csrss and conhost open every new console program with full access) are only
    // suspects as shells, script hosts and LOLBins, or when running code from memory.
    if (isSystemPath(srcPath) && !unbacked && !EXECUTION_TOOLS.includes(imageName(srcPath))) return null;
    // A spoofed parent is an established process; one opened as it starts is being set up, not borrowed.
    const targetStart = num(m.target.create_time);
    const accessAt = num(m.access.first_seen);
    const established = targetStart === undefined || accessAt === undefined || targetStart < accessAt - 1_000;
    const spawned = established ? m.spawned : [];
    if (isSystemPath(srcPath) && !unbacked && ((mask & A.CREATE_PROCESS) === 0 || spawned.length === 0))
      return null;
    const how: string[] = [];
    const techniques: string[] = [];
    let score = 0;
    let risky = [m.src];
    if ((mask & A.CREATE_PROCESS) !== 0 && spawned.length > 0) {
      score = Math.max(score, 75);
      techniques.push('T1134.004');
      risky = [m.src, ...spawned];
      how.push(
        `then ${spawned.map((k) => quote(basename(k.image), 40)).join(', ')} appeared as its child (parent PID spoofing)`,
      );
    }
    const writes = (mask & (A.CREATE_THREAD | A.VM_WRITE)) !== 0;
    if (unbacked && (writes || (mask & A.CREATE_PROCESS) !== 0)) {
      score = Math.max(score, 75);
      how.push('from code in memory that has no file');
    }
    if (dropped && writes) {
      score = Math.max(score, 65);
      how.push(`from a user folder`);
    }
    if (dropped && (mask & A.SUSPEND_RESUME) !== 0) {
      score = Math.max(score, 60);
      techniques.push('T1562.001');
      how.push('with the right to suspend it');
    }
    if (score === 0) return null;
    return {
      risky,
      context: [m.target],
      score,
      techniques,
      summary: `${describeProcess(m.src)} opened ${describeProcess(m.target)} with access ${quote(list(m.access.granted_access).join(' '), 40)} ${how.join('; ')}${trace ? ` (call trace ${quote(trace, 120)})` : ''}`,
    };
  },
});

/**
 * The target started at most two seconds before the access (its GUID's start time, one-second resolution)
 * and its creation is not in the graph: it may be the opener's own child being set up, which the creation
 * will tell (see the header).
 */
function newbornOfUnknownParent(
  key: string,
  createTime: PropValue | undefined,
  accessAt: PropValue | undefined,
): boolean {
  const at = num(accessAt);
  if (num(createTime) !== undefined || at === undefined || !key.startsWith('Process:')) return false;
  const started = guidStartTime(key.slice('Process:'.length), at);
  return started !== undefined && started >= at - 2_000 && started <= at + 1_000;
}
