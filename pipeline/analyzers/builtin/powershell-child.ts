/**
 * PowerShell starting other programs. PowerShell is a shell, so children are not wrong in themselves;
 * what matters is which child: shells, LOLBins and reconnaissance tools started from a script are how an
 * agent running in PowerShell acts on the host. Environment rarity lowers pairs this environment sees
 * all the time (management scripts).
 */
import {
  basename,
  defineAnalyzer,
  describeProcess,
  exists,
  imageName,
  match,
  not,
  quote,
  text,
} from '../sdk';
import { DISCOVERY_TOOLS, EXECUTION_TOOLS, POWERSHELL } from './_lists';
import { image, isDropLocation } from './_util';

// Console host and PowerShell's own compiler for Add-Type.
const ROUTINE = ['conhost.exe', 'csc.exe', 'cvtres.exe', 'werfault.exe'];

export default defineAnalyzer({
  id: 'powershell-child',
  title: 'PowerShell started a program',
  techniques: ['T1059.001'],
  score: 35,
  query: match('Process', 'child', { image: exists() })
    .parent('child', 'ps', { image: image(POWERSHELL) })
    .where('child', { image: not(image(ROUTINE)) })
    .collect('grand', (s) => s.parent('ps', 'gp'), 'gp', 1)
    .anchor('child'),
  async hits(m, ctx) {
    const child = imageName(m.child.image);
    const grand = m.grand[0] ? imageName(m.grand[0].image) : '';
    const tool =
      EXECUTION_TOOLS.includes(child) || DISCOVERY_TOOLS.includes(child) || isDropLocation(m.child.image);
    let score = tool ? 50 : 30;
    // A PowerShell window a person opened from Explorer is an interactive shell.
    if (grand === 'explorer.exe') score -= 15;
    const pair = await ctx.rarity.parentChild(text(m.ps.image), child);
    if (pair.hosts >= 5 || pair.count >= 50) score -= 15;
    else if (pair.hosts <= 1 && pair.count <= 2) score += 10;
    if (score < 25) return null;
    return {
      risky: tool && score >= 50 ? [m.child, m.ps] : [m.child],
      context: [m.ps, ...m.grand],
      score,
      summary: `${describeProcess(m.ps)} started ${quote(basename(m.child.image), 80)}: ${quote(m.child.command_line, 200)}`,
    };
  },
});
