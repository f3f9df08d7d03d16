import { describe, expect, it } from 'vitest';
import {
  assetKey,
  endpointKey,
  fileKey,
  guidStartTime,
  ipKey,
  isSessionProcessKey,
  normalizeGuid,
  normalizeIp,
  normalizeRegistryPath,
  parseHost,
  parsePid,
  parseUser,
  pipeKey,
  processGuidKey,
  processProvisionalKey,
  processSessionKey,
  registryKey,
  splitRegistryValue,
} from './keys';
import { kindOfKey } from '../../domain/model';

describe('asset keys', () => {
  it('folds short and fully qualified names of one machine', () => {
    const a = parseHost('WORKSTATION6.theshire.local');
    const b = parseHost('WORKSTATION6');
    const c = parseHost('workstation6.THESHIRE.local');
    expect(assetKey(a.short)).toBe('Asset:WORKSTATION6');
    expect(assetKey(b.short)).toBe('Asset:WORKSTATION6');
    expect(assetKey(c.short)).toBe('Asset:WORKSTATION6');
    expect(a.fqdn).toBe('WORKSTATION6.theshire.local');
    expect(c.fqdn).toBe('WORKSTATION6.theshire.local');
    expect(b.fqdn).toBeUndefined();
  });
  it('does not cut IP literals at the first dot', () => {
    expect(parseHost('10.0.0.5').short).toBe('10.0.0.5');
    expect(parseHost('10.0.0.5').fqdn).toBeUndefined();
  });
});

describe('process keys', () => {
  it('normalises GUID spellings and treats the zero GUID as none', () => {
    expect(normalizeGuid('{d273d0f0-e866-5f64-1100-000000000800}')).toBe(
      'D273D0F0-E866-5F64-1100-000000000800',
    );
    expect(normalizeGuid('0197231E-AAAA-BBBB-CCCC-DDDDDDDDDDDD')).toBe(
      '0197231E-AAAA-BBBB-CCCC-DDDDDDDDDDDD',
    );
    expect(normalizeGuid('{00000000-0000-0000-0000-000000000000}')).toBeUndefined();
    expect(normalizeGuid('-')).toBeUndefined();
    expect(processGuidKey('D273D0F0-E866-5F64-1100-000000000800')).toBe(
      'Process:D273D0F0-E866-5F64-1100-000000000800',
    );
  });
  it('decodes the start time Sysmon puts in a ProcessGuid', () => {
    // PsExec in cmd_psexec_lsa_secrets_dump: UtcTime 2020-10-19 07:30:46.251
    const t = guidStartTime('39E4A257-40A6-5F8D-A005-000000000700', Date.UTC(2020, 9, 19, 7, 30, 46, 251));
    expect(t).toBe(Date.UTC(2020, 9, 19, 7, 30, 46));
    expect(guidStartTime('NOT-A-GUID', Date.now())).toBeUndefined();
    // a start after the sighting is implausible
    expect(guidStartTime('39E4A257-40A6-5F8D-A005-000000000700', Date.UTC(2019, 0, 1))).toBeUndefined();
  });
  it('builds session keys that can be told from GUID keys', () => {
    expect(isSessionProcessKey(processSessionKey('WS1', 42, 1000))).toBe(true);
    expect(isSessionProcessKey(processProvisionalKey('WS1', 42, 1000))).toBe(true);
    expect(isSessionProcessKey('Process:D273D0F0-E866-5F64-1100-000000000800')).toBe(false);
    expect(kindOfKey(processSessionKey('WS1', 42, 1000))).toBe('Process');
  });
  it('parses decimal and hex pids', () => {
    expect(parsePid('7256')).toBe(7256);
    expect(parsePid('0x1c58')).toBe(7256);
    expect(parsePid('0X1C58')).toBe(7256);
    expect(parsePid('-')).toBeUndefined();
    expect(parsePid('abc')).toBeUndefined();
  });
});

describe('file keys', () => {
  it('are case-insensitive for Windows paths and keep the asset', () => {
    expect(fileKey('WS1', 'C:\\Windows\\System32\\cmd.exe')).toBe('File:WS1:c:\\windows\\system32\\cmd.exe');
    expect(fileKey('WS1', 'c:\\windows\\SYSTEM32\\CMD.EXE')).toBe(
      fileKey('WS1', 'C:\\Windows\\System32\\cmd.exe'),
    );
    expect(fileKey('WS1', '\\??\\C:\\Windows\\x.sys')).toBe(fileKey('WS1', 'C:\\Windows\\x.sys'));
    expect(fileKey('WS1', '\\\\?\\C:\\Windows\\x.sys')).toBe(fileKey('WS1', 'C:\\Windows\\x.sys'));
    expect(fileKey('WS2', 'C:\\a.txt')).not.toBe(fileKey('WS1', 'C:\\a.txt'));
  });
  it('keep case for POSIX paths', () => {
    expect(fileKey('H', '/usr/bin/Foo')).toBe('File:H:/usr/bin/Foo');
  });
});

