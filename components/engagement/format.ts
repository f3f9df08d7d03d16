/**
 * Pure formatting for the engagement views: times (ISO and local), scores, property values. Tested in
 * format.test.ts. Output is plain text, rendered by React as text.
 */

/** Node property names whose numbers are epoch-millisecond times. */
const TIME_PROPS = /(^|_)(time|seen|at)$/;

export function isTimeProp(name: string): boolean {
  return TIME_PROPS.test(name);
}

function toDate(value: string | number | null | undefined): Date | null {
  if (value === null || value === undefined || value === '') return null;
  const d = typeof value === 'number' ? new Date(value) : new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** `2020-10-19T07:30:46.251Z`, or an em dash when unknown. */
export function isoTime(value: string | number | null | undefined): string {
  return toDate(value)?.toISOString() ?? '—';
}

/** The browser's local time, e.g. `19/10/2020, 09:30:46`. */
export function localTime(value: string | number | null | undefined, timeZone?: string): string {
  const d = toDate(value);
  if (!d) return '—';
  return d.toLocaleString('en-GB', timeZone ? { timeZone } : undefined);
}

/** Short UTC time for tables: `2020-10-19 07:30:46`. */
export function shortTime(value: string | number | null | undefined): string {
  const d = toDate(value);
  return d ? d.toISOString().slice(0, 19).replace('T', ' ') : '—';
}

export type RiskLevel = 'none' | 'low' | 'medium' | 'high' | 'critical';

/** Score bands shared by badges, rings and the table (risk scores are 0..100; a lens of several detections can score more). */
export function riskLevel(score: number): RiskLevel {
  if (!(score > 0)) return 'none';
  if (score >= 80) return 'critical';
  if (score >= 60) return 'high';
  if (score >= 30) return 'medium';
  return 'low';
}

export function formatScore(score: number): string {
  return Number.isFinite(score) ? String(Math.round(score)) : '—';
}

/** A property value as text; lists joined by newlines; times as ISO. */
export function propText(name: string, value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'number' && isTimeProp(name) && value > 1e11) return isoTime(value);
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join('\n');
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** Properties in a stable, readable order: identity-ish first, then the rest alphabetically. */
const FIRST = ['image', 'command_line', 'path', 'name', 'ip', 'port', 'hostname', 'pid', 'user', 'host'];
export function sortedProps(props: Record<string, unknown>): Array<[string, unknown]> {
  const rank = (k: string) => {
    const i = FIRST.indexOf(k);
    return i < 0 ? FIRST.length : i;
  };
  return Object.entries(props).sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
}

/**
 * Sysmon's `Hashes` value (`SHA1=...,MD5=...,SHA256=...,IMPHASH=...`, as the process and file nodes keep it
 * in `hashes`) as algorithm and digest pairs, so each digest can be read and copied on its own (an analyst
 * looks up one SHA256, not the whole string). Null for anything else: the value is then shown as it is.
 */
export function hashList(name: string, value: unknown): Array<{ algorithm: string; digest: string }> | null {
  if (name !== 'hashes' || typeof value !== 'string') return null;
  const out: Array<{ algorithm: string; digest: string }> = [];
  for (const part of value.split(',')) {
    const m = /^\s*([A-Za-z][A-Za-z0-9]*)=([0-9A-Fa-f]+)\s*$/.exec(part);
    if (!m) return null;
    out.push({ algorithm: m[1]!.toUpperCase(), digest: m[2]! });
  }
  return out.length > 0 ? out : null;
}

/** Long, copyable values: shown wrapped, with a Copy button. */
export function isLongValue(name: string, text: string): boolean {
  return name === 'command_line' || text.length > 80;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

/** "3m ago" style relative time against `now` (ms). */
export function ago(iso: string | null, now: number): string {
  const d = toDate(iso);
  if (!d) return '—';
  const s = Math.max(0, Math.round((now - d.getTime()) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86_400)}d ago`;
}

/** Tags typed as a comma-separated list: trimmed, de-duplicated, empty ones dropped. */
export function parseTags(text: string): string[] {
  const out: string[] = [];
  for (const t of text.split(',')) {
    const tag = t.trim();
    if (tag && !out.includes(tag)) out.push(tag);
  }
  return out;
}

/**
 * The chips shown while a list is folded: the first `max - 1` and a "+N more" button in the place of the
 * rest, so a folded list takes no more room than `max` chips; a list of at most `max` shows whole.
 */
export function foldedChips(items: readonly string[], max: number): { shown: string[]; hidden: number } {
  if (items.length <= max) return { shown: [...items], hidden: 0 };
  const shown = items.slice(0, Math.max(1, max - 1));
  return { shown, hidden: items.length - shown.length };
}
