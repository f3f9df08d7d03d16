/**
 * Node identity keys and the value normalisation they depend on. Every key starts with `<Kind>:` (see
 * `kindOfKey` in domain/model.ts) and is spelled one way whatever the telemetry wrote: host names short and
 * upper-case, Windows paths and registry keys case-insensitive, registry hive aliases folded, IPv4-mapped
 * IPv6 addresses as IPv4. Properties keep the spelling as written; only keys are folded.
 *
 * These are pure functions on strings: they run for every event on the identify stage's hot path.
 */

/** Values collectors write for "no value". */
export function present(v: string | undefined | null): v is string {
  if (v === undefined || v === null) return false;
  const t = v.trim();
  return t !== '' && t !== '-';
}

export function clean(v: string | undefined | null): string | undefined {
  if (!present(v)) return undefined;
  return v.trim();
}

// ---------------------------------------------------------------------------------------------- assets

export interface HostName {
  /** Short name, upper-case: the asset's identity (`WORKSTATION6`). */
  short: string;
  /** The short name as written (`workstation6` stays as is), for the `hostname` property. */
  hostname: string;
  /** Fully qualified name when the event carried one, short part upper-case, domain lower-case. */
  fqdn?: string;
}

export function parseHost(host: string): HostName {
  const h = host.trim().replace(/\.$/, '');
  if (isIpLiteral(h)) return { short: h.toUpperCase(), hostname: h };
  const dot = h.indexOf('.');
  if (dot <= 0) return { short: h.toUpperCase(), hostname: h };
  const shortWritten = h.slice(0, dot);
  const short = shortWritten.toUpperCase();
  return { short, hostname: shortWritten, fqdn: `${short}${h.slice(dot).toLowerCase()}` };
}

export function assetKey(short: string): string {
  return `Asset:${short}`;
}

// ----------------------------------------------------------------------------------------------- GUIDs

const NULL_GUID = '00000000-0000-0000-0000-000000000000';

/** Sysmon ProcessGuid without braces, upper-case; the all-zero GUID (unknown process) is no GUID. */
export function normalizeGuid(v: string | undefined): string | undefined {
  const t = clean(v);
  if (!t) return undefined;
  let g = t;
  if (g.startsWith('{') && g.endsWith('}')) g = g.slice(1, -1);
  g = g.trim().toUpperCase();
  if (g === '' || g === NULL_GUID) return undefined;
  return g;
}

const GUID_SHAPE = /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/;
const EARLIEST_PLAUSIBLE = Date.UTC(2005, 0, 1);

/**
 * Sysmon for Windows builds ProcessGuid from the machine id, the process start time in seconds (groups
 * 3 and 2, `{mmmmmmmm-LLLL-HHHH-...}` = 0xHHHHLLLL) and a counter. On the development set the value is
 * within [0, 1) s of the creation's UtcTime for every process, so it bounds the process's lifetime from
 * below even when its creation event is not in the data. Returns epoch ms, or undefined when the GUID has
 * another layout (Sysmon for Linux) or the decoded time is implausible for an event at `seenAt`.
 */
export function guidStartTime(guid: string, seenAt: number): number | undefined {
  if (!GUID_SHAPE.test(guid)) return undefined;
  const secs = Number.parseInt(guid.slice(14, 18) + guid.slice(9, 13), 16);
  const ms = secs * 1000;
  if (!Number.isFinite(ms) || ms < EARLIEST_PLAUSIBLE || ms > seenAt + 60_000) return undefined;
  return ms;
}

export function processGuidKey(guid: string): string {
  return `Process:${guid}`;
}

/** Key of a process known by a session on (asset, pid) that started at `start`. */
export function processSessionKey(asset: string, pid: number, start: number): string {
  return `Process:${asset}:${pid}:${start}`;
}

/** Key of a process known only from non-creation events, first seen at `firstSeen`. */
export function processProvisionalKey(asset: string, pid: number, firstSeen: number): string {
  return `Process:${asset}:${pid}:~${firstSeen}`;
}

/** True for keys built by processSessionKey / processProvisionalKey (they can be aliased away). */
export function isSessionProcessKey(key: string): boolean {
  return key.startsWith('Process:') && !GUID_SHAPE.test(key.slice(8)) && key.split(':').length >= 4;
}

// ------------------------------------------------------------------------------------------------ pids

/** Decimal (`7256`) or hex (`0x1c58`, Security log) process id; undefined when not a pid. */
export function parsePid(v: string | undefined): number | undefined {
  const t = clean(v);
  if (!t) return undefined;
  let n: number;
  if (/^0x[0-9a-f]+$/i.test(t)) n = Number.parseInt(t.slice(2), 16);
  else if (/^\d+$/.test(t)) n = Number.parseInt(t, 10);
  else return undefined;
  return Number.isSafeInteger(n) && n >= 0 && n <= 0xffffffff ? n : undefined;
}

