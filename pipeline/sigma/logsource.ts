/**
 * Sigma logsource -> the (channel, EventID) pairs a rule applies to. Categories follow the Sysmon mapping
 * of pySigma-pipeline-sysmon (plus Security 4688 for process_creation, the windows-audit mapping) and the
 * PowerShell categories of pySigma-pipeline-windows; services follow pySigma's windows_logsource_mapping.
 * A logsource that is not listed here is unsupported: the loader skips such rules with a reason instead
 * of guessing a channel and never firing (or firing on the wrong events).
 */
import { Channels } from '../../domain/event';
import { PROCESS_CREATION_FALLBACKS } from './event-view';

/** Channel of rules that apply to every Windows event (`logsource: {product: windows}` alone). */
export const ANY_CHANNEL = '*';

export interface LogsourceTarget {
  readonly channel: string;
  /** `null` = every EventID of the channel. */
  readonly eventId: number | null;
}

export interface ResolvedLogsource {
  /** Stable label for reports, e.g. `windows/process_creation`, `windows/security`. */
  readonly label: string;
  readonly targets: readonly LogsourceTarget[];
  readonly fieldFallbacks?: Readonly<Record<string, readonly string[]>>;
}

const SYSMON = Channels.sysmon;
const sysmon = (...ids: number[]): LogsourceTarget[] => ids.map((eventId) => ({ channel: SYSMON, eventId }));
/**
 * osquery and generic-format events carry the Sysmon id and field names of the same meaning (see
 * domain/event.ts), so the Sysmon-based categories apply to them too: a new input format gets Sigma
 * coverage without touching the rules.
 */
const sysmonLike = (eventId: number): LogsourceTarget[] => [
  { channel: SYSMON, eventId },
  { channel: Channels.osquery, eventId },
  { channel: Channels.generic, eventId },
];

export const CATEGORY_TARGETS: Readonly<Record<string, readonly LogsourceTarget[]>> = {
  process_creation: [...sysmonLike(1), { channel: Channels.security, eventId: 4688 }],
  file_change: sysmon(2),
  network_connection: sysmonLike(3),
  sysmon_status: sysmon(4, 16),
  process_termination: sysmonLike(5),
  driver_load: sysmon(6),
  image_load: sysmon(7),
  create_remote_thread: sysmon(8),
  raw_access_thread: sysmon(9),
  process_access: sysmon(10),
  file_event: sysmonLike(11),
  registry_add: sysmon(12),
  registry_delete: sysmon(12),
  registry_set: sysmon(13),
  registry_rename: sysmon(14),
  registry_event: sysmon(12, 13, 14),
  create_stream_hash: sysmon(15),
  pipe_created: sysmon(17, 18),
  wmi_event: sysmon(19, 20, 21),
  dns_query: sysmon(22),
  file_delete: [...sysmonLike(23), ...sysmon(26)],
  clipboard_capture: sysmon(24),
  process_tampering: sysmon(25),
  file_block_executable: sysmon(27),
  file_block_shredding: sysmon(28),
  file_executable_detected: sysmon(29),
  sysmon_error: sysmon(255),
  ps_module: [
    { channel: Channels.powershell, eventId: 4103 },
    { channel: 'PowerShellCore/Operational', eventId: 4103 },
  ],
  ps_script: [
    { channel: Channels.powershell, eventId: 4104 },
    { channel: 'PowerShellCore/Operational', eventId: 4104 },
  ],
  ps_classic_start: [{ channel: Channels.powershellClassic, eventId: 400 }],
  ps_classic_provider_start: [{ channel: Channels.powershellClassic, eventId: 600 }],
  ps_classic_script: [{ channel: Channels.powershellClassic, eventId: 800 }],
};

