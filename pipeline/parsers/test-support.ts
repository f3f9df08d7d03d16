/**
 * Helpers shared by the parser tests: where fixtures and the shared data live, and reading an input to
 * the end while keeping every framed item next to its parse result.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NormalizedEvent } from '../../domain/event';
import { parseRawRecord } from './normalize-record';
import { readRecords, readRecordsFromStream, type ByteStream } from './read-records';
import {
  isFramingRejection,
  type NormalizeOptions,
  type ParseResult,
  type ReadItem,
  type ReadOptions,
} from './types';

const here = path.dirname(fileURLToPath(import.meta.url));
export const FIXTURES = path.join(here, 'fixtures');
export const REPO_ROOT = path.resolve(here, '../..');
export const SHARED_DATA = path.resolve(REPO_ROOT, '../shared/data');

export interface Outcome {
  recordNo: number;
  result: ParseResult;
  /** The framed text (empty for framing rejections). */
  text: string;
}

export interface ReadSummary {
  outcomes: Outcome[];
  events: NormalizedEvent[];
  skipped: Map<string, number>;
  rejected: Array<{ recordNo: number; reason: string; firstBytes?: string }>;
}

export async function summarize(
  items: AsyncIterable<ReadItem>,
  opts?: NormalizeOptions,
): Promise<ReadSummary> {
  const s: ReadSummary = { outcomes: [], events: [], skipped: new Map(), rejected: [] };
  for await (const item of items) {
    if (isFramingRejection(item)) {
      s.outcomes.push({
        recordNo: item.recordNo,
        result: { kind: 'rejected', reason: item.rejected },
        text: '',
      });
      s.rejected.push({ recordNo: item.recordNo, reason: item.rejected, firstBytes: item.firstBytes });
      continue;
    }
    const result = parseRawRecord(item, opts);
    s.outcomes.push({ recordNo: item.recordNo, result, text: item.text });
    if (result.kind === 'event') s.events.push(result.event);
    else if (result.kind === 'skipped') s.skipped.set(result.type, (s.skipped.get(result.type) ?? 0) + 1);
    else s.rejected.push({ recordNo: item.recordNo, reason: result.reason });
  }
  return s;
}

export function readFile(file: string, opts?: ReadOptions & NormalizeOptions): Promise<ReadSummary> {
  return summarize(readRecords(file, opts), opts);
}

export function readStream(stream: ByteStream, opts?: ReadOptions & NormalizeOptions): Promise<ReadSummary> {
  return summarize(readRecordsFromStream(stream, opts), opts);
}

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of items) out.push(x);
  return out;
}

/** C0 or C1 control characters (what safeFirstBytes must never let through). */
export function hasControlChars(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return true;
  }
  return false;
}
