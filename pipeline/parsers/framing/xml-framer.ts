/**
 * Streams Windows event XML (`<Events><Event>..</Event></Events>` or a bare sequence of `<Event>`s, as
 * WEF and `wevtutil qe /f:xml` write it) through one saxes parser and cuts out each `<Event>` element as
 * its own XML text. Only the current event is held. DTDs are refused outright: saxes would not expand
 * entities anyway, but a DOCTYPE in event XML is never legitimate and the refusal names the reason.
 */
import { SaxesParser, type SaxesTag } from 'saxes';
import { DTD_REFUSED, xmlErrorMessage } from '../xml-event';
import { errorMessage, safeFirstBytes } from '../field-values';
import type { ReadItem, ResolvedReadOptions } from '../types';

const MAX_ERRORS = 100;

function localName(qname: string): string {
  const i = qname.indexOf(':');
  return i === -1 ? qname : qname.slice(i + 1);
}

function escapeText(s: string): string {
  let out = '';
  let last = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let rep: string | undefined;
    if (c === 38) rep = '&amp;';
    else if (c === 60) rep = '&lt;';
    else if (c === 62) rep = '&gt;';
    else if (c === 34) rep = '&quot;';
    else if (c < 32 && c !== 9 && c !== 10) rep = `&#x${c.toString(16)};`;
    if (rep !== undefined) {
      out += s.slice(last, i) + rep;
      last = i + 1;
    }
  }
  return last === 0 ? s : out + s.slice(last);
}

export interface TextFramer {
  push(text: string, out: ReadItem[]): void;
  end(out: ReadItem[]): void;
  /** True once the input was refused as a whole (DOCTYPE, runaway node): the reader stops feeding it. */
  readonly stopped: boolean;
}

export class XmlFramer implements TextFramer {
  private parser: SaxesParser | undefined;
  private prolog = '';
  private tail = '';
  private out: ReadItem[] = [];
  private ordinal = 0;
  private errors = 0;
  private charsSinceEvent = 0;
  stopped = false;
  // Current <Event>.
  private inEvent = false;
  /** Between `<Event` and the end of its start tag: saxes reports attribute errors before `opentag`. */
  private startingEvent = false;
  private depth = 0;
  private buf: string[] = [];
  private bufLen = 0;
  private oversize = false;
  private tooDeep = false;
  private eventError: string | undefined;

  constructor(private readonly opts: ResolvedReadOptions) {}