export function parsePort(v: string | undefined): number | undefined {
  const t = clean(v);
  if (!t || !/^\d+$/.test(t)) return undefined;
  const n = Number.parseInt(t, 10);
  return n >= 0 && n <= 65535 ? n : undefined;
}

// ----------------------------------------------------------------------------------------------- files

function isWindowsPath(p: string): boolean {
  return /^[a-zA-Z]:[\\/]/.test(p) || p.startsWith('\\') || p.includes('\\') || /^%[^%]+%/.test(p);
}

/** A file path in one spelling of its prefix (`\??\C:\x`, `\\?\C:\x` -> `C:\x`), case kept. */
export function normalizePath(path: string): string {
  let p = path.trim();
  if (!isWindowsPath(p)) return p;
  if (/^\\\\\?\\UNC\\/i.test(p)) p = `\\\\${p.slice(8)}`;
  else if (p.startsWith('\\??\\') || p.startsWith('\\\\?\\') || p.startsWith('\\\\.\\')) {
    const rest = p.slice(4);
    if (/^[a-zA-Z]:/.test(rest)) p = rest;
  }
  if (/^[a-z]:/.test(p)) p = p[0]!.toUpperCase() + p.slice(1);
  return p;
}

/** `File:<ASSET>:<path>`, Windows paths lower-case (NTFS is case-insensitive), others as written. */
export function fileKey(asset: string, path: string): string {
  const p = normalizePath(path);
  return `File:${asset}:${isWindowsPath(p) ? p.toLowerCase() : p}`;
}

// -------------------------------------------------------------------------------------------- registry

const HIVE_PREFIXES: Array<[RegExp, string]> = [
  [/^\\REGISTRY\\MACHINE(?=\\|$)/i, 'HKLM'],
  [/^\\REGISTRY\\USER(?=\\|$)/i, 'HKU'],
  [/^HKEY_LOCAL_MACHINE(?=\\|$)/i, 'HKLM'],
  [/^HKEY_USERS(?=\\|$)/i, 'HKU'],
  [/^HKEY_CURRENT_USER(?=\\|$)/i, 'HKCU'],
  [/^HKEY_CLASSES_ROOT(?=\\|$)/i, 'HKLM\\SOFTWARE\\Classes'],
  [/^HKCR(?=\\|$)/i, 'HKLM\\SOFTWARE\\Classes'],
  [/^HKEY_CURRENT_CONFIG(?=\\|$)/i, 'HKLM\\SYSTEM\\CurrentControlSet\\Hardware Profiles\\Current'],
  [/^HKCC(?=\\|$)/i, 'HKLM\\SYSTEM\\CurrentControlSet\\Hardware Profiles\\Current'],
  [/^HKLM(?=\\|$)/i, 'HKLM'],
  [/^HKU(?=\\|$)/i, 'HKU'],
  [/^HKCU(?=\\|$)/i, 'HKCU'],
];

/** One spelling of a registry path: hive aliases folded to HKLM / HKU / HKCU, no trailing backslash. */
export function normalizeRegistryPath(path: string): string {
  let p = path.trim().replace(/\\+$/, '');
  for (const [re, hive] of HIVE_PREFIXES) {
    const m = re.exec(p);
    if (m) {
      p = hive + p.slice(m[0].length);
      break;
    }
  }
  return p;
}

export function registryKey(asset: string, path: string): string {
  return `RegistryKey:${asset}:${normalizeRegistryPath(path).toLowerCase()}`;
}

/** Splits a value path (`HKLM\...\Run\Updater`) into its key and value name. */
export function splitRegistryValue(path: string): { key: string; value?: string } {
  const p = normalizeRegistryPath(path);
  const i = p.lastIndexOf('\\');
  if (i <= 0) return { key: p };
  return { key: p.slice(0, i), value: p.slice(i + 1) };
}

// ----------------------------------------------------------------------------------------------- pipes

export function pipeKey(asset: string, name: string): string {
  return `Pipe:${asset}:${name.trim().toLowerCase()}`;
}

// ----------------------------------------------------------------------------------------------- users

/**
 * Principals that exist once per machine although their "domain" looks global (`NT AUTHORITY\SYSTEM` on
 * every host is a different account); keyed per asset so they do not tie all hosts together.
 */
const MACHINE_LOCAL_DOMAINS = new Set([
  'NT AUTHORITY',
  'NT SERVICE',
  'WINDOW MANAGER',
  'FONT DRIVER HOST',
  'IIS APPPOOL',
  'BUILTIN',
  'NT VIRTUAL MACHINE',
]);

export interface UserName {
  key: string;
  name: string;
  domain?: string;
}

