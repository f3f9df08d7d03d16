/**
 * .evtx files through @ts-evtx/core, one 64 KiB chunk at a time. An EVTX chunk is self-contained (its own
 * string and template tables, offsets relative to the chunk), so the library's ChunkHeader works on a
 * chunk-sized buffer: the file is never held whole (EvtxFile.open would read it all, and refuses > 100 MB).
 *
 * A broken chunk costs its own records only: past a damaged stretch the reader resynchronises on the next
 * consistent record header, every record lost in between (counted by record number) or past the end of a
 * truncated file becomes a rejection with the reason, and the next chunk is read normally.
 */
import { BinaryReader, ChunkHeader, Record as EvtxRecord } from '@ts-evtx/core';
import { errorMessage, safeFirstBytes } from '../field-values';
import type { ReadItem, ResolvedReadOptions } from '../types';
import { installEvtxCompat, restoreRendered } from './evtx-compat';
import type { ByteFramer } from './json-framer';

installEvtxCompat();

const FILE_HEADER_SIZE = 0x1000;
const CHUNK_SIZE = 0x10000;
const CHUNK_MAGIC = 'ElfChnk\0';
const FILE_MAGIC = 'ElfFile\0';
const RECORD_HEADER_SIZE = 0x18;
const RECORD_MAGIC = 0x00002a2a;
const RECORD_MAGIC_BYTES = Buffer.from([0x2a, 0x2a, 0x00, 0x00]);
/** A chunk can hold at most this many records (each is more than 24 bytes, after the 512-byte header). */
const MAX_RECORDS_PER_CHUNK = Math.floor((CHUNK_SIZE - 0x200) / RECORD_HEADER_SIZE);

// Characters XML 1.0 forbids; EVTX strings may carry them (binary junk in EventData).
// eslint-disable-next-line no-control-regex
const XML_INVALID = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

function sanitizeXml(xml: string): string {
  XML_INVALID.lastIndex = 0;
  if (!XML_INVALID.test(xml)) return xml;
  // As character references the XML parser accepts them in 1.1 mode (chosen for records holding '&#').
  return xml.replace(XML_INVALID, (c) => {
    const code = c.charCodeAt(0);
    return code === 0 || code >= 0xfffe ? '' : `&#x${code.toString(16)};`;
  });
}

export class EvtxFramer implements ByteFramer {
  private header = Buffer.alloc(FILE_HEADER_SIZE);
  private headerFill = 0;
  private chunk = Buffer.alloc(CHUNK_SIZE);
  private chunkFill = 0;
  private chunkNo = 0;
  private ordinal = 0;
  private headerChecked = false;

  constructor(private readonly opts: ResolvedReadOptions) {}

  push(data: Buffer, out: ReadItem[]): void {
    let pos = 0;
    if (this.headerFill < FILE_HEADER_SIZE) {
      const n = Math.min(FILE_HEADER_SIZE - this.headerFill, data.length);
      data.copy(this.header, this.headerFill, 0, n);
      this.headerFill += n;
      pos = n;
      if (this.headerFill < FILE_HEADER_SIZE) return;
      this.checkHeader(out);
    }
    while (pos < data.length) {
      const n = Math.min(CHUNK_SIZE - this.chunkFill, data.length - pos);
      data.copy(this.chunk, this.chunkFill, pos, pos + n);
      this.chunkFill += n;
      pos += n;
      if (this.chunkFill === CHUNK_SIZE) {
        this.readChunk(CHUNK_SIZE, out);
        this.chunkFill = 0;
      }
    }
  }

  end(out: ReadItem[]): void {
    if (this.headerFill < FILE_HEADER_SIZE) {
      out.push({
        recordNo: ++this.ordinal,
        rejected: `truncated EVTX: file header is ${this.headerFill} of ${FILE_HEADER_SIZE} bytes`,
        firstBytes: safeFirstBytes(this.header.subarray(0, Math.min(this.headerFill, 64))),
      });
      return;
    }
    if (this.chunkFill > 0) {
      // Zero the rest: records past the cut fail their magic check instead of reading stale bytes.
      this.chunk.fill(0, this.chunkFill);
      this.readChunk(this.chunkFill, out);
      this.chunkFill = 0;
    }
  }

  private checkHeader(out: ReadItem[]): void {
    if (this.headerChecked) return;
    this.headerChecked = true;
    if (this.header.toString('latin1', 0, 8) !== FILE_MAGIC) {
      // The sniffer only sends ElfFile data here; keep going chunk by chunk regardless.
      out.push({ recordNo: ++this.ordinal, rejected: 'invalid EVTX: bad file signature', firstBytes: '' });
    }
  }