export const SERVICE_CHANNELS: Readonly<Record<string, readonly string[]>> = {
  security: [Channels.security],
  system: [Channels.system],
  application: ['Application'],
  sysmon: [SYSMON],
  powershell: [Channels.powershell, 'PowerShellCore/Operational'],
  'powershell-classic': [Channels.powershellClassic],
  taskscheduler: ['Microsoft-Windows-TaskScheduler/Operational'],
  wmi: ['Microsoft-Windows-WMI-Activity/Operational'],
  windefend: ['Microsoft-Windows-Windows Defender/Operational'],
  'dns-server': ['DNS Server'],
  'dns-server-audit': ['Microsoft-Windows-DNS-Server/Audit'],
  'dns-server-analytic': ['Microsoft-Windows-DNS-Server/Analytical'],
  'dns-client': ['Microsoft-Windows-DNS Client Events/Operational'],
  'driver-framework': ['Microsoft-Windows-DriverFrameworks-UserMode/Operational'],
  ntlm: ['Microsoft-Windows-NTLM/Operational'],
  dhcp: ['Microsoft-Windows-DHCP-Server/Operational'],
  'msexchange-management': ['MSExchange Management'],
  applocker: [
    'Microsoft-Windows-AppLocker/MSI and Script',
    'Microsoft-Windows-AppLocker/EXE and DLL',
    'Microsoft-Windows-AppLocker/Packaged app-Deployment',
    'Microsoft-Windows-AppLocker/Packaged app-Execution',
  ],
  'printservice-admin': ['Microsoft-Windows-PrintService/Admin'],
  'printservice-operational': ['Microsoft-Windows-PrintService/Operational'],
  'codeintegrity-operational': ['Microsoft-Windows-CodeIntegrity/Operational'],
  'smbclient-security': ['Microsoft-Windows-SmbClient/Security'],
  'smbclient-connectivity': ['Microsoft-Windows-SmbClient/Connectivity'],
  'smbserver-connectivity': ['Microsoft-Windows-SMBServer/Connectivity'],
  'firewall-as': ['Microsoft-Windows-Windows Firewall With Advanced Security/Firewall'],
  'bits-client': ['Microsoft-Windows-Bits-Client/Operational'],
  'terminalservices-localsessionmanager': [
    'Microsoft-Windows-TerminalServices-LocalSessionManager/Operational',
  ],
  'microsoft-servicebus-client': ['Microsoft-ServiceBus-Client'],
  ldap_debug: ['Microsoft-Windows-LDAP-Client/Debug'],
  ldap: ['Microsoft-Windows-LDAP-Client/Debug'],
  'security-mitigations': [
    'Microsoft-Windows-Security-Mitigations/Kernel Mode',
    'Microsoft-Windows-Security-Mitigations/User Mode',
  ],
  'diagnosis-scripted': ['Microsoft-Windows-Diagnosis-Scripted/Operational'],
  'shell-core': ['Microsoft-Windows-Shell-Core/Operational'],
  openssh: ['OpenSSH/Operational'],
  bitlocker: ['Microsoft-Windows-BitLocker/BitLocker Management'],
  vhdmp: ['Microsoft-Windows-VHDMP-Operational'],
  'appxdeployment-server': ['Microsoft-Windows-AppXDeploymentServer/Operational'],
  'appxpackaging-om': ['Microsoft-Windows-AppxPackaging/Operational'],
  'appmodel-runtime': ['Microsoft-Windows-AppModel-Runtime/Admin'],
  'lsa-server': ['Microsoft-Windows-LSA/Operational'],
  capi2: ['Microsoft-Windows-CAPI2/Operational'],
  'certificateservicesclient-lifecycle-system': [
    'Microsoft-Windows-CertificateServicesClient-Lifecycle-System/Operational',
  ],
  'iis-configuration': ['Microsoft-IIS-Configuration/Operational'],
  'kernel-shimengine': ['Microsoft-Windows-Kernel-ShimEngine/Operational'],
};

export class UnsupportedLogsourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedLogsourceError';
  }
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v.trim().toLowerCase() : undefined;
}

export function resolveLogsource(logsource: unknown): ResolvedLogsource {
  if (typeof logsource !== 'object' || logsource === null || Array.isArray(logsource))
    throw new UnsupportedLogsourceError('unsupported logsource: missing');
  const ls = logsource as Record<string, unknown>;
  const product = str(ls.product);
  const category = str(ls.category);
  const service = str(ls.service);
  if (product !== 'windows') {
    const label = [product ?? '(no product)', category, service].filter((x) => x !== undefined).join('/');
    throw new UnsupportedLogsourceError(
      `unsupported logsource: ${label} (only product windows is supported)`,
    );
  }
  if (category !== undefined && service !== undefined) {
    // Both given: the service names the channel, the category narrows it; honour the category only when
    // it maps to that channel.
    const byCat = CATEGORY_TARGETS[category];
    const chans = SERVICE_CHANNELS[service];
    if (byCat && chans) {
      const targets = byCat.filter((t) => chans.includes(t.channel));
      if (targets.length > 0) return { label: `windows/${category}`, targets, ...fallbacksFor(category) };
    }
    throw new UnsupportedLogsourceError(`unsupported logsource: windows/${category}/${service}`);
  }
  if (category !== undefined) {
    const targets = CATEGORY_TARGETS[category];
    if (!targets) throw new UnsupportedLogsourceError(`unsupported logsource: windows/${category}`);
    return { label: `windows/${category}`, targets, ...fallbacksFor(category) };
  }
  if (service !== undefined) {
    const chans = SERVICE_CHANNELS[service];
    if (!chans) throw new UnsupportedLogsourceError(`unsupported logsource: windows/service ${service}`);
    return { label: `windows/${service}`, targets: chans.map((channel) => ({ channel, eventId: null })) };
  }
  // `product: windows` alone: every Windows event (e.g. keyword rules for tool names in any log).
  return { label: 'windows', targets: [{ channel: ANY_CHANNEL, eventId: null }] };
}

function fallbacksFor(category: string): { fieldFallbacks?: Readonly<Record<string, readonly string[]>> } {
  return category === 'process_creation' ? { fieldFallbacks: PROCESS_CREATION_FALLBACKS } : {};
}
