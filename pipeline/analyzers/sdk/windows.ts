/**
 * Windows knowledge analyzers share: where executables normally live, process access rights, PowerShell
 * encoded commands. Pure functions.
 */

/** Directories a standard user can write to: executables there were dropped, not installed. */
const USER_WRITABLE = [
  /^[a-z]:\\users\\[^\\]+\\(downloads|desktop|documents|music|pictures|videos|favorites|contacts|links|saved games|searches)\\/i,
  /^[a-z]:\\users\\[^\\]+\\appdata\\local\\temp\\/i,
  /^[a-z]:\\users\\[^\\]+\\appdata\\roaming\\(?!microsoft\\)/i,
  /^[a-z]:\\users\\public\\/i,
  /^[a-z]:\\windows\\temp\\/i,
  /^[a-z]:\\windows\\tasks\\/i,
  /^[a-z]:\\windows\\tracing\\/i,
  /^[a-z]:\\windows\\system32\\tasks\\/i,
  /^[a-z]:\\windows\\debug\\/i,
  /^[a-z]:\\perflogs\\/i,
  /^[a-z]:\\\$recycle\.bin\\/i,
  /^[a-z]:\\programdata\\[^\\]+$/i,
  /^[a-z]:\\intel\\/i,
  /^\\\\/, // UNC path: run from a share
];

export function isUserWritablePath(path: string | undefined): boolean {
  if (!path) return false;
  return USER_WRITABLE.some((re) => re.test(path.trim()));
}

/** Where Windows and installed software keep their executables. */
const SYSTEM_DIRS = [
  /^[a-z]:\\windows\\(system32|syswow64|winsxs|servicing|microsoft\.net|immersivecontrolpanel|systemapps|explorer\.exe$|regedit\.exe$|hh\.exe$|notepad\.exe$|splwow64\.exe$|bfsvc\.exe$|helppane\.exe$|write\.exe$)/i,
  /^[a-z]:\\program files( \(x86\))?\\/i,
  /^[a-z]:\\programdata\\microsoft\\windows defender\\/i,
];

export function isSystemPath(path: string | undefined): boolean {
  if (!path) return false;
  return SYSTEM_DIRS.some((re) => re.test(path.trim()));
}

/**
 * isSystemPath as one pattern, for a query filter (`regex(SYSTEM_PATH_PATTERN)`): the same directories,
 * matched on the value as stored (untrimmed), so it never finds a system path isSystemPath would not.
 */
export const SYSTEM_PATH_PATTERN = SYSTEM_DIRS.map((re) => `(?:${re.source})`).join('|');

/** Executable content by extension (what a browser or mail client should not be writing). */
export const EXECUTABLE_EXTENSIONS = [
  '.exe',
  '.dll',
  '.scr',
  '.com',
  '.pif',
  '.cpl',
  '.msi',
  '.msp',
  '.bat',
  '.cmd',
  '.ps1',
  '.psm1',
  '.vbs',
  '.vbe',
  '.js',
  '.jse',
  '.wsf',
  '.wsh',
  '.hta',
  '.lnk',
  '.jar',
  '.sys',
  '.ocx',
  '.iso',
  '.img',
  '.vhd',
  '.vhdx',
] as const;

// ------------------------------------------------------------------------------------- access rights

export const PROCESS_ACCESS = {
  TERMINATE: 0x0001,
  CREATE_THREAD: 0x0002,
  VM_OPERATION: 0x0008,
  VM_READ: 0x0010,
  VM_WRITE: 0x0020,
  DUP_HANDLE: 0x0040,
  CREATE_PROCESS: 0x0080,
  SET_INFORMATION: 0x0200,
  QUERY_INFORMATION: 0x0400,
  SUSPEND_RESUME: 0x0800,
  QUERY_LIMITED_INFORMATION: 0x1000,
} as const;

/** `0x1010`, `0x00001010`, `4112` -> 4112; undefined when not a mask. */
export function parseAccessMask(v: string | number | undefined): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  if (/^0x[0-9a-f]+$/i.test(t)) return Number.parseInt(t.slice(2), 16);
  if (/^\d+$/.test(t)) return Number.parseInt(t, 10);
  return undefined;
}

