/**
 * Files and byte streams to raw records. The format is detected from the content, never from the name:
 * gzip by its magic bytes (then detection starts again on the decompressed bytes), EVTX by `ElfFile\0`,
 * UTF-16 by its BOM (or `<`/`{` followed by a NUL), XML by a leading `<`, JSON by a leading `{` or `[`.
 * Everything is streamed; the only buffers are one record (bounded) and one EVTX chunk (64 KiB).
 */
import { createReadStream } from 'node:fs';
import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { errorMessage, safeFirstBytes } from './field-values';
import { EvtxFramer } from './framing/evtx-framer';
import { JsonFramer, type ByteFramer } from './framing/json-framer';
import { XmlFramer } from './framing/xml-framer';
import {
  COMPRESSION_RATIO_GRACE_BYTES,
  resolveReadOptions,
  type ReadItem,
  type ReadOptions,
  type ResolvedReadOptions,
} from './types';

const READ_CHUNK = 1024 * 1024;
/** How far into an input to look for a JSON line when it does not start like any known format. */
const SNIFF_LIMIT = 64 * 1024;

export type ByteStream = NodeJS.ReadableStream | ReadableStream<Uint8Array>;

/** Stream the records of one file (gz, evtx, xml, jsonl detected by content). */
export async function* readRecords(path: string, opts?: ReadOptions): AsyncGenerator<ReadItem> {
  const stream = createReadStream(path, { highWaterMark: READ_CHUNK });
  yield* readItems(nodeChunks(stream), resolveReadOptions(opts), path);
}

/** Same from a byte stream (HTTP upload); `name` is a hint only (used in messages). */
export async function* readRecordsFromStream(
  stream: ByteStream,
  opts?: ReadOptions & { name?: string },
): AsyncGenerator<ReadItem> {
  yield* readItems(byteChunks(stream), resolveReadOptions(opts), opts?.name ?? 'stream');
}

/** The bytes of a Node or web stream as Buffers; stopping early releases the stream (descriptor, socket). */
export function byteChunks(stream: ByteStream): AsyncGenerator<Buffer> {
  return isWebStream(stream) ? webChunks(stream) : nodeChunks(stream);
}

function isWebStream(s: ByteStream): s is ReadableStream<Uint8Array> {
  return typeof (s as ReadableStream<Uint8Array>).getReader === 'function';
}

async function* nodeChunks(stream: NodeJS.ReadableStream): AsyncGenerator<Buffer> {
  try {
    for await (const c of stream as AsyncIterable<unknown>) {
      if (typeof c === 'string') yield Buffer.from(c, 'utf8');
      else if (c instanceof Uint8Array)
        yield Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
    }
  } finally {
    // Stopping early (a refused input) must release the file descriptor / socket.
    const d = (stream as { destroy?: () => void }).destroy;
    if (typeof d === 'function') d.call(stream);
  }
}

