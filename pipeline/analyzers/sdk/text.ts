/**
 * Helpers for reading matched property values and writing hit summaries. Summaries are one line of plain
 * text: attacker-controlled strings (command lines, paths, registry data) are quoted data, never markup,
 * with control characters escaped and length bounded.
 */
import type { PropValue } from '../../../domain/model';

/** A property value as text ('' when missing; lists joined). */
export function text(v: PropValue | undefined | null): string {
  if (v === undefined || v === null) return '';
  if (Array.isArray(v)) return v.join(', ');
  return String(v);
}

/** A property value as a finite number, or undefined. */
export function num(v: PropValue | undefined | null): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

/** A property value as a list of strings. */
export function list(v: PropValue | undefined | null): string[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v.map(String);
  return [String(v)];
}

/** File name of a Windows or POSIX path (`C:\Windows\System32\cmd.exe` -> `cmd.exe`). */
export function basename(path: PropValue | undefined | null): string {
  const p = text(path)
    .trim()
    .replace(/^"+|"+$/g, '');
  const i = Math.max(p.lastIndexOf('\\'), p.lastIndexOf('/'));
  return i >= 0 ? p.slice(i + 1) : p;
}

/** Lower-case file name, for comparisons. */
export function imageName(path: PropValue | undefined | null): string {
  return basename(path).toLowerCase();
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069]/g;

/** One line: control and bidi characters escaped, runs of spaces collapsed. */
export function oneLine(s: string): string {
  return s
    .replace(CONTROL, (c) =>
      c === '\n' || c === '\r' || c === '\t' ? ' ' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    )
    .replace(/ {2,}/g, ' ')
    .trim();
}

/** Cut to `max` characters, marking the cut. */
export function clip(s: string, max: number): string {
  if (s.length <= max) return s;
  return `${s.slice(0, Math.max(0, max - 1))}…`;
}

/** An attacker-controlled string as quoted data for a summary. */
export function quote(v: PropValue | undefined | null, max = 160): string {
  const s = oneLine(text(v));
  return `"${clip(s, max).replace(/"/g, '\\"')}"`;
}

interface ProcessLike {
  readonly key: string;
  readonly image?: PropValue;
  readonly pid?: PropValue;
  readonly host?: PropValue;
}

/** `cmd.exe (pid 4242) on WORKSTATION5` */
export function describeProcess(p: ProcessLike | undefined | null): string {
  if (!p) return 'unknown process';
  const name = oneLine(basename(p.image)) || 'process';
  const pid = num(p.pid);
  const host = oneLine(text(p.host));
  return `${clip(name, 80)}${pid !== undefined ? ` (pid ${pid})` : ''}${host ? ` on ${clip(host, 64)}` : ''}`;
}
