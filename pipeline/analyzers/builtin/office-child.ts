/**
 * An Office application or document reader starting another program: macros, DDE, exploits and embedded
 * objects all show up as a child of the document's reader. Crash reporting, printing and Office's own
 * helpers are expected; shells, script hosts and LOLBins are the classic sign of a weaponised document.
 * Rarity across the environment separates a routine helper from a one-off.
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
import { BROWSERS, DISCOVERY_TOOLS, EXECUTION_TOOLS, OFFICE_APPS, OFFICE_BENIGN_CHILDREN } from './_lists';
import { image } from './_util';

export default defineAnalyzer({
  id: 'office-child',
  title: 'Office or document reader started a program',
  techniques: ['T1204.002', 'T1566.001'],
  score: 50,
  query: match('Process', 'child', { image: exists() })
    .parent('child', 'office', { image: image(OFFICE_APPS) })
    .where('child', {
      image: not(image([...OFFICE_APPS, ...BROWSERS, ...OFFICE_BENIGN_CHILDREN, 'conhost.exe'])),
    })
    .anchor('child'),
  async hits(m, ctx) {
    const child = imageName(m.child.image);
    const tool = EXECUTION_TOOLS.includes(child) || DISCOVERY_TOOLS.includes(child);
    let score = tool ? 80 : 50;
    const pair = await ctx.rarity.parentChild(text(m.office.image), child);
    // A helper this environment sees from Office on many hosts is routine, not an attack.
    if (!tool && (pair.hosts >= 3 || pair.count >= 25)) score = 20;
    const rare = pair.hosts <= 1 ? ' (first time seen in this environment)' : '';
    return {
      risky: tool ? [m.child, m.office] : [m.child],
      context: [m.office],
      score,
      techniques: tool ? ['T1059'] : [],
      summary: `${describeProcess(m.office)} started ${quote(basename(m.child.image), 80)}: ${quote(m.child.command_line, 200)}${rare}`,
    };
  },
});