async function* webChunks(stream: ReadableStream<Uint8Array>): AsyncGenerator<Buffer> {
  const reader = stream.getReader();
  let done = false;
  try {
    for (;;) {
      const r = await reader.read();
      if (r.done) {
        done = true;
        return;
      }
      yield Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
    }
  } finally {
    if (!done) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}

/** Lets the format sniffer look at the first bytes and then hand the whole stream on. */
class Peeker {
  private readonly it: AsyncIterator<Buffer>;
  private head: Buffer[] = [];
  private headBytes = 0;
  done = false;

  constructor(source: AsyncIterable<Buffer>) {
    this.it = source[Symbol.asyncIterator]();
  }

  async peek(n: number): Promise<Buffer> {
    while (this.headBytes < n && !this.done) {
      const r = await this.it.next();
      if (r.done) this.done = true;
      else {
        this.head.push(r.value);
        this.headBytes += r.value.length;
      }
    }
    const buf = this.head.length === 1 ? this.head[0]! : Buffer.concat(this.head);
    this.head = buf.length > 0 ? [buf] : [];
    return buf;
  }

  get peekedBytes(): number {
    return this.headBytes;
  }

  /** Drops `n` bytes of the head (a BOM). */
  skip(n: number): void {
    const buf = Buffer.concat(this.head).subarray(n);
    this.head = buf.length > 0 ? [buf] : [];
    this.headBytes = buf.length;
  }

  async *chunks(): AsyncGenerator<Buffer> {
    const head = this.head;
    this.head = [];
    try {
      for (const c of head) yield c;
      for (;;) {
        const r = await this.it.next();
        if (r.done) return;
        yield r.value;
      }
    } finally {
      await this.close();
    }
  }

  async close(): Promise<void> {
    await this.it.return?.();
  }
}

type Sniffed =
  | { kind: 'evtx' }
  | { kind: 'json'; bom: number }
  | { kind: 'xml'; bom: number; encoding: string }
  | { kind: 'utf16'; bom: number; encoding: 'utf-16le' | 'utf-16be' }
  | { kind: 'unknown' };

const EVTX_MAGIC = Buffer.from('ElfFile\0', 'latin1');

function isWs(c: number | undefined): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/** undefined: need more bytes. */
function sniff(head: Buffer, atEnd: boolean): Sniffed | undefined {
  if (head.length < EVTX_MAGIC.length && !atEnd && EVTX_MAGIC.subarray(0, head.length).equals(head))
    return undefined;
  if (head.subarray(0, 8).equals(EVTX_MAGIC)) return { kind: 'evtx' };
  if (head[0] === 0xff && head[1] === 0xfe) return { kind: 'utf16', bom: 2, encoding: 'utf-16le' };
  if (head[0] === 0xfe && head[1] === 0xff) return { kind: 'utf16', bom: 2, encoding: 'utf-16be' };
  const bom = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
  const b0 = head[bom];
  const b1 = head[bom + 1];
  if ((b0 === 60 || b0 === 123 || b0 === 91) && b1 === 0)
    return { kind: 'utf16', bom: 0, encoding: 'utf-16le' };
  if (b0 === 0 && (b1 === 60 || b1 === 123 || b1 === 91))
    return { kind: 'utf16', bom: 0, encoding: 'utf-16be' };
  let i = bom;
  while (i < head.length && isWs(head[i])) i++;
  if (i === head.length) return atEnd ? { kind: 'json', bom } : undefined;
  const c = head[i];
  if (c === 60) return { kind: 'xml', bom, encoding: xmlEncoding(head.subarray(i, i + 200)) };
  if (c === 123 || c === 91) return { kind: 'json', bom };
  // Garbage first: still JSON lines if a line further on starts like an object (`{"`); its bad lines are then
  // rejected one by one. Three bytes, so random binary data practically never qualifies.
  if (head.indexOf('\n{"', i) !== -1) return { kind: 'json', bom };
  if (head.length < SNIFF_LIMIT && !atEnd) return undefined;
  return { kind: 'unknown' };
}

function xmlEncoding(decl: Buffer): string {
  const m = /^<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(decl.toString('latin1'));
  const label = m?.[1]?.toLowerCase();
  // UTF-16 declared on single-byte content is a lie (the bytes decide); anything TextDecoder knows is honoured.
  if (label === undefined || label.startsWith('utf-16') || label === 'utf16') return 'utf-8';
  try {
    new TextDecoder(label);
    return label;
  } catch {
    return 'utf-8';
  }
}

class InputRejected extends Error {}

/** Decompresses with two bomb guards: an absolute cap and a ratio cap (after a grace amount). */
async function* gunzipLimited(
  source: AsyncIterable<Buffer>,
  opts: ResolvedReadOptions,
): AsyncGenerator<Buffer> {
  let outBytes = 0;
  const gunzip = createGunzip({ chunkSize: 256 * 1024 });
  // Errors surface through the iteration of `gunzip` below; the callback only keeps pipeline quiet.
  pipeline(Readable.from(source), gunzip, () => undefined);
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      outBytes += chunk.length;
      // The compressed bytes zlib has consumed so far, not those read: the streams read ahead of zlib (a
      // whole small bomb at once), which made the ratio look lower than it is and let a bomb run on.
      const inBytes = gunzip.bytesWritten;
      if (outBytes > opts.maxDecompressedBytes) {
        throw new InputRejected(
          `gzip bomb: more than ${opts.maxDecompressedBytes} bytes decompressed, rest of the input not read`,
        );
      }
      if (outBytes > COMPRESSION_RATIO_GRACE_BYTES && outBytes > inBytes * opts.maxCompressionRatio) {
        throw new InputRejected(
          `gzip bomb: compression ratio above ${opts.maxCompressionRatio}:1 (${outBytes} bytes from ${inBytes}), rest of the input not read`,
        );
      }
      yield chunk;
    }
  } catch (err) {
    if (err instanceof InputRejected) throw err;
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('Z_'))
      throw new InputRejected(`broken gzip: ${errorMessage(err)}`);
    throw err;
  } finally {
    gunzip.destroy();
  }
}

