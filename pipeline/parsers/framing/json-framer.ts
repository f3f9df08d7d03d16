/**
 * Cuts a JSON byte stream into records without parsing them. Two modes, chosen on the first record:
 * - lines: one record per line (JSON lines, the common and fast case: native indexOf for the newlines);
 * - scan: a byte-level scanner for JSON arrays (one record per element) and concatenated multi-line
 *   values (evtx_dump's pretty-printed output), tracking strings and nesting.
 * No record is ever held beyond the size limit: past it the bytes are counted and dropped until the end of
 * the line / value, and the record is rejected.
 */
import { expandOsqueryBatch, isOsqueryBatch } from '../osquery';
import { safeFirstBytes } from '../field-values';
import type { InputFormat, ReadItem, ResolvedReadOptions } from '../types';

const HEAD_BYTES = 200;

/** osquery snapshot/diffResults lines hold many rows: expand them here so every row is one record. */
function pushJson(out: ReadItem[], recordNo: number, format: InputFormat, text: string): void {
  if (mayBeOsqueryBatch(text)) {
    let rows: Record<string, unknown>[] | undefined;
    try {
      const v: unknown = JSON.parse(text);
      if (
        v !== null &&
        typeof v === 'object' &&
        !Array.isArray(v) &&
        isOsqueryBatch(v as Record<string, unknown>)
      ) {
        rows = expandOsqueryBatch(v as Record<string, unknown>);
      }
    } catch {
      // Not valid JSON: the parse stage rejects it with the parser's own message.
    }
    if (rows !== undefined) {
      for (const row of rows) out.push({ recordNo, format, text: JSON.stringify(row) });
      return;
    }
  }
  out.push({ recordNo, format, text });
}

/**
 * Whether the text holds a batch key (`"diffResults"`, `"snapshot"`), exactly as searching for the keys
 * would answer. Runs on every record of every JSON input: a search for a pattern starting with `"` (which
 * comes every few bytes in JSON) costs about four times a search for a short piece starting with a rarer
 * letter, so such a piece is looked for first and the key only in the few texts that hold it.
 */
function mayBeOsqueryBatch(text: string): boolean {
  return (
    (text.includes('fR') && text.includes('"diffResults"')) ||
    (text.includes('pshot') && text.includes('"snapshot"'))
  );
}

export interface ByteFramer {
  push(chunk: Buffer, out: ReadItem[]): void;
  end(out: ReadItem[]): void;
}

export class JsonLinesFramer implements ByteFramer {
  private lineNo = 0;
  private parts: Buffer[] = [];
  private partBytes = 0;
  private overflow = false;
  private head: Buffer | undefined;
  private totalBytes = 0;

  constructor(private readonly maxLineBytes: number) {}

  /** Bytes held for the current unfinished line: never more than the limit (tests hold us to it). */
  get bufferedBytes(): number {
    return this.partBytes;
  }

  push(chunk: Buffer, out: ReadItem[]): void {
    const len = chunk.length;
    let pos = 0;
    while (pos < len) {
      const nl = chunk.indexOf(10, pos);
      const end = nl === -1 ? len : nl;
      if (nl !== -1 && this.partBytes === 0 && !this.overflow) {
        this.lineNo++;
        if (end - pos > this.maxLineBytes)
          this.rejectLong(chunk.subarray(pos, pos + HEAD_BYTES), end - pos, out);
        else this.emit(chunk, pos, end, out);
      } else {
        this.append(chunk, pos, end);
        if (nl !== -1) {
          this.lineNo++;
          this.flushPending(out);
        }
      }
      if (nl === -1) break;
      pos = nl + 1;
    }
  }

  end(out: ReadItem[]): void {
    if (this.partBytes > 0 || this.overflow) {
      this.lineNo++;
      this.flushPending(out);
    }
  }

  private append(chunk: Buffer, start: number, end: number): void {
    const n = end - start;
    if (n === 0) return;
    this.totalBytes += n;
    if (this.overflow) return;
    if (this.partBytes + n > this.maxLineBytes) {
      // Keep only what the rejection shows; drop the rest while scanning on for the newline.
      const headParts = [...this.parts, chunk.subarray(start, Math.min(end, start + HEAD_BYTES))];
      this.head = Buffer.concat(headParts).subarray(0, HEAD_BYTES);
      this.parts = [];
      this.partBytes = 0;
      this.overflow = true;
      return;
    }
    this.parts.push(chunk.subarray(start, end));
    this.partBytes += n;
  }

  private flushPending(out: ReadItem[]): void {
    if (this.overflow) {
      this.rejectLong(this.head ?? Buffer.alloc(0), this.totalBytes, out);
    } else {
      const buf = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
      this.emit(buf, 0, buf.length, out);
    }
    this.parts = [];
    this.partBytes = 0;
    this.overflow = false;
    this.head = undefined;
    this.totalBytes = 0;
  }

