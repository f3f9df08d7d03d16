import { describe, expect, it } from 'vitest';
import { buildTimeline, kindOfLabels, nodeLabel } from './present';

describe('nodeLabel', () => {
  it('names nodes by what an analyst recognises', () => {
    expect(nodeLabel('Process', 'Process:G', { image: 'C:\\Windows\\System32\\cmd.exe', pid: 42 })).toBe('cmd.exe (42)');
    expect(nodeLabel('Process', 'Process:H:7:~1', { pid: 7 })).toBe('pid 7');
    expect(nodeLabel('NetworkEndpoint', 'NetworkEndpoint:x', { ip: '10.0.0.5', port: 445 })).toBe('10.0.0.5:445');
    expect(nodeLabel('NetworkEndpoint', 'NetworkEndpoint:x', { ip: 'fe80::1', port: 80 })).toBe('[fe80::1]:80');
    expect(nodeLabel('User', 'User:X', { name: 'bob', domain: 'CORP' })).toBe('CORP\\bob');
    expect(nodeLabel('File', 'File:H:c:\\x', {})).toBe('H:c:\\x');
    expect(nodeLabel(null, 'Weird:thing', {})).toBe('thing');
    expect(kindOfLabels(['Other', 'Process'])).toBe('Process');
    expect(kindOfLabels(['Lens'])).toBeNull();
  });
});

describe('buildTimeline', () => {
  it('orders process starts, actions and detections by time, leaving out children that have their own start', () => {
    const t = buildTimeline({
      processes: [
        { key: 'P:a', label: 'a.exe (1)', commandLine: 'a.exe /x', user: 'CORP\\bob', createTime: 100, terminateTime: 900 },
        { key: 'P:b', label: 'b.exe (2)', commandLine: null, user: null, createTime: 200, terminateTime: null },
      ],
      edges: [
        { kind: 'PARENT_OF', from: 'P:a', fromLabel: 'a.exe (1)', to: 'P:b', toLabel: 'b.exe (2)', toInScope: true, firstSeen: 200, lastSeen: 200, count: 1 },
        { kind: 'PARENT_OF', from: 'P:a', fromLabel: 'a.exe (1)', to: 'P:c', toLabel: 'conhost.exe (3)', toInScope: false, firstSeen: 150, lastSeen: 150, count: 1 },
        { kind: 'CONNECTED_TO', from: 'P:b', fromLabel: 'b.exe (2)', to: 'N:x', toLabel: '10.0.0.5:445', toInScope: false, firstSeen: 300, lastSeen: 400, count: 3 },
        { kind: 'CREATED', from: 'P:b', fromLabel: 'b.exe (2)', to: 'F:x', toLabel: 'C:\\x.dmp', toInScope: false, firstSeen: null, lastSeen: null, count: 1 },
      ],
      risks: [{ node: 'P:b', nodeLabel: 'b.exe (2)', title: 'Bad', score: 70, firstSeen: 200, lastSeen: 250, count: 2 }],
    });
    expect(t.truncated).toBe(false);
    expect(t.events.map((e) => [e.time, e.kind])).toEqual([
      [100, 'process.created'],
      [150, 'PARENT_OF'],
      [200, 'process.created'],
      [200, 'detection'],
      [300, 'CONNECTED_TO'],
      [900, 'process.terminated'],
    ]);
    expect(t.events[0]!.text).toBe('a.exe (1) started as CORP\\bob: a.exe /x');
    expect(t.events[1]!.text).toBe('a.exe (1) started conhost.exe (3)');
    expect(t.events[3]!.text).toBe('Detection on b.exe (2): Bad (score 70) (2 hits)');
    expect(t.events[4]!.text).toBe(`b.exe (2) connected to 10.0.0.5:445 (3 times until ${new Date(400).toISOString()})`);
  });

  it('is bounded', () => {
    const processes = Array.from({ length: 20 }, (_, i) => ({ key: `P:${i}`, label: `${i}`, commandLine: null, user: null, createTime: i, terminateTime: null }));
    const t = buildTimeline({ processes, edges: [], risks: [] }, 5);
    expect(t.events).toHaveLength(5);
    expect(t.truncated).toBe(true);
  });
});
