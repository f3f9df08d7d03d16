/**
 * One Windows `<Event>` element as XML (WEF, `wevtutil qe /f:xml`, an EVTX record rendered to XML) to a
 * normalised event. The element is small (one event, bounded by the framer), so it is parsed into a tiny
 * tree first; the file as a whole is never held (see framing/xml-framer.ts).
 */
import { SaxesParser } from 'saxes';
import { errorMessage, setField } from './field-values';
import { DEFAULT_MAX_JSON_DEPTH, type NormalizeOptions, type ParseResult } from './types';
import { finishWindowsEvent, rejected, windowsEnvelope } from './windows-event';

interface XNode {
  name: string;
  attrs: Record<string, string>;
  text: string;
  children: XNode[];
}

/** `&#x1;` .. `&#x1f;` except tab, newline, carriage return: legal in XML 1.1 only. */
const CONTROL_CHAR_REF = /&#(?:x0*(?:[0-8bcefBCEF]|1[0-9a-fA-F])|0*(?:[0-8]|1[1-24-9]|2[0-9]|3[01]));/;

export const DTD_REFUSED =
  'refused XML: DOCTYPE/ENTITY declarations are not accepted (entity expansion protection)';

/**
 * saxes messages quote names from the input (`duplicate attribute: <name>`, `unclosed tag: <name>`), which
 * can be a megabyte long: a reason is stored per rejected record, so the message is cut.
 */
const MAX_XML_MESSAGE = 160;

export function xmlErrorMessage(message: string): string {
  return message.length > MAX_XML_MESSAGE ? `${message.slice(0, MAX_XML_MESSAGE)}...` : message;
}

function localName(qname: string): string {
  const i = qname.indexOf(':');
  return i === -1 ? qname : qname.slice(i + 1);
}

function child(node: XNode, name: string): XNode | undefined {
  for (const c of node.children) if (c.name === name) return c;
  return undefined;
}

/** Parses the XML text of one event into a tree; a string is the rejection reason. */
function parseTree(text: string, maxDepth: number): XNode | string {
  if (text.includes('<!DOCTYPE') || text.includes('<!ENTITY')) return DTD_REFUSED;
  // XML 1.1 is needed only for character references to control characters (escaped by our framers).
  const version = text.includes('&#') && CONTROL_CHAR_REF.test(text) ? '1.1' : '1.0';
  const parser = new SaxesParser({ position: false, defaultXMLVersion: version });
  const root: XNode = { name: '', attrs: {}, text: '', children: [] };
  const stack: XNode[] = [root];
  let error: string | undefined;
  parser.on('opentag', (tag) => {
    if (stack.length > maxDepth) {
      error ??= `XML nesting deeper than ${maxDepth}`;
      return;
    }
    const node: XNode = {
      name: localName(tag.name),
      attrs: tag.attributes as Record<string, string>,
      text: '',
      children: [],
    };
    stack[stack.length - 1]!.children.push(node);
    stack.push(node);
  });
  parser.on('closetag', () => {
    if (stack.length > 1) stack.pop();
  });
  parser.on('text', (t) => {
    stack[stack.length - 1]!.text += t;
  });
  parser.on('cdata', (t) => {
    stack[stack.length - 1]!.text += t;
  });
  parser.on('doctype', () => {
    error ??= DTD_REFUSED;
  });
  parser.on('error', (e) => {
    error ??= e.message;
  });
  try {
    parser.write(text).close();
  } catch (err) {
    error ??= errorMessage(err);
  }
  if (error !== undefined) return error === DTD_REFUSED ? error : `invalid XML: ${xmlErrorMessage(error)}`;
  return root;
}

export function normalizeXmlEvent(text: string, opts: NormalizeOptions | undefined): ParseResult {
  const tree = parseTree(text, opts?.maxJsonDepth ?? DEFAULT_MAX_JSON_DEPTH);
  if (typeof tree === 'string') return rejected(tree);
  const event = child(tree, 'Event');
  if (event === undefined) return rejected('invalid XML event: no <Event> element');
  const sys = child(event, 'System');
  if (sys === undefined) return rejected('invalid XML event: no <System> element');
  const env = windowsEnvelope(
    child(sys, 'EventID')?.text.trim(),
    child(sys, 'Channel')?.text,
    child(sys, 'Provider')?.attrs.Name,
    child(sys, 'Computer')?.text,
    child(sys, 'EventRecordID')?.text.trim(),
    opts,
  );
  if (env.kind !== 'envelope') return env;
  const fields: Record<string, string> = {};
  for (const section of event.children) {
    if (section.name === 'System' || section.name === 'RenderingInfo') continue;
    if (section.name === 'EventData') addEventData(fields, section);
    else addLeaves(fields, section, 0);
  }
  return finishWindowsEvent(
    env,
    fields,
    child(sys, 'TimeCreated')?.attrs.SystemTime,
    child(sys, 'Execution')?.attrs.ProcessID,
  );
}

function addEventData(fields: Record<string, string>, data: XNode): void {
  const unnamed: string[] = [];
  for (const d of data.children) {
    if (d.name === 'Data') {
      const name = d.attrs.Name;
      if (name !== undefined && name !== '') setField(fields, name, d.text);
      else unnamed.push(d.text);
    } else if (d.children.length === 0) {
      setField(fields, d.name, d.text);
    } else {
      addLeaves(fields, d, 1);
    }
  }
  // Same convention as the JSON shapes: repeated unnamed values joined with newlines.
  if (unnamed.length > 0) setField(fields, 'Data', unnamed);
}

function addLeaves(fields: Record<string, string>, node: XNode, depth: number): void {
  if (depth > 8) return;
  for (const c of node.children) {
    if (c.children.length === 0) setField(fields, c.name, c.text);
    else addLeaves(fields, c, depth + 1);
  }
}