  push(text: string, out: ReadItem[]): void {
    if (this.stopped || text.length === 0) return;
    if (this.parser === undefined) {
      this.prolog += text;
      // The XML declaration is ours to read: fragment mode (for bare <Event> sequences) rejects it.
      const trimmed = this.prolog.replace(/^\uFEFF?\s*/, '');
      if (trimmed.startsWith('<?xml')) {
        const end = trimmed.indexOf('?>');
        if (end === -1) {
          if (this.prolog.length < 4096) return;
          this.refuse('invalid XML: unterminated XML declaration', out);
          return;
        }
        const decl = trimmed.slice(0, end);
        const version = /version\s*=\s*["']1\.1["']/.test(decl) ? '1.1' : '1.0';
        this.parser = this.makeParser(version);
        text = trimmed.slice(end + 2);
      } else if (trimmed.length < 5 && '<?xml'.startsWith(trimmed)) {
        return;
      } else {
        this.parser = this.makeParser('1.0');
        text = trimmed;
      }
      this.prolog = '';
    }
    const probe = this.tail + text;
    if (probe.includes('<!DOCTYPE') || probe.includes('<!ENTITY')) {
      this.refuse(DTD_REFUSED, out, probe.slice(probe.indexOf('<!')));
      return;
    }
    this.tail = probe.slice(-9);
    this.out = out;
    // Counted before writing: every parser event during the write resets it, so what remains is the text
    // saxes still holds. A node larger than the record limit is hostile or broken, and nothing after it
    // can be trusted to frame correctly.
    this.charsSinceEvent += text.length;
    try {
      this.parser.write(text);
    } catch (err) {
      this.refuse(`invalid XML: ${xmlErrorMessage(errorMessage(err))}`, out);
      return;
    }
    if (this.charsSinceEvent > this.opts.maxLineBytes) {
      this.refuse(`XML node too long: more than ${this.opts.maxLineBytes} characters without markup`, out);
    }
  }

  end(out: ReadItem[]): void {
    if (this.stopped) return;
    if (this.parser === undefined) {
      if (this.prolog.trim().length === 0) return;
      this.parser = this.makeParser('1.0');
      this.parser.write(this.prolog);
    }
    this.out = out;
    try {
      this.parser.close();
    } catch (err) {
      this.fileError(errorMessage(err));
    }
    if (this.inEvent || this.startingEvent) {
      this.inEvent = false;
      this.startingEvent = false;
      out.push({
        recordNo: ++this.ordinal,
        rejected: 'invalid XML: input ended inside an <Event>',
        firstBytes: safeFirstBytes(this.buf.join('')),
      });
    }
  }

  private makeParser(version: '1.0' | '1.1'): SaxesParser {
    const p = new SaxesParser({ fragment: true, defaultXMLVersion: version, forceXMLVersion: true });
    p.on('opentagstart', (tag) => this.onOpenStart(tag.name));
    p.on('opentag', (tag) => this.onOpen(tag));
    p.on('closetag', (tag) => this.onClose(tag.name));
    p.on('text', (t) => this.onText(t));
    p.on('cdata', (t) => this.onText(t));
    p.on('error', (e) => this.onError(e.message));
    return p;
  }

  private refuse(reason: string, out: ReadItem[], sample?: string): void {
    this.stopped = true;
    out.push({
      recordNo: ++this.ordinal,
      rejected: reason,
      firstBytes: safeFirstBytes(sample ?? this.buf.join('')),
    });
    this.buf = [];
  }

  private append(s: string): void {
    if (this.oversize) return;
    this.bufLen += s.length;
    if (this.bufLen > this.opts.maxLineBytes) {
      this.oversize = true;
      // Keep the start for the rejection's first bytes only.
      this.buf = [this.buf.join('').slice(0, 200)];
      return;
    }
    this.buf.push(s);
  }

  private onOpenStart(name: string): void {
    this.charsSinceEvent = 0;
    if (this.stopped || this.inEvent || localName(name) !== 'Event') return;
    // An error in this start tag's attributes belongs to the event, not to the file: counted once, with it.
    this.startingEvent = true;
    this.eventError = undefined;
  }

  private onOpen(tag: SaxesTag): void {
    this.charsSinceEvent = 0;
    if (this.stopped) return;
    const name = localName(tag.name);
    if (!this.inEvent) {
      if (name !== 'Event') return;
      this.inEvent = true;
      this.startingEvent = false;
      this.depth = 0;
      this.buf = [];
      this.bufLen = 0;
      this.oversize = false;
      this.tooDeep = false;
    }
    this.depth++;
    if (this.depth > this.opts.maxJsonDepth) this.tooDeep = true;
    let s = '<' + tag.name;
    for (const [k, v] of Object.entries(tag.attributes as Record<string, string>))
      s += ` ${k}="${escapeText(v)}"`;
    this.append(s + '>');
  }

  private onClose(name: string): void {
    this.charsSinceEvent = 0;
    if (!this.inEvent || this.stopped) return;
    // saxes reports self-closing tags as open + close, so the depth bookkeeping is uniform.
    this.depth--;
    this.append('</' + name + '>');
    if (this.depth > 0) return;
    this.inEvent = false;
    const recordNo = ++this.ordinal;
    const text = this.buf.join('');
    this.buf = [];
    const reason =
      this.eventError ??
      (this.oversize
        ? `XML event too long: more than ${this.opts.maxLineBytes} characters`
        : this.tooDeep
          ? `XML too deep: nesting deeper than ${this.opts.maxJsonDepth}`
          : undefined);
    if (reason !== undefined) this.out.push({ recordNo, rejected: reason, firstBytes: safeFirstBytes(text) });
    else this.out.push({ recordNo, format: 'xml', text });
  }

  private onText(t: string): void {
    this.charsSinceEvent = 0;
    if (this.inEvent && !this.stopped) this.append(escapeText(t));
  }

  private onError(message: string): void {
    this.charsSinceEvent = 0;
    if (this.stopped) return;
    if (this.inEvent || this.startingEvent) {
      this.eventError ??= `invalid XML: ${xmlErrorMessage(message)}`;
      return;
    }
    this.fileError(message);
  }

  private fileError(message: string): void {
    this.errors++;
    if (this.errors > MAX_ERRORS) {
      if (!this.stopped)
        this.refuse(
          `invalid XML: more than ${MAX_ERRORS} errors, giving up (last: ${xmlErrorMessage(message)})`,
          this.out,
        );
      return;
    }
    this.out.push({
      recordNo: ++this.ordinal,
      rejected: `invalid XML: ${xmlErrorMessage(message)}`,
      firstBytes: '',
    });
  }
}
