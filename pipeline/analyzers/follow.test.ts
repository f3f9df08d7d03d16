import { describe, expect, it } from 'vitest';
import type { Hit } from '../../domain/detection';
import { createLogger } from '../../lib/log';
import { consoleHost, FOLLOW_MIN_SCORE, followedKeys } from './follow';
import { StaticRarity } from './sdk/rarity';

const hit = (detection: string, score: number, riskyNodes: string[]): Hit => ({
  detection,
  source: 'analyzer',
  title: detection,
  score,
  techniques: [],
  summary: '',
  riskyNodes,
  contextNodes: [],
  time: 1,
});

describe('follow-up analyzers', () => {
  it('follow the processes of strong hits only, never their own hits, files or weak hits', () => {
    const keys = followedKeys([
      hit('analyzer:encoded-powershell', 85, ['Process:PS', 'File:WS1|c:\\x.ps1']),
      hit('sigma:abc', FOLLOW_MIN_SCORE, ['Process:CMD']),
      hit('analyzer:rare-cmd-parent', FOLLOW_MIN_SCORE - 10, ['Process:WEAK']),
      hit('analyzer:console-host', 90, ['Process:CONHOST']),
    ]);
    expect(keys).toEqual(['Process:CMD', 'Process:PS']);
  });

  it('console-host: the conhost is risky, its flagged parent is context, no technique is claimed', async () => {
    const ps = { key: 'Process:PS', image: 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe', host: 'WS1' };
    const con = { key: 'Process:CON', image: 'C:\\Windows\\System32\\conhost.exe', host: 'WS1' };
    const r = await consoleHost.hits(
      { proc: ps, console: con },
      { rarity: new StaticRarity(), log: createLogger({}, 'error'), expand: async () => [] },
    );
    expect(r).toMatchObject({ risky: [con], context: [ps] });
    expect(consoleHost.techniques).toEqual([]);
    expect(consoleHost.score).toBeLessThan(10);
  });
});
