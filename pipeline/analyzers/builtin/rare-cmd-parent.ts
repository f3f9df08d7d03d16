/**
 * cmd.exe started by a program that rarely starts cmd.exe in this environment. Shells are started by
 * Explorer, by other shells and by a handful of management agents; an implant or exploited service
 * dropping to a shell is a parent the environment has hardly ever seen. The pair count comes from the
 * graph itself (environment rarity), so what is normal is learnt, not listed.
 */
import {
  allOf,
  basename,
  defineAnalyzer,
  describeProcess,
  exists,
  imageIs,
  match,
  not,
  quote,
  text,
} from '../sdk';

export default defineAnalyzer({
  id: 'rare-cmd-parent',
  title: 'Rare parent of cmd.exe',
  techniques: ['T1059.003'],
  score: 45,
  query: match('Process', 'shell', { image: imageIs('cmd.exe') })
    .parent('shell', 'parent', {
      // Interactive and self-spawning parents are the normal case, whatever their count; an unknown
      // (provisional) parent says nothing.
      image: allOf(exists(), not(imageIs('explorer.exe', 'cmd.exe', 'conhost.exe', 'userinit.exe'))),
    })
    .anchor('shell'),
  async hits(m, ctx) {
    const pair = await ctx.rarity.parentChild(text(m.parent.image), 'cmd.exe');
    if (pair.count > 3 || pair.hosts > 2) return null;
    return {
      risky: [m.shell],
      context: [m.parent],
      score: pair.count <= 1 ? 50 : 40,
      summary: `${describeProcess(m.shell)} started by ${quote(basename(m.parent.image), 80)}, a parent of cmd.exe seen ${pair.count} time(s) on ${pair.hosts} host(s): ${quote(m.shell.command_line, 200)}`,
    };
  },
});
