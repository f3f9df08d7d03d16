/**
 * Hand-built NormalizedEvents shaped like the development set's records (for unit tests of the builder,
 * identity and merge). Times are epoch ms; fields are what the parser produces.
 */
import { Channels, type EventSource, type NormalizedEvent } from '../../domain/event';

export const T0 = Date.UTC(2020, 9, 19, 7, 30, 46, 251);

export function sysmon(
  eventId: number,
  fields: Record<string, string>,
  opts: { host?: string; time?: number } = {},
): NormalizedEvent {
  return {
    source: 'sysmon',
    channel: Channels.sysmon,
    eventId,
    host: opts.host ?? 'WORKSTATION5',
    time: opts.time ?? T0,
    fields,
  };
}

export function security(
  eventId: number,
  fields: Record<string, string>,
  opts: { host?: string; time?: number } = {},
): NormalizedEvent {
  return {
    source: 'security',
    channel: Channels.security,
    eventId,
    host: opts.host ?? 'WORKSTATION5',
    time: opts.time ?? T0,
    fields,
  };
}

export function other(
  source: EventSource,
  eventId: number,
  fields: Record<string, string>,
  opts: { host?: string; time?: number } = {},
): NormalizedEvent {
  return {
    source,
    channel: source === 'osquery' ? Channels.osquery : Channels.generic,
    eventId,
    host: opts.host ?? 'WORKSTATION5',
    time: opts.time ?? T0,
    fields,
  };
}

/** GUID whose embedded start time (groups 3+2) is `startMs` truncated to the second; `n` varies the rest. */
export function guidAt(startMs: number, n: number): string {
  const secs = Math.floor(startMs / 1000);
  const hex = secs.toString(16).padStart(8, '0').toUpperCase();
  const counter = n.toString(16).padStart(4, '0').toUpperCase();
  return `39E4A257-${hex.slice(4)}-${hex.slice(0, 4)}-${counter}-000000000700`;
}

// The PsExec creation of cmd_psexec_lsa_secrets_dump.jsonl, as the parser gives it.
export const PSEXEC_GUID = '39E4A257-40A6-5F8D-A005-000000000700';
export const CMD_GUID = '39E4A257-402F-5F8D-9905-000000000700';

export function psexecCreate(opts: { host?: string; time?: number } = {}): NormalizedEvent {
  return sysmon(
    1,
    {
      CommandLine:
        'PsExec.exe  -accepteula -s reg save HKLM\\security\\policy\\secrets C:\\Users\\wardog\\AppData\\Local\\Temp\\secrets',
      User: 'WORKSTATION5\\wardog',
      ParentProcessId: '2128',
      IntegrityLevel: 'High',
      ProcessGuid: PSEXEC_GUID,
      CurrentDirectory: 'C:\\Users\\wardog\\Downloads\\PSTools\\',
      Hashes: 'SHA1=E50D9E3BD91908E13A26B3E23EDEAF577FB3A095,MD5=27304B246C7D5B4E149124D5F93C5B01',
      UtcTime: '2020-10-19 07:30:46.251',
      ParentCommandLine: '"C:\\windows\\system32\\cmd.exe" ',
      TerminalSessionId: '2',
      ProcessId: '7256',
      ParentImage: 'C:\\Windows\\System32\\cmd.exe',
      ParentProcessGuid: CMD_GUID,
      LogonGuid: '39E4A257-F1AC-5F8B-D961-0C0000000000',
      Image: 'C:\\Users\\wardog\\Downloads\\PSTools\\PsExec.exe',
      LogonId: '0xc61d9',
      RuleName: '-',
    },
    opts,
  );
}

/** The matching Security 4688, fields as the parser derives them. */
export function psexec4688(opts: { host?: string; time?: number } = {}): NormalizedEvent {
  return security(
    4688,
    {
      SubjectUserName: 'wardog',
      CommandLine:
        'PsExec.exe  -accepteula -s reg save HKLM\\security\\policy\\secrets C:\\Users\\wardog\\AppData\\Local\\Temp\\secrets',
      SubjectLogonId: '0xc61d9',
      NewProcessId: '0x1c58',
      SubjectDomainName: 'WORKSTATION5',
      TargetLogonId: '0x0',
      TokenElevationType: '%%1936',
      SubjectUserSid: 'S-1-5-21-3940915590-64593676-1414006259-500',
      NewProcessName: 'C:\\Users\\wardog\\Downloads\\PSTools\\PsExec.exe',
      ProcessId: '7256',
      ParentProcessId: '2128',
      Image: 'C:\\Users\\wardog\\Downloads\\PSTools\\PsExec.exe',
      ParentImage: 'C:\\Windows\\System32\\cmd.exe',
      MandatoryLabel: 'S-1-16-12288',
      ParentProcessName: 'C:\\Windows\\System32\\cmd.exe',
      TargetUserSid: 'S-1-0-0',
      TargetDomainName: '-',
      TargetUserName: '-',
    },
    opts,
  );
}