  private rejectLong(head: Buffer, bytes: number, out: ReadItem[]): void {
    out.push({
      recordNo: this.lineNo,
      rejected: `line too long: ${bytes} bytes, more than the limit of ${this.maxLineBytes}`,
      firstBytes: safeFirstBytes(head),
    });
  }

  private emit(buf: Buffer, start: number, end: number, out: ReadItem[]): void {
    if (end > start && buf[end - 1] === 13) end--;
    if (end === start) return;
    const first = buf[start]!;
    if (first !== 123 && isBlank(buf, start, end)) return;
    pushJson(out, this.lineNo, 'jsonl', buf.toString('utf8', start, end));
  }
}

function isBlank(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c !== 32 && c !== 9 && c !== 13) return false;
  }
  return true;
}

/**
 * Byte scanner for JSON arrays and concatenated (pretty-printed) values. A `{` in column 0 while a
 * top-level value is still open means that value was truncated: it is rejected and scanning resynchronises
 * on the new value (pretty printers indent everything but the top level).
 */
export class JsonScanFramer implements ByteFramer {
  private depth = 0;
  private inArray = false;
  private inRec = false;
  private recBase = 0;
  private recScalar = false;
  private recGarbage = false;
  private inStr = false;
  private esc = false;
  private prevNewline = true;
  private recParts: Buffer[] = [];
  private recBytes = 0;
  private recOversize = false;
  private recHead: Buffer | undefined;
  private recTooDeep = false;
  private recBroken: string | undefined;
  private ordinal = 0;

  constructor(private readonly opts: ResolvedReadOptions) {}

  /** Bytes held for the current unfinished value: never more than the limit. */
  get bufferedBytes(): number {
    return this.recOversize ? (this.recHead?.length ?? 0) : this.recBytes;
  }

  push(chunk: Buffer, out: ReadItem[]): void {
    const len = chunk.length;
    let recStart = 0;
    for (let i = 0; i < len; i++) {
      const c = chunk[i]!;
      if (this.inRec) {
        if (this.recGarbage) {
          if (c === 10) {
            this.finish(chunk, recStart, i, out, 'not JSON: expected an object or an array');
            this.prevNewline = true;
          }
          continue;
        }
        if (this.inStr) {
          if (this.esc) this.esc = false;
          else if (c === 92) this.esc = true;
          else if (c === 34) this.inStr = false;
          else if (c === 10) {
            // JSON strings cannot hold a raw newline: the value is broken (truncated mid-string).
            this.recBroken ??= 'invalid JSON: line break inside a string (truncated value?)';
            this.inStr = false;
            this.prevNewline = true;
          }
          continue;
        }
        if (this.recScalar) {
          if (c === 34) this.inStr = true;
          else if (c === 44)
            this.finish(chunk, recStart, i, out, 'invalid record: array element is not a JSON object');
          else if (c === 93) {
            this.finish(chunk, recStart, i, out, 'invalid record: array element is not a JSON object');
            this.depth = 0;
            this.inArray = false;
          }
          continue;
        }
        if (c === 123 && this.prevNewline && this.recBase === 0) {
          this.finish(
            chunk,
            recStart,
            i,
            out,
            'invalid JSON: truncated value (the next one starts before it closed)',
          );
          recStart = i;
          this.start();
          this.recBase = 0;
          this.depth = 1;
          this.prevNewline = false;
          continue;
        }
        if (c === 34) this.inStr = true;
        else if (c === 123 || c === 91) {
          this.depth++;
          if (this.depth - this.recBase > this.opts.maxJsonDepth) this.recTooDeep = true;
        } else if (c === 125 || c === 93) {
          this.depth--;
          if (this.depth <= this.recBase) {
            this.depth = this.recBase;
            this.finish(chunk, recStart, i + 1, out, undefined);
          }
        }
        this.prevNewline = c === 10;
        continue;
      }
      // Between records.
      if (c === 32 || c === 9 || c === 13 || c === 10) {
        this.prevNewline = c === 10;
        continue;
      }
      this.prevNewline = false;
      if (this.inArray && c === 44) continue;
      if (!this.inArray && c === 91 && this.depth === 0) {
        this.inArray = true;
        this.depth = 1;
        continue;
      }
      if (this.inArray && c === 93) {
        this.inArray = false;
        this.depth = 0;
        continue;
      }
      recStart = i;
      this.start();
      this.recBase = this.depth;
      // A nested array element is framed like an object; normalisation rejects it as not an object.
      if (c === 123 || (c === 91 && this.inArray)) {
        this.depth++;
      } else if (this.inArray) {
        this.recScalar = true;
        if (c === 34) this.inStr = true;
      } else {
        this.recGarbage = true;
      }
    }
    if (this.inRec) this.append(chunk, recStart, len);
  }

