import { describe, expect, it } from 'vitest';
import type { Hit } from '../../../domain/detection';
import { riskCypher, riskRows } from './handler';

const hit = (over: Partial<Hit>): Hit => ({
  detection: 'sigma:r1',
  source: 'sigma',
  title: 'Rule one',
  score: 45,
  techniques: ['T1003.001'],
  summary: 's',
  riskyNodes: ['Process:AAA'],
  contextNodes: [],
  time: 1000,
  ...over,
});

describe('riskRows', () => {
  it('folds the same detection on the same node into one row with a count', () => {
    const rows = riskRows([hit({ time: 2000 }), hit({ time: 1000, score: 70, techniques: ['T1059'] })]);
    const proc = rows.get('Process')!;
    expect(proc).toHaveLength(1);
    expect(proc[0]).toMatchObject({ key: 'sigma:r1|Process:AAA', count: 2, score: 70, time: 1000, last: 2000 });
    expect(proc[0]!.techniques.sort()).toEqual(['T1003.001', 'T1059']);
  });

  it('counts Sigma occurrences by event: the same event again counts once', () => {
    const rows = riskRows([hit({ time: 1000 }), hit({ time: 1000 }), hit({ time: 3000 }), hit({ time: 1000 })]);
    expect(rows.get('Process')![0]).toMatchObject({ count: 2 });
    expect(rows.get('Process')![0]!.occurrences).toHaveLength(2);
  });

  it('counts analyzer occurrences by the nodes matched, whatever time the re-evaluation saw', () => {
    const a = (riskyNodes: string[], time: number) =>
      hit({ detection: 'analyzer:x', source: 'analyzer', riskyNodes, time });
    const rows = riskRows([
      a(['Process:AAA', 'Process:C1'], 1000),
      a(['Process:C1', 'Process:AAA'], 5000), // the same shape, re-found later with a converged time
      a(['Process:AAA', 'Process:C2'], 1000), // another child: another occurrence
    ]);
    expect(rows.get('Process')!.find((r) => r.node === 'Process:AAA')).toMatchObject({ count: 2 });
    expect(rows.get('Process')!.find((r) => r.node === 'Process:C1')).toMatchObject({ count: 1 });
  });

  it('keeps distinct detections and nodes apart, grouped by node kind', () => {
    const rows = riskRows([
      hit({}),
      hit({ detection: 'sigma:r2' }),
      hit({ riskyNodes: ['Process:BBB', 'File:H:c:\\x.exe'] }),
    ]);
    expect(rows.get('Process')).toHaveLength(3);
    expect(rows.get('File')).toHaveLength(1);
  });

  it('ignores nodes whose key names no kind', () => {
    expect(riskRows([hit({ riskyNodes: ['bogus'] })]).size).toBe(0);
  });
});

describe('riskCypher', () => {
  it('takes the label from the model and every value as a parameter', () => {
    expect(riskCypher('Process')).toMatchSnapshot();
    expect(riskCypher('Process')).not.toMatch(/'[^']*'/);
  });
});
