/**
 * A Windows binary loading an unsigned DLL planted next to it: DLL search-order hijacking of programs in
 * System32 sub-folders (sysprep, oobe ...), `.exe.local` redirection folders, or a Windows binary loading
 * an unsigned DLL from a user folder. Auto-elevating targets make it a UAC bypass as well.
 */
import { basename, defineAnalyzer, describeProcess, imageName, match, quote, regex, text } from '../sdk';
import { AUTO_ELEVATE } from './_lists';
import { isDropLocation } from './_util';

// Sub-folders of the system folders (not System32 itself, where vendors install signed DLLs), SxS
// redirection folders, and user folders. Driver stores and .NET native images are unsigned by design.
const PLANTED = String.raw`^[a-z]:\\windows\\(system32|syswow64)\\(?!(spool|driverstore|drivers|downlevel|catroot|wbem\\autorecover)\\)[^\\]+\\[^\\]+\.dll$|\.exe\.local\\|^[a-z]:\\users\\|^[a-z]:\\programdata\\[^\\]+\.dll$|^[a-z]:\\windows\\temp\\`;

export default defineAnalyzer({
  id: 'dll-hijack-system-folder',
  title: 'Windows binary loaded an unsigned planted DLL',
  techniques: ['T1574.001'],
  score: 70,
  query: match('Process', 'proc', {
    image: regex(String.raw`^[a-z]:\\windows\\(system32|syswow64)\\`),
  }).loaded('proc', 'dll', { path: regex(PLANTED) }, { edgeAs: 'load', edgeWhere: { signed: 'false' } }),
  hits(m) {
    const dll = text(m.dll.path);
    // rundll32 / regsvr32 load user DLLs by design; the LOLBin analyzer judges them by command line.
    if (
      ['rundll32.exe', 'regsvr32.exe', 'msiexec.exe', 'dllhost.exe'].includes(imageName(m.proc.image)) &&
      isDropLocation(dll)
    )
      return null;
    const elevates = AUTO_ELEVATE.includes(imageName(m.proc.image));
    return {
      risky: [m.proc],
      context: [m.dll],
      score: elevates ? 80 : 70,
      techniques: elevates ? ['T1548.002'] : [],
      summary: `${describeProcess(m.proc)} loaded the unsigned ${quote(basename(dll), 60)} from ${quote(dll, 200)}`,
    };
  },
});