/**
 * `DOMAIN\name` (or `name@domain`, or `name` with a separate domain) -> `User:<DOMAIN>\<name>`, domain
 * upper-case and name lower-case so spellings agree; machine-local principals get `@<ASSET>`.
 */
export function parseUser(asset: string, user: string | undefined, domain?: string): UserName | undefined {
  const u = clean(user);
  if (!u) return undefined;
  let name = u;
  let dom = clean(domain);
  const bs = u.indexOf('\\');
  if (bs >= 0) {
    dom = clean(u.slice(0, bs)) ?? dom;
    name = u.slice(bs + 1).trim();
  }
  if (!name) return undefined;
  const domUpper = dom?.toUpperCase();
  let key = domUpper ? `User:${domUpper}\\${name.toLowerCase()}` : `User:${name.toLowerCase()}`;
  if (domUpper && MACHINE_LOCAL_DOMAINS.has(domUpper)) key += `@${asset}`;
  return dom ? { key, name, domain: dom } : { key, name };
}

// ----------------------------------------------------------------------------------------- IP addresses

function isIpv4(s: string): boolean {
  const parts = s.split('.');
  if (parts.length !== 4) return false;
  return parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

function isIpLiteral(s: string): boolean {
  return isIpv4(s) || (s.includes(':') && normalizeIp(s) !== undefined);
}

/** Canonical IP text: IPv4 dotted; IPv4-mapped IPv6 as IPv4; IPv6 compressed lower-case (RFC 5952). */
export function normalizeIp(v: string | undefined): string | undefined {
  let s = clean(v);
  if (!s) return undefined;
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const pct = s.indexOf('%');
  if (pct >= 0) s = s.slice(0, pct);
  if (isIpv4(s))
    return s
      .split('.')
      .map((p) => String(Number(p)))
      .join('.');
  if (!s.includes(':')) return undefined;
  const words = parseIpv6(s);
  if (!words) return undefined;
  // ::ffff:a.b.c.d (IPv4-mapped)
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) {
    const hi = words[6]!;
    const lo = words[7]!;
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return compressIpv6(words);
}

function parseIpv6(s: string): number[] | undefined {
  let text = s.toLowerCase();
  const lastColon = text.lastIndexOf(':');
  const lastPart = text.slice(lastColon + 1);
  if (lastPart.includes('.')) {
    // Embedded IPv4 (`::ffff:1.2.3.4`): rewrite as two hex words.
    if (!isIpv4(lastPart)) return undefined;
    const b = lastPart.split('.').map(Number);
    const hi = ((b[0]! << 8) | b[1]!).toString(16);
    const lo = ((b[2]! << 8) | b[3]!).toString(16);
    text = `${text.slice(0, lastColon + 1)}${hi}:${lo}`;
  }
  const dbl = text.split('::');
  if (dbl.length > 2) return undefined;
  const parse = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    for (const w of part.split(':')) {
      if (!/^[0-9a-f]{1,4}$/.test(w)) return undefined;
      out.push(Number.parseInt(w, 16));
    }
    return out;
  };
  const head = parse(dbl[0]!);
  const rest = dbl.length === 2 ? parse(dbl[1]!) : [];
  if (!head || !rest) return undefined;
  const given = head.length + rest.length;
  if (dbl.length === 1) return given === 8 ? head : undefined;
  if (given > 7) return undefined;
  return [...head, ...new Array<number>(8 - given).fill(0), ...rest];
}

function compressIpv6(words: number[]): string {
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestLen < 2) return hex.join(':');
  const left = hex.slice(0, bestStart).join(':');
  const right = hex.slice(bestStart + bestLen).join(':');
  return `${left}::${right}`;
}

/** Loopback and unspecified addresses mean "this machine": keyed per asset. */
export function isHostLocalIp(ip: string): boolean {
  return ip.startsWith('127.') || ip === '::1' || ip === '0.0.0.0' || ip === '::';
}

export function ipKey(ip: string, asset: string): string {
  return isHostLocalIp(ip) ? `IpAddress:${ip}@${asset}` : `IpAddress:${ip}`;
}

export function endpointKey(
  ip: string,
  port: number | undefined,
  protocol: string | undefined,
  asset: string,
): string {
  const base = `NetworkEndpoint:${ip}:${port ?? ''}:${(protocol ?? '').toLowerCase()}`;
  return isHostLocalIp(ip) ? `${base}@${asset}` : base;
}

// --------------------------------------------------------------------------------------------- domains

export function normalizeDomain(v: string | undefined): string | undefined {
  const t = clean(v);
  if (!t) return undefined;
  const d = t.replace(/\.+$/, '').toLowerCase();
  return d === '' ? undefined : d;
}

export function domainKey(name: string): string {
  return `DomainName:${name}`;
}

export function logonSessionKey(asset: string, logonId: string): string {
  return `LogonSession:${asset}:${logonId.trim().toLowerCase()}`;
}
