/**
 * The normalised event: what every parser produces, whatever the input shape (Sysmon JSON in its four
 * shapes, Windows event XML, EVTX, osquery, generic JSON). The graph builder and the Sigma engine read
 * only this, so a new input format is a new parser and nothing else.
 *
 * Field names follow Sysmon's EventData names (Image, CommandLine, ProcessGuid, ...). Sources without
 * Sysmon (Security 4688, osquery, generic JSON) keep their own channel and event id, and the parser adds
 * the Sysmon-named fields it can derive, so the rest of the pipeline has one vocabulary.
 */
import { z } from 'zod';

export const EventSource = z.enum(['sysmon', 'security', 'windows', 'osquery', 'generic']);
export type EventSource = z.infer<typeof EventSource>;

export const NormalizedEvent = z.object({
  /** Which family of telemetry this is. */
  source: EventSource,
  /** Canonical channel name, e.g. `Microsoft-Windows-Sysmon/Operational`, `Security` (case normalised). */
  channel: z.string(),
  provider: z.string().optional(),
  /** Windows EventID; osquery/generic records are mapped to the Sysmon id of the same meaning (1, 3, 5, 11, 23). */
  eventId: z.number().int(),
  /** Endpoint host name as written by the endpoint (not the collector). */
  host: z.string().min(1),
  /** Event time, epoch milliseconds UTC (Sysmon UtcTime when present). */
  time: z.number(),
  /**
   * Present when `time` is not the record's own time stamp: the shipper wrote it shifted by a whole number
   * of quarter hours (a local time labelled UTC), and the offset was learned from the Sysmon records of the
   * same host, which carry both that time stamp and the true UtcTime (pipeline/stages/parse/clock-offset.ts).
   */
  timeCorrection: z
    .object({
      /** How the offset was learned. */
      by: z.literal('sysmon-utc'),
      /**
       * Whose Sysmon records showed it: the whole upload's (the ingester's pre-pass) or the same chunk's.
       * Absent in events parsed before uploads carried offsets: those were the chunk's.
       */
      scope: z.enum(['upload', 'chunk']).optional(),
      /** The record's own time stamp, epoch ms, as shipped. */
      rawTime: z.number(),
      /** rawTime - time. */
      offsetMs: z.number().int(),
    })
    .optional(),
  recordId: z.number().optional(),
  /**
   * The process that wrote the event (System/Execution/@ProcessID), kept only for PowerShell's own logs,
   * where it is the PowerShell host that ran the script block or pipeline: the identify stage puts Sigma
   * hits of those events on that process instead of on the host (pipeline/graph/build.ts).
   */
  executionPid: z.number().int().optional(),
  /** EventData fields as strings, normalised (GUIDs upper-case without braces, hex access masks short). */
  fields: z.record(z.string(), z.string()),
});
export type NormalizedEvent = z.infer<typeof NormalizedEvent>;

/** Channel names used across the code base. */
export const Channels = {
  sysmon: 'Microsoft-Windows-Sysmon/Operational',
  security: 'Security',
  system: 'System',
  powershell: 'Microsoft-Windows-PowerShell/Operational',
  powershellClassic: 'Windows PowerShell',
  osquery: 'osquery',
  generic: 'lensgraph/generic',
} as const;
