/**
 * Helpers shared by the built-in analyzers (not an analyzer module: the leading underscore keeps the
 * loader away).
 */
import type { PropValue } from '../../../domain/model';
import { anyOf, eq, imageIs, not, startsWith, type Filter } from '../sdk/filters';
import { imageName, isUserWritablePath, list, num, text } from '../sdk';

/** Cypher-side filter: an IP that leaves the host (not loopback, unspecified, multicast, link-local). */
export const REMOTE_IP: Filter = not(
  anyOf(
    startsWith(
      '127.',
      '224.',
      '225.',
      '226.',
      '227.',
      '228.',
      '229.',
      '230.',
      '231.',
      '232.',
      '233.',
      '234.',
      '235.',
      '236.',
      '237.',
      '238.',
      '239.',
      '169.254.',
      'ff0',
      'fe80:',
    ),
    eq('::1', '0:0:0:0:0:0:0:1', '0.0.0.0', '::', '255.255.255.255'),
  ),
);

export function isRemoteIp(ip: PropValue | undefined): boolean {
  const t = text(ip).trim().toLowerCase();
  if (!t) return false;
  if (/^(127\.|22[4-9]\.|23\d\.|169\.254\.|ff0|fe80:)/.test(t)) return false;
  return !['::1', '0:0:0:0:0:0:0:1', '0.0.0.0', '::', '255.255.255.255'].includes(t);
}

/** Private (RFC 1918 / ULA) address: lateral movement stays inside. */
export function isPrivateIp(ip: PropValue | undefined): boolean {
  const t = text(ip).trim().toLowerCase();
  return /^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|f[cd][0-9a-f]{2}:)/.test(t);
}

/** When a process started (creation time, else first sighting). */
export function startedAt(p: { create_time?: PropValue; first_seen?: PropValue }): number | undefined {
  return num(p.create_time) ?? num(p.first_seen);
}

/** Executables in these folders were put there by a user or a program, not installed. Narrower than
 * isUserWritablePath: AppData\Roaming (where per-user apps install) is left out. */
export function isDropLocation(path: PropValue | undefined): boolean {
  const p = text(path);
  if (!isUserWritablePath(p)) return false;
  return !/^[a-z]:\\users\\[^\\]+\\appdata\\roaming\\/i.test(p);
}

export function nameIn(path: PropValue | undefined, names: readonly string[]): boolean {
  return names.includes(imageName(path));
}

/** Image filter for a list of file names. */
export function image(names: readonly string[]): Filter {
  return imageIs(...names);
}

/** The `direction` list of a CONNECTED_TO edge says inbound only. */
export function isInbound(direction: PropValue | undefined): boolean {
  const d = list(direction).map((x) => x.toLowerCase());
  return d.includes('inbound') && !d.includes('outbound');
}
