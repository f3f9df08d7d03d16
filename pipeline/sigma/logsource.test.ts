import { describe, expect, it } from 'vitest';
import { Channels } from '../../domain/event';
import { resolveLogsource } from './logsource';

describe('resolveLogsource', () => {
  it('maps categories to Sysmon event ids (and 4688 for process_creation)', () => {
    expect(resolveLogsource({ product: 'windows', category: 'process_creation' }).targets).toEqual([
      { channel: Channels.sysmon, eventId: 1 },
      { channel: Channels.osquery, eventId: 1 },
      { channel: Channels.generic, eventId: 1 },
      { channel: Channels.security, eventId: 4688 },
    ]);
    const ids = (category: string) =>
      resolveLogsource({ product: 'windows', category }).targets.map((t) => t.eventId);
    expect(ids('network_connection')).toEqual([3, 3, 3]);
    expect(ids('image_load')).toEqual([7]);
    expect(ids('process_access')).toEqual([10]);
    expect(ids('registry_event')).toEqual([12, 13, 14]);
    expect(ids('registry_set')).toEqual([13]);
    expect(ids('pipe_created')).toEqual([17, 18]);
    expect(ids('dns_query')).toEqual([22]);
    expect(ids('file_delete')).toEqual([23, 23, 23, 26]);
    expect(ids('ps_script')).toEqual([4104, 4104]);
    expect(ids('ps_classic_start')).toEqual([400]);
  });

  it('maps services to channels, with every event id', () => {
    expect(resolveLogsource({ product: 'windows', service: 'security' }).targets).toEqual([
      { channel: 'Security', eventId: null },
    ]);
    expect(resolveLogsource({ product: 'windows', service: 'powershell-classic' }).targets[0]?.channel).toBe(
      'Windows PowerShell',
    );
    expect(resolveLogsource({ product: 'windows', service: 'taskscheduler' }).targets[0]?.channel).toBe(
      'Microsoft-Windows-TaskScheduler/Operational',
    );
  });

  it('applies the 4688 field fallbacks to process_creation only', () => {
    expect(
      resolveLogsource({ product: 'windows', category: 'process_creation' }).fieldFallbacks?.Image,
    ).toEqual(['NewProcessName']);
    expect(resolveLogsource({ product: 'windows', category: 'image_load' }).fieldFallbacks).toBeUndefined();
  });

  it('refuses other products and unknown logsources with a reason', () => {
    expect(() => resolveLogsource({ product: 'linux', category: 'process_creation' })).toThrow(
      /unsupported logsource: linux\/process_creation \(only product windows/,
    );
    expect(() => resolveLogsource({ category: 'proxy' })).toThrow(/\(no product\)\/proxy/);
    expect(() => resolveLogsource({ product: 'windows', category: 'file_access' })).toThrow(
      /unsupported logsource: windows\/file_access/,
    );
    expect(() => resolveLogsource({ product: 'windows', service: 'made-up' })).toThrow(/service made-up/);
  });

  it('treats product-only rules as applying to every Windows event', () => {
    expect(resolveLogsource({ product: 'windows' }).targets).toEqual([{ channel: '*', eventId: null }]);
  });
});