async function* readItems(
  source: AsyncIterable<Buffer>,
  opts: ResolvedReadOptions,
  name: string,
): AsyncGenerator<ReadItem> {
  const raw = new Peeker(source);
  let peeker = raw;
  const out: ReadItem[] = [];
  let framer: ByteFramer | undefined;
  let lastRecordNo = 0;
  try {
    const magic = await peeker.peek(2);
    if (magic[0] === 0x1f && magic[1] === 0x8b) peeker = new Peeker(gunzipLimited(peeker.chunks(), opts));
    let sniffed: Sniffed | undefined;
    let want = 8;
    for (;;) {
      const head = await peeker.peek(want);
      sniffed = sniff(head, peeker.done);
      if (sniffed !== undefined) break;
      want = Math.max(want * 8, peeker.peekedBytes + 1);
    }
    if (sniffed.kind === 'unknown') {
      const head = await peeker.peek(0);
      if (head.length === 0) return;
      yield {
        recordNo: 1,
        rejected: `unrecognised input: ${safeFirstBytes(name)} is not JSON, Windows event XML, EVTX or gzip`,
        firstBytes: safeFirstBytes(head.subarray(0, 200)),
      };
      return;
    }
    if (sniffed.kind === 'xml' || sniffed.kind === 'utf16') {
      peeker.skip(sniffed.bom);
      yield* readText(peeker, sniffed, opts);
      return;
    }
    if (sniffed.kind === 'json') peeker.skip(sniffed.bom);
    framer = sniffed.kind === 'evtx' ? new EvtxFramer(opts) : new JsonFramer(opts);
    for await (const chunk of peeker.chunks()) {
      framer.push(chunk, out);
      for (const item of out) yield item;
      if (out.length > 0) lastRecordNo = out[out.length - 1]!.recordNo;
      out.length = 0;
    }
    framer.end(out);
    for (const item of out) yield item;
  } catch (err) {
    if (!(err instanceof InputRejected)) throw err;
    // What was framed before the cut is good; the partial record at the cut is dropped with the input.
    for (const item of out) yield item;
    yield { recordNo: lastRecordNo + 1, rejected: err.message, firstBytes: '' };
  } finally {
    await peeker.close();
    await raw.close();
  }
}

/** XML (any encoding) and UTF-16 inputs: decoded to text, then XML framing or JSON framing of UTF-8. */
async function* readText(
  peeker: Peeker,
  sniffed: Extract<Sniffed, { kind: 'xml' } | { kind: 'utf16' }>,
  opts: ResolvedReadOptions,
): AsyncGenerator<ReadItem> {
  const decoder = new TextDecoder(sniffed.encoding, { fatal: false });
  const out: ReadItem[] = [];
  let xml: XmlFramer | undefined = sniffed.kind === 'xml' ? new XmlFramer(opts) : undefined;
  let json: JsonFramer | undefined;
  let decided = sniffed.kind === 'xml';
  let lastRecordNo = 0;
  const feed = (text: string): void => {
    if (!decided) {
      const t = text.replace(/^\uFEFF?\s*/, '');
      if (t.length === 0) return;
      decided = true;
      if (t.startsWith('<')) xml = new XmlFramer(opts);
      else json = new JsonFramer(opts);
      text = text.replace(/^\uFEFF/, '');
    }
    if (xml !== undefined) xml.push(text, out);
    else json?.push(Buffer.from(text, 'utf8'), out);
  };
  try {
    for await (const chunk of peeker.chunks()) {
      feed(decoder.decode(chunk, { stream: true }));
      for (const item of out) yield item;
      if (out.length > 0) lastRecordNo = out[out.length - 1]!.recordNo;
      out.length = 0;
      if (xml?.stopped === true) return;
    }
    feed(decoder.decode());
    if (xml !== undefined) xml.end(out);
    else json?.end(out);
    for (const item of out) yield item;
  } catch (err) {
    if (!(err instanceof InputRejected)) throw err;
    for (const item of out) yield item;
    yield { recordNo: lastRecordNo + 1, rejected: err.message, firstBytes: '' };
  }
}
