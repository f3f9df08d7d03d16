/**
 * Windows Script Host and mshta starting shells, PowerShell or LOLBins: a VBScript / JScript / HTA
 * dropper handing over to its next stage. Monitoring agents run scripts too, but their scripts do not
 * start PowerShell or cmd.
 */
import { basename, defineAnalyzer, describeProcess, exists, imageName, match, not, quote } from '../sdk';
import { DISCOVERY_TOOLS, EXECUTION_TOOLS, SCRIPT_HOSTS } from './_lists';
import { image, isDropLocation } from './_util';

export default defineAnalyzer({
  id: 'script-host-child',
  title: 'Script host started a shell or LOLBin',
  techniques: ['T1059.005', 'T1059.007'],
  score: 65,
  query: match('Process', 'child', { image: exists() })
    .parent('child', 'host', { image: image(SCRIPT_HOSTS) })
    .where('child', { image: not(image(['conhost.exe', 'werfault.exe'])) }),
  hits(m) {
    const child = imageName(m.child.image);
    const strong =
      EXECUTION_TOOLS.includes(child) || DISCOVERY_TOOLS.includes(child) || isDropLocation(m.child.image);
    if (!strong) return null;
    return {
      risky: [m.child, m.host],
      score: ['powershell.exe', 'pwsh.exe', 'cmd.exe'].includes(child) ? 70 : 65,
      techniques: imageName(m.host.image) === 'mshta.exe' ? ['T1218.005'] : [],
      summary: `${describeProcess(m.host)} (${quote(m.host.command_line, 120)}) started ${quote(basename(m.child.image), 60)}: ${quote(m.child.command_line, 200)}`,
    };
  },
});
