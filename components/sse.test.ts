import { describe, expect, it } from 'vitest';
import { SseParser } from './sse';

describe('SseParser', () => {
  it('parses events split anywhere across chunks', () => {
    const text = 'event: next\ndata: {"a":1}\n\n:ping\n\nevent: complete\ndata:\n\n';
    for (let cut = 0; cut <= text.length; cut++) {
      const p = new SseParser();
      const events = [...p.push(text.slice(0, cut)), ...p.push(text.slice(cut))];
      expect(events, `cut at ${cut}`).toEqual([
        { event: 'next', data: '{"a":1}' },
        { event: 'complete', data: '' },
      ]);
    }
  });

  it('joins multi-line data, accepts CRLF and defaults the event name', () => {
    const p = new SseParser();
    expect(p.push('data: a\r\ndata: b\r\n\r\nid: 7\ndata:c\n\n')).toEqual([
      { event: 'message', data: 'a\nb' },
      { event: 'message', data: 'c', id: '7' },
    ]);
  });

  it('waits for the end of an event', () => {
    const p = new SseParser();
    expect(p.push('event: next\ndata: x\n')).toEqual([]);
    expect(p.push('\n')).toEqual([{ event: 'next', data: 'x' }]);
  });
});