  end(out: ReadItem[]): void {
    if (!this.inRec) return;
    const empty = Buffer.alloc(0);
    if (this.recGarbage) this.finish(empty, 0, 0, out, 'not JSON: expected an object or an array');
    else if (this.recScalar)
      this.finish(empty, 0, 0, out, 'invalid record: array element is not a JSON object');
    else this.finish(empty, 0, 0, out, 'invalid JSON: truncated at the end of the input');
  }

  private start(): void {
    this.inRec = true;
    this.recScalar = false;
    this.recGarbage = false;
    this.inStr = false;
    this.esc = false;
    this.recParts = [];
    this.recBytes = 0;
    this.recOversize = false;
    this.recHead = undefined;
    this.recTooDeep = false;
    this.recBroken = undefined;
  }

  private append(chunk: Buffer, start: number, end: number): void {
    const n = end - start;
    if (n <= 0) return;
    if (this.recOversize) {
      this.recBytes += n;
      return;
    }
    if (this.recBytes + n > this.opts.maxLineBytes) {
      this.recHead = Buffer.concat([
        ...this.recParts,
        chunk.subarray(start, Math.min(end, start + HEAD_BYTES)),
      ]).subarray(0, HEAD_BYTES);
      this.recParts = [];
      this.recOversize = true;
      this.recBytes += n;
      return;
    }
    this.recParts.push(chunk.subarray(start, end));
    this.recBytes += n;
  }

  private finish(
    chunk: Buffer,
    start: number,
    end: number,
    out: ReadItem[],
    reason: string | undefined,
  ): void {
    this.append(chunk, start, end);
    this.inRec = false;
    this.inStr = false;
    const recordNo = ++this.ordinal;
    const why =
      reason ??
      this.recBroken ??
      (this.recOversize
        ? `JSON value too long: more than ${this.opts.maxLineBytes} bytes`
        : this.recTooDeep
          ? `JSON too deep: nesting deeper than ${this.opts.maxJsonDepth}`
          : undefined);
    const head =
      this.recHead ?? (this.recParts.length === 1 ? this.recParts[0]! : Buffer.concat(this.recParts));
    if (why !== undefined) {
      out.push({ recordNo, rejected: why, firstBytes: safeFirstBytes(head.subarray(0, HEAD_BYTES)) });
    } else {
      pushJson(out, recordNo, this.recBase > 0 ? 'json-array' : 'jsonl', head.toString('utf8'));
    }
    this.recParts = [];
    this.recHead = undefined;
  }
}

/**
 * Chooses the mode on the first value: `[` means an array; `{` means JSON lines when the first line holds
 * a complete value, else concatenated multi-line values. Anything else is treated as lines, whose bad
 * lines are then rejected one by one.
 */
export class JsonFramer implements ByteFramer {
  private inner: ByteFramer | undefined;
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly opts: ResolvedReadOptions) {}

  push(chunk: Buffer, out: ReadItem[]): void {
    if (this.inner !== undefined) {
      this.inner.push(chunk, out);
      return;
    }
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    const buf = Buffer.concat(this.pending);
    const mode = decideMode(buf, this.opts.maxLineBytes, false);
    if (mode !== undefined) this.start(mode, buf, out);
  }

  end(out: ReadItem[]): void {
    if (this.inner === undefined) {
      const buf = Buffer.concat(this.pending);
      this.start(decideMode(buf, this.opts.maxLineBytes, true) ?? 'lines', buf, out);
    }
    this.inner!.end(out);
  }

  private start(mode: 'lines' | 'scan', buf: Buffer, out: ReadItem[]): void {
    this.inner =
      mode === 'lines' ? new JsonLinesFramer(this.opts.maxLineBytes) : new JsonScanFramer(this.opts);
    this.pending = [];
    this.inner.push(buf, out);
  }
}

function decideMode(buf: Buffer, maxLineBytes: number, atEnd: boolean): 'lines' | 'scan' | undefined {
  let i = 0;
  while (i < buf.length && (buf[i] === 32 || buf[i] === 9 || buf[i] === 13 || buf[i] === 10)) i++;
  if (i === buf.length) return atEnd ? 'lines' : undefined;
  if (buf[i] === 91) return 'scan';
  if (buf[i] !== 123) return 'lines';
  const nl = buf.indexOf(10, i);
  if (nl === -1) {
    if (atEnd) return firstValueClosesBy(buf, i, buf.length) ? 'lines' : 'scan';
    return buf.length - i > maxLineBytes ? 'lines' : undefined;
  }
  return firstValueClosesBy(buf, i, nl) ? 'lines' : 'scan';
}

/** Whether the value starting at `start` closes before `end` (string-aware). */
function firstValueClosesBy(buf: Buffer, start: number, end: number): boolean {
  let depth = 0;
  let inStr = false;
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (inStr) {
      if (c === 92) i++;
      else if (c === 34) inStr = false;
    } else if (c === 34) inStr = true;
    else if (c === 123 || c === 91) depth++;
    else if (c === 125 || c === 93) {
      depth--;
      if (depth === 0) return true;
    }
  }
  return false;
}
