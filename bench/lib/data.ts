/**
 * The development set the benchmarks read in place (../shared/data, never copied): file paths, raw records
 * read into memory (so file I/O stays out of the timed parts), chunks cut as the ingester cuts them, and
 * the ground truth of malicious processes.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { chunkId } from '../../domain/stages';
import { normalizeGuid, readRecords } from '../../pipeline/parsers';
import type { RawChunk, RawItem } from '../../pipeline/payloads';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DATA_DIR = path.resolve(process.env.BENCH_DATA_DIR ?? path.join(REPO_ROOT, '../shared/data'));
export const SYSMON_DIR = path.join(DATA_DIR, 'sysmon-json');
export const TRUTH_DIR = path.join(DATA_DIR, 'truth');
export const SIGMA_WINDOWS_DIR = path.join(DATA_DIR, 'sigma/rules/windows');
/** One host's whole kill chain: 40,568 events. */
export const KILL_CHAIN_FILE = path.join(SYSMON_DIR, 'metasploit_out-minidump_lsass_memory_dump.jsonl.gz');

/** The 16 recorded attacks of sysmon-json, sorted by name. */
export function devSetFiles(): string[] {
  return fs
    .readdirSync(SYSMON_DIR)
    .filter((f) => /\.jsonl(\.gz)?$/.test(f))
    .sort()
    .map((f) => path.join(SYSMON_DIR, f));
}

export function assertDataPresent(): void {
  for (const p of [KILL_CHAIN_FILE, TRUTH_DIR, SIGMA_WINDOWS_DIR]) {
    if (!fs.existsSync(p)) throw new Error(`benchmark data not found: ${p} (set BENCH_DATA_DIR to the data folder)`);
  }
}

/** Raw records of a file as the ingester reads them (framing only), at most `limit`. */
export async function readRawItems(file: string, limit = Infinity): Promise<RawItem[]> {
  const items: RawItem[] = [];
  for await (const r of readRecords(file)) {
    if (items.length >= limit) break;
    if ('rejected' in r) items.push({ n: r.recordNo, rejected: r.rejected, firstBytes: r.firstBytes });
    else items.push({ n: r.recordNo, f: r.format, t: r.text });
  }
  return items;
}

/** Chunks of `size` raw records, shaped like the ingester's (the digest is not computed: parse ignores it). */
export function cutChunks(items: readonly RawItem[], size: number, source: string): RawChunk[] {
  const uploadId = `${Date.now()}-${randomUUID()}`;
  const out: RawChunk[] = [];
  for (let i = 0, n = 0; i < items.length; i += size, n++) {
    out.push({ chunk: chunkId(uploadId, n), source, items: items.slice(i, i + size), digest: '0'.repeat(64) });
  }
  return out;
}

const Truth = z.object({
  dataset: z.string(),
  malicious_processes: z.array(z.object({ host: z.string(), ProcessGuid: z.string() }).passthrough()),
});

export interface TruthSet {
  /** Data file name (as in sysmon-json) -> normalised GUIDs of its malicious processes. */
  byDataset: Map<string, Set<string>>;
  /** Every malicious GUID of every file. */
  all: Set<string>;
}

export function loadTruth(dir = TRUTH_DIR): TruthSet {
  const byDataset = new Map<string, Set<string>>();
  const all = new Set<string>();
  for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.truth.json')).sort()) {
    const t = Truth.parse(JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')));
    const guids = new Set(t.malicious_processes.map((p) => normalizeGuid(p.ProcessGuid.trim())));
    byDataset.set(t.dataset, guids);
    for (const g of guids) all.add(g);
  }
  return { byDataset, all };
}