describe('registry keys', () => {
  it('fold hive spellings to one', () => {
    const want = registryKey('WS1', 'HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run');
    expect(registryKey('WS1', '\\REGISTRY\\MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run')).toBe(
      want,
    );
    expect(registryKey('WS1', 'HKEY_LOCAL_MACHINE\\software\\microsoft\\windows\\currentversion\\run')).toBe(
      want,
    );
    expect(registryKey('WS1', 'hklm\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\')).toBe(want);
    expect(registryKey('WS1', '\\REGISTRY\\USER\\S-1-5-21-1\\Software')).toBe(
      registryKey('WS1', 'HKU\\S-1-5-21-1\\Software'),
    );
    expect(registryKey('WS1', 'HKCR\\exefile\\shell')).toBe(
      registryKey('WS1', 'HKLM\\SOFTWARE\\Classes\\exefile\\shell'),
    );
    expect(registryKey('WS1', 'HKEY_CLASSES_ROOT\\exefile')).toBe(
      registryKey('WS1', 'HKLM\\Software\\Classes\\exefile'),
    );
    expect(normalizeRegistryPath('\\REGISTRY\\MACHINE\\SYSTEM\\x')).toBe('HKLM\\SYSTEM\\x');
    // a hive name must be a whole path element
    expect(normalizeRegistryPath('HKLMX\\a')).toBe('HKLMX\\a');
  });
  it('splits a value path into key and value name', () => {
    expect(splitRegistryValue('HKLM\\SOFTWARE\\Run\\Updater')).toEqual({
      key: 'HKLM\\SOFTWARE\\Run',
      value: 'Updater',
    });
  });
});

describe('other keys', () => {
  it('users: one spelling per account, machine-local principals per asset', () => {
    expect(parseUser('WS1', 'THESHIRE\\pgustavo')?.key).toBe('User:THESHIRE\\pgustavo');
    expect(parseUser('WS1', 'theshire\\PGustavo')?.key).toBe('User:THESHIRE\\pgustavo');
    expect(parseUser('WS1', 'NT AUTHORITY\\SYSTEM')?.key).toBe('User:NT AUTHORITY\\system@WS1');
    expect(parseUser('WS2', 'NT AUTHORITY\\SYSTEM')?.key).toBe('User:NT AUTHORITY\\system@WS2');
    expect(parseUser('WS1', 'wardog', 'WORKSTATION5')?.key).toBe('User:WORKSTATION5\\wardog');
    expect(parseUser('WS1', '-')).toBeUndefined();
  });
  it('pipes are lower-case per asset', () => {
    expect(pipeKey('WS1', '\\PSEXESVC')).toBe('Pipe:WS1:\\psexesvc');
  });
  it('IP addresses: mapped IPv6 as IPv4, IPv6 compressed', () => {
    expect(normalizeIp('::ffff:192.168.1.4')).toBe('192.168.1.4');
    expect(normalizeIp('::FFFF:c0a8:0104')).toBe('192.168.1.4');
    expect(normalizeIp('fe80:0:0:0:90e:17af:263c:5209')).toBe('fe80::90e:17af:263c:5209');
    expect(normalizeIp('FE80::90E:17AF:263C:5209%12')).toBe('fe80::90e:17af:263c:5209');
    expect(normalizeIp('::1')).toBe('::1');
    expect(normalizeIp('2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1');
    expect(normalizeIp('010.1.1.1')).toBe('10.1.1.1');
    expect(normalizeIp('not-an-ip')).toBeUndefined();
    expect(normalizeIp('1.2.3')).toBeUndefined();
    expect(ipKey('10.0.0.1', 'WS1')).toBe('IpAddress:10.0.0.1');
    expect(ipKey('127.0.0.1', 'WS1')).toBe('IpAddress:127.0.0.1@WS1');
  });
  it('network endpoints', () => {
    expect(endpointKey('10.0.0.1', 445, 'TCP', 'WS1')).toBe('NetworkEndpoint:10.0.0.1:445:tcp');
    expect(endpointKey('127.0.0.1', 445, 'tcp', 'WS1')).toBe('NetworkEndpoint:127.0.0.1:445:tcp@WS1');
    expect(kindOfKey(endpointKey('::1', 445, 'tcp', 'WS1'))).toBe('NetworkEndpoint');
  });
});
