import { describe, expect, it } from 'vitest';
import { Channels, type NormalizedEvent } from '../../domain/event';
import { sigmaEvidence, sigmaSummary } from './evidence';
import type { SigmaMatch } from './types';

const ev = (
  eventId: number,
  fields: Record<string, string>,
  channel: string = Channels.sysmon,
): NormalizedEvent => ({
  source: channel === Channels.sysmon ? 'sysmon' : 'windows',
  channel,
  eventId,
  host: 'WORKSTATION6',
  time: 0,
  fields,
});

describe('sigmaEvidence: what the matched event did, quoted as data', () => {
  it('shows the most telling field of each kind of event, with its partner', () => {
    expect(
      sigmaEvidence(ev(1, { Image: 'C:\\w\\powershell.exe', CommandLine: 'powershell -enc SQBFAFgA' })),
    ).toBe('CommandLine "powershell -enc SQBFAFgA"');
    expect(
      sigmaEvidence(
        ev(13, { Image: 'reg.exe', TargetObject: 'HKLM\\Software\\Run\\x', Details: 'C:\\x.exe' }),
      ),
    ).toBe(String.raw`TargetObject "HKLM\Software\Run\x", Details "C:\x.exe"`);
    expect(sigmaEvidence(ev(3, { Image: 'a.exe', DestinationIp: '10.0.0.5', DestinationPort: '445' }))).toBe(
      'DestinationIp "10.0.0.5", DestinationPort "445"',
    );
    expect(sigmaEvidence(ev(4104, { ScriptBlockText: 'IEX $x', Path: '' }, Channels.powershell))).toBe(
      'ScriptBlockText "IEX $x"',
    );
    expect(sigmaEvidence(ev(5, { Image: 'C:\\a.exe' }))).toBe('Image "C:\\a.exe"');
    expect(sigmaEvidence(ev(4624, { LogonType: '3' }, Channels.security))).toBe('');
  });

  it('keeps attacker text one line, escaped and bounded', () => {
    const cmd = `cmd /c "echo <script>alert(1)</script>"\r\nnext\u202eline ${'A'.repeat(500)}`;
    const out = sigmaEvidence(ev(1, { CommandLine: cmd }));
    expect(out).not.toMatch(/[\r\n\u202e]/);
    expect(out).toContain('\\"echo <script>alert(1)</script>\\"');
    expect(out).toContain('\\u202e');
    expect(out.length).toBeLessThan(260);
    expect(out.endsWith('…"')).toBe(true);
  });

  it('summary: rule, level, event type and evidence', () => {
    const m = { title: 'Suspicious Encoded PowerShell', level: 'high' } as SigmaMatch;
    expect(sigmaSummary(m, ev(1, { CommandLine: 'powershell -enc AAAA' }))).toBe(
      'Sigma rule "Suspicious Encoded PowerShell" (high) matched Microsoft-Windows-Sysmon/Operational 1: CommandLine "powershell -enc AAAA"',
    );
    expect(sigmaSummary(m, ev(4624, {}, Channels.security))).toBe(
      'Sigma rule "Suspicious Encoded PowerShell" (high) matched Security 4624',
    );
  });
});
