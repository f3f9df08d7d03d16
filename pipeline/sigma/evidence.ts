/**
 * What a Sigma match saw, for the risk's summary: the event's telling fields, quoted as data. A Sigma
 * rule names no node and explains nothing, so without this the analyst reads "rule X matched" and has to
 * find the event; with it the Risks tab shows the command line, script block or key that fired.
 */
import type { NormalizedEvent } from '../../domain/event';
import { clip, oneLine, quote } from '../analyzers/sdk/text';
import type { SigmaMatch } from './types';

/**
 * Fields that say what an event did, most telling first: the first present one (and its partner) is shown.
 * Covers process creation, PowerShell (script block, module payload, classic host application), registry,
 * file, image load, DNS, network, pipes, process access, services; `Image` is the last resort.
 */
const EVIDENCE: ReadonlyArray<readonly [string, string?]> = [
  ['CommandLine'],
  ['ScriptBlockText'],
  ['Payload'],
  ['HostApplication'],
  ['TargetObject', 'Details'],
  ['TargetFilename'],
  ['ImageLoaded'],
  ['QueryName', 'QueryResults'],
  ['DestinationIp', 'DestinationPort'],
  ['PipeName'],
  ['TargetImage', 'GrantedAccess'],
  ['ImagePath', 'ServiceName'],
  ['Image'],
];

/** Characters of one quoted value: enough for a command line's intent, short enough for a list. */
const VALUE_MAX = 240;

export function sigmaEvidence(event: NormalizedEvent): string {
  const f = event.fields;
  for (const [main, partner] of EVIDENCE) {
    const v = f[main];
    if (!v) continue;
    const second = partner !== undefined && f[partner] ? `, ${partner} ${quote(f[partner], VALUE_MAX)}` : '';
    return `${main} ${quote(v, VALUE_MAX)}${second}`;
  }
  return '';
}

/** `Sigma rule "<title>" (<level>) matched <channel> <id>: <evidence>` */
export function sigmaSummary(m: SigmaMatch, event: NormalizedEvent): string {
  const evidence = sigmaEvidence(event);
  const what = `${clip(oneLine(event.channel), 120)} ${event.eventId}`;
  return `Sigma rule "${m.title}" (${m.level}) matched ${what}${evidence ? `: ${evidence}` : ''}`;
}
