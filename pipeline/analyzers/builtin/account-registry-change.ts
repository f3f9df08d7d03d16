/**
 * Registry changes that are the footprint of an account, share or autostart technique whatever tool made
 * them (net.exe, the Win32 API, an implant, regedit):
 *
 *   - SAM: a local account created (T1136.001), one whose name ends in `$` so it hides among machine
 *     accounts (T1564.002), a change of the Administrators alias membership (T1098), and the F value of
 *     an account written by anything but lsass (RID hijacking, T1098 / T1078.001);
 *   - LanmanServer: a share added (staging or a way in, T1021.002) or null-session pipes / shares opened
 *     to anonymous users (T1021.002);
 *   - IEAK PendingGPOs: an INF run at the next logon (T1547);
 *   - the Update Orchestrator's UScheduler command line pointed at a shell (CVE-2020-1313, T1068);
 *   - Explorer's MRU lists deleted (indicator removal, T1070).
 *
 * SAM and LanmanServer values are written by lsass and the Server service on behalf of the real actor,
 * so the key is the risky node there (TOUCH joins reach the processes); elsewhere the writer is.
 */
import {
  defineAnalyzer,
  describeProcess,
  imageName,
  list,
  match,
  quote,
  regex,
  text,
  type HitDraft,
} from '../sdk';

interface Rule {
  readonly key: RegExp;
  /** On the `<value>=<data>` details of the write; omitted: any value. */
  readonly value?: RegExp;
  readonly what: string;
  readonly techniques: readonly string[];
  readonly score: number;
  /** The key is the finding (written by lsass / the Server service on someone's behalf). */
  readonly keyRisky?: boolean;
  /** Only when the writer is not lsass. */
  readonly notLsass?: boolean;
}

const SHELL = /(cmd|powershell|pwsh|wscript|cscript|mshta|rundll32|regsvr32)(\.exe)?\b/i;

const RULES: readonly Rule[] = [
  {
    key: /\\sam\\domains\\account\\users\\names\\[^\\]+\$$/i,
    what: 'created a local account hidden by a trailing $',
    techniques: ['T1136.001', 'T1564.002'],
    score: 75,
    keyRisky: true,
  },
  {
    key: /\\sam\\domains\\account\\users\\names\\[^\\]*[^\\$]$/i,
    what: 'created a local account',
    techniques: ['T1136.001'],
    score: 40,
    keyRisky: true,
  },
  {
    key: /\\sam\\domains\\builtin\\aliases\\00000220$/i,
    value: /^c=/i,
    what: 'changed the members of the local Administrators group',
    techniques: ['T1098'],
    score: 50,
    keyRisky: true,
  },
  {
    key: /\\sam\\domains\\account\\users\\[0-9a-f]{8}$/i,
    value: /^f=/i,
    what: "rewrote an account's SAM record (RID hijacking)",
    techniques: ['T1098', 'T1078.001'],
    score: 85,
    notLsass: true,
  },
  {
    key: /\\services\\lanmanserver\\shares$/i,
    what: 'added a file share',
    techniques: ['T1021.002'],
    score: 40,
    keyRisky: true,
  },
  {
    key: /\\services\\lanmanserver\\parameters$/i,
    value: /^(nullsessionpipes|nullsessionshares)=/i,
    what: 'opened pipes or shares to anonymous sessions',
    techniques: ['T1021.002'],
    score: 75,
  },
  {
    key: /\\ieak\\grouppolicy\\pendinggpos$/i,
    what: 'queued an INF to run at the next logon (IEAK pending GPO)',
    techniques: ['T1547'],
    score: 70,
  },
  {
    key: /\\windowsupdate\\orchestrator\\uscheduler\\[^\\]+$/i,
    value: /^(cmdline|startarg|pausearg)=/i,
    what: "pointed the Update Orchestrator's scheduler at a command",
    techniques: ['T1068'],
    score: 80,
    keyRisky: true,
  },
];

const KEYS = String.raw`\\sam\\domains\\|\\services\\lanmanserver\\(shares|parameters)$|\\ieak\\grouppolicy\\pendinggpos$|\\orchestrator\\uscheduler\\`;

export const accountRegistrySet = defineAnalyzer({
  id: 'account-registry-change',
  title: 'Account, share or autostart changed in the registry',
  techniques: ['T1098'],
  score: 50,
  query: match('Process', 'writer')
    .setValue('writer', 'key', { path: regex(KEYS) }, { edgeAs: 'set' })
    .anchor('writer'),
  hits(m) {
    const path = text(m.key.path);
    const lsass = imageName(m.writer.image) === 'lsass.exe';
    const details = list(m.set.details);
    const drafts: HitDraft[] = [];
    for (const r of RULES) {
      if (!r.key.test(path) || (r.notLsass && lsass)) continue;
      const d = r.value ? details.find((x) => r.value!.test(x)) : (details[0] ?? '');
      if (d === undefined) continue;
      if (r.techniques.includes('T1068') && !SHELL.test(details.join(' '))) continue;
      drafts.push({
        risky: r.keyRisky ? [m.key] : [m.writer],
        context: r.keyRisky ? [m.writer] : [m.key],
        score: r.score,
        techniques: [...r.techniques],
        summary: `${describeProcess(m.writer)} ${r.what}: ${quote(path, 160)}${d ? ` (${quote(d, 100)})` : ''}`,
      });
      break;
    }
    return drafts;
  },
});

export const mruDeleted = defineAnalyzer({
  id: 'mru-deleted',
  title: "Explorer's recent-activity lists deleted",
  techniques: ['T1070'],
  score: 45,
  query: match('Process', 'writer')
    .out('writer', 'DELETED_KEY', 'key', {
      where: { path: regex(String.raw`\\explorer\\(runmru|recentdocs|typedpaths|wordwheelquery|comdlg32\\(opensavepidlmru|lastvisitedpidlmru))$`) },
    })
    .anchor('writer'),
  hits(m) {
    return {
      risky: [m.writer],
      context: [m.key],
      summary: `${describeProcess(m.writer)} deleted ${quote(m.key.path, 200)}, a list of what the user ran or opened`,
    };
  },
});

export const analyzers = [accountRegistrySet, mruDeleted];