/**
 * What a handle with this access lets its holder do to another process's memory. Reading needs VM_READ
 * (credential theft from lsass: mimikatz sekurlsa asks for 0x1010, MiniDumpWriteDump for 0x1410 or full
 * access); writing needs VM_WRITE|VM_OPERATION (mimikatz patching, 0x1438/0x143a); DUP_HANDLE (0x40)
 * lets the holder duplicate lsass's own handles (handle-duplication dumpers).
 */
export function accessCapabilities(mask: number): {
  read: boolean;
  write: boolean;
  dupHandle: boolean;
  thread: boolean;
} {
  return {
    read: (mask & PROCESS_ACCESS.VM_READ) !== 0,
    write: (mask & PROCESS_ACCESS.VM_WRITE) !== 0 && (mask & PROCESS_ACCESS.VM_OPERATION) !== 0,
    dupHandle: (mask & PROCESS_ACCESS.DUP_HANDLE) !== 0,
    thread: (mask & PROCESS_ACCESS.CREATE_THREAD) !== 0,
  };
}

// --------------------------------------------------------------------------------------- PowerShell

/**
 * The decoded text of a PowerShell `-EncodedCommand` (any unambiguous abbreviation: -e, -en, -enc, -ec,
 * ...), or undefined. The payload is Base64 of UTF-16LE.
 */
export function decodePowerShellCommand(commandLine: string | undefined): string | undefined {
  if (!commandLine) return undefined;
  const m =
    /(?:^|\s)[-/](?:e|ec|en|enc|enco|encod|encode|encoded|encodedc|encodedco|encodedcom|encodedcomm|encodedcomma|encodedcomman|encodedcommand)\s+["']?([A-Za-z0-9+/=]{8,})/i.exec(
      commandLine,
    );
  if (!m?.[1]) return undefined;
  try {
    const buf = Buffer.from(m[1], 'base64');
    if (buf.length < 2) return undefined;
    const utf16 = buf.toString('utf16le');
    // Mostly printable ASCII when it really was UTF-16LE text.
    const printable = utf16.replace(/[^\x20-\x7e\r\n\t]/g, '').length;
    if (printable / Math.max(1, utf16.length) > 0.9) return utf16;
    const utf8 = buf.toString('utf8');
    const printable8 = utf8.replace(/[^\x20-\x7e\r\n\t]/g, '').length;
    return printable8 / Math.max(1, utf8.length) > 0.9 ? utf8 : undefined;
  } catch {
    return undefined;
  }
}

/** Download-and-run idioms of PowerShell and friends. */
export const DOWNLOAD_CRADLE =
  /(net\.webclient|downloadstring|downloaddata|downloadfile|invoke-webrequest|\biwr\b|invoke-restmethod|\birm\b|start-bitstransfer|bitstransfer|msxml2\.xmlhttp|winhttp\.winhttprequest|system\.net\.http|\bwget\b|\bcurl\b|new-object\s+io\.memorystream|frombase64string)/i;

export const EXECUTE_IDIOM =
  /(\biex\b|invoke-expression|\.invoke\(|scriptblock\]::create|\|\s*iex|&\s*\(|invoke-command|start-process|reflection\.assembly|\[runtime\.interopservices)/i;

/** An IP address that stays on the host (loopback, unspecified) or is link-local multicast noise. */
export function isLocalAddress(ip: string | undefined): boolean {
  if (!ip) return true;
  const t = ip.trim().toLowerCase();
  return (
    t.startsWith('127.') ||
    t === '::1' ||
    t === '0:0:0:0:0:0:0:1' ||
    t === '0.0.0.0' ||
    t === '::' ||
    t.startsWith('224.') ||
    t.startsWith('239.') ||
    t === '255.255.255.255' ||
    t.startsWith('ff0') ||
    t.startsWith('169.254.')
  );
}
