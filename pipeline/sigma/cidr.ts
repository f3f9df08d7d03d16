/**
 * `cidr` modifier: IPv4 and IPv6 prefix matching on field values. Addresses are parsed into bytes so the
 * test is a byte-prefix compare; an IPv4-mapped IPv6 value (`::ffff:10.0.0.1`) also matches IPv4 ranges,
 * since Sysmon writes either form depending on the socket.
 */

export function parseIPv4(s: string): Uint8Array | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

export function parseIPv6(input: string): Uint8Array | undefined {
  let s = input;
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  if (!s.includes(':')) return undefined;
  const words: number[] = [];
  let tail4: Uint8Array | undefined;
  const lastColon = s.lastIndexOf(':');
  const last = s.slice(lastColon + 1);
  if (last.includes('.')) {
    tail4 = parseIPv4(last);
    if (!tail4) return undefined;
    s = s.slice(0, lastColon + 1) + '0:0';
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const parseWords = (h: string): number[] | undefined => {
    if (h === '') return [];
    const out: number[] = [];
    for (const w of h.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(w)) return undefined;
      out.push(parseInt(w, 16));
    }
    return out;
  };
  const a = parseWords(halves[0]!);
  const b = halves.length === 2 ? parseWords(halves[1]!) : [];
  if (!a || !b) return undefined;
  if (halves.length === 2) {
    const fill = 8 - a.length - b.length;
    if (fill < 1) return undefined;
    words.push(...a, ...new Array<number>(fill).fill(0), ...b);
  } else {
    if (a.length !== 8) return undefined;
    words.push(...a);
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[i * 2] = words[i]! >> 8;
    out[i * 2 + 1] = words[i]! & 0xff;
  }
  if (tail4) out.set(tail4, 12);
  return out;
}

function mappedV4(v6: Uint8Array): Uint8Array | undefined {
  for (let i = 0; i < 10; i++) if (v6[i] !== 0) return undefined;
  if (v6[10] !== 0xff || v6[11] !== 0xff) return undefined;
  return v6.slice(12);
}

interface Net {
  readonly bytes: Uint8Array;
  readonly bits: number;
}

export function parseCidr(spec: string): Net {
  const slash = spec.indexOf('/');
  const addr = slash < 0 ? spec : spec.slice(0, slash);
  const bytes = parseIPv4(addr) ?? parseIPv6(addr);
  if (!bytes) throw new Error(`invalid CIDR '${spec}'`);
  const max = bytes.length * 8;
  const bits = slash < 0 ? max : Number(spec.slice(slash + 1));
  if (!Number.isInteger(bits) || bits < 0 || bits > max) throw new Error(`invalid CIDR prefix '${spec}'`);
  return { bytes, bits };
}

function inNet(ip: Uint8Array, net: Net): boolean {
  if (ip.length !== net.bytes.length) return false;
  const full = net.bits >> 3;
  for (let i = 0; i < full; i++) if (ip[i] !== net.bytes[i]) return false;
  const rem = net.bits & 7;
  if (rem === 0) return true;
  const mask = (0xff << (8 - rem)) & 0xff;
  return (ip[full]! & mask) === (net.bytes[full]! & mask);
}

/** Test for "value lies in any of the networks". */
export function compileCidr(specs: readonly string[]): (value: string) => boolean {
  const nets = specs.map(parseCidr);
  return (value) => {
    const v = value.trim();
    let ip = parseIPv4(v);
    let alt: Uint8Array | undefined;
    if (!ip) {
      ip = parseIPv6(v);
      if (!ip) return false;
      alt = mappedV4(ip);
    }
    for (const n of nets) if (inNet(ip, n) || (alt !== undefined && inNet(alt, n))) return true;
    return false;
  };
}