  /** `valid` is the number of real bytes in the chunk buffer (less than 64 KiB for a truncated file). */
  private readChunk(valid: number, out: ReadItem[]): void {
    const chunkNo = this.chunkNo++;
    const buf = this.chunk;
    if (buf.toString('latin1', 0, 8) !== CHUNK_MAGIC) {
      // Unused chunks at the end of a log are zero-filled: nothing was lost there.
      if (isAllZero(buf, valid)) return;
      out.push({
        recordNo: ++this.ordinal,
        rejected: `broken EVTX chunk: chunk ${chunkNo} has a bad signature, its records are lost`,
        firstBytes: safeFirstBytes(buf.subarray(0, 64)),
      });
      return;
    }
    const reader = new BinaryReader(buf);
    const header = new ChunkHeader(reader, 0);
    const truncated = valid < CHUNK_SIZE;
    // The chunk number goes in the detail: the category before the colon stays the same for counting.
    const where = `chunk ${chunkNo}`;
    // Record numbers tell how many records a damaged stretch held, so each lost record is reported.
    let first = header.logFirstRecordNumber();
    const last = header.logLastRecordNumber();
    if (last < first || last - first >= BigInt(MAX_RECORDS_PER_CHUNK)) first = -1n; // header numbers unusable
    let expect = first;
    const lost = (from: bigint, to: bigint, why: string): void => {
      for (let id = from; id <= to && id - from < BigInt(MAX_RECORDS_PER_CHUNK); id++) {
        out.push({ recordNo: ++this.ordinal, rejected: why.replace('#', String(id)), firstBytes: '' });
      }
    };
    const end = Math.min(Math.max(header.nextRecordOffset(), 0x200), valid);
    let off = 0x200;
    let damaged = false;
    while (off + RECORD_HEADER_SIZE <= end) {
      // A record cut by the end of a truncated file is not damage: what follows is simply missing.
      if (truncated && buf.readUInt32LE(off) === RECORD_MAGIC && off + buf.readUInt32LE(off + 4) > valid)
        break;
      const rec = this.recordAt(reader, header, off, valid);
      if (rec === undefined) {
        // Damaged stretch: resynchronise on the next plausible record header.
        damaged = true;
        off = this.nextRecordStart(reader, header, off + 1, end, valid);
        if (off === -1) break;
        continue;
      }
      const num = rec.recordNum();
      if (expect >= 0n && num > expect && num <= last) {
        lost(expect, num - 1n, `broken EVTX chunk: EventRecordID # in ${where} unreadable (corrupt data)`);
      }
      if (expect >= 0n && num >= expect) expect = num + 1n;
      this.readRecord(rec, where, out);
      off += rec.size();
    }
    if (expect >= 0n && expect <= last) {
      lost(
        expect,
        last,
        truncated && !damaged
          ? `truncated EVTX: EventRecordID # (EVTX ${where}) is past the end of the file`
          : `broken EVTX chunk: EventRecordID # in ${where} unreadable (corrupt data${truncated ? ', truncated file' : ''})`,
      );
    }
  }

  /** A record whose header is consistent (magic, size, trailing size copy) and lies within the data. */
  private recordAt(
    reader: BinaryReader,
    header: ChunkHeader,
    off: number,
    valid: number,
  ): EvtxRecord | undefined {
    if (this.chunk.readUInt32LE(off) !== RECORD_MAGIC) return undefined;
    const size = this.chunk.readUInt32LE(off + 4);
    if (size < RECORD_HEADER_SIZE + 4 || off + size > valid) return undefined;
    if (this.chunk.readUInt32LE(off + size - 4) !== size) return undefined;
    try {
      return new EvtxRecord(reader, off, header);
    } catch {
      return undefined;
    }
  }

  private nextRecordStart(
    reader: BinaryReader,
    header: ChunkHeader,
    from: number,
    end: number,
    valid: number,
  ): number {
    let pos = from;
    for (;;) {
      pos = this.chunk.indexOf(RECORD_MAGIC_BYTES, pos);
      if (pos === -1 || pos + RECORD_HEADER_SIZE > end) return -1;
      if (this.recordAt(reader, header, pos, valid) !== undefined) return pos;
      pos++;
    }
  }

  private readRecord(rec: EvtxRecord, where: string, out: ReadItem[]): void {
    const recordNo = ++this.ordinal;
    let xml: string;
    try {
      xml = rec.renderXml();
    } catch (err) {
      out.push({
        recordNo,
        rejected: `broken EVTX chunk: record in ${where} cannot be rendered: ${errorMessage(err)}`,
        firstBytes: '',
      });
      return;
    }
    if (xml.length > this.opts.maxLineBytes) {
      out.push({
        recordNo,
        rejected: `EVTX record too long: more than ${this.opts.maxLineBytes} characters rendered`,
        firstBytes: safeFirstBytes(xml),
      });
      return;
    }
    out.push({ recordNo, format: 'evtx', text: sanitizeXml(restoreRendered(xml)) });
  }
}

function isAllZero(buf: Buffer, len: number): boolean {
  for (let i = 0; i < len; i++) if (buf[i] !== 0) return false;
  return true;
}
