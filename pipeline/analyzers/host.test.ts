/**
 * The host without a database: loading (error isolation, export checks), running (row checks, one
 * failing analyzer or match not hiding the others), hit folding.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../lib/log';
import type { GraphGateway } from '../../lib/neo4j';
import { BUILTIN_DIR, createAnalyzerHost, loadAnalyzers } from './host';
import { analyzerFiles } from './loader';
import { dedupeHits, keysByKind, paramSets } from './runtime';
import { defineAnalyzer, imageIs, match } from './sdk';
import { GraphRarity, StaticRarity } from './sdk/rarity';

const log = createLogger({ test: 'analyzers' }, 'error');
const SDK = pathToFileURL(path.join(import.meta.dirname, 'sdk/index.ts')).href;

let dir: string;

function write(name: string, body: string): void {
  fs.writeFileSync(path.join(dir, name), body);
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lg-analyzers-'));
  const good = (id: string) => `import { defineAnalyzer, match, imageIs } from '${SDK}';
export default defineAnalyzer({
  id: '${id}', title: 'Good', techniques: ['T1059'], score: 40,
  query: match('Process', 'p', { image: imageIs('cmd.exe') }),
  hits: (m) => ({ risky: [m.p], summary: 'cmd' }),
});
`;
  write('a-good.mjs', good('extra-good'));
  write('b-throws.mjs', `throw new Error('boom at import');\n`);
  write('c-syntax.mjs', `export default {{{ not javascript\n`);
  write(
    'd-garbage.mjs',
    `export default { id: 'x', title: 'not built with the SDK', query: 'MATCH (n) DETACH DELETE n', hits: () => [] };\n`,
  );
  write('e-nothing.mjs', `export const unrelated = 1;\n`);
  write('f-duplicate.mjs', good('extra-good'));
  write(
    'g-bad-technique.mjs',
    `import { defineAnalyzer, match } from '${SDK}';
export default defineAnalyzer({ id: 'bad-technique', title: 't', techniques: ['TA0001'], score: 1, query: match('Process', 'p'), hits: () => null });
`,
  );
  write(
    'h-bad-prop.mjs',
    `import { defineAnalyzer, match } from '${SDK}';
export default defineAnalyzer({ id: 'bad-prop', title: 't', techniques: [], score: 1, query: match('Process', 'p', { passwd: 'x' }), hits: () => null });
`,
  );
  write(
    'i-list.mjs',
    `import { defineAnalyzer, match } from '${SDK}';
const mk = (id) => defineAnalyzer({ id, title: 't', techniques: [], score: 1, query: match('Process', 'p'), hits: () => null });
export const analyzers = [mk('list-one'), mk('list-two'), { nope: true }];
`,
  );
  write('_helper.mjs', `throw new Error('helpers are not loaded');\n`);
  write('z.test.mjs', `throw new Error('tests are not loaded');\n`);
  write('readme.md', 'not a module');
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('loading', () => {
  it('loads the built-in pack without failures', async () => {
    const { analyzers, report } = await loadAnalyzers(undefined);
    expect(report.failed).toEqual([]);
    expect(analyzers.length).toBeGreaterThanOrEqual(30);
    expect(new Set(analyzers.map((a) => a.id)).size).toBe(analyzers.length);
    for (const a of analyzers) {
      expect(a.techniques.length, a.id).toBeGreaterThan(0);
      expect(a.compiled.cypher, a.id).toContain('$keys_');
    }
  });

  it('reports a broken module and keeps loading the others', async () => {
    const { analyzers, report } = await loadAnalyzers(dir, BUILTIN_DIR);
    const extra = analyzers
      .map((a) => a.id)
      .filter((id) => ['extra-good', 'list-one', 'list-two'].includes(id));
    expect(extra.sort()).toEqual(['extra-good', 'list-one', 'list-two']);
    const failed = Object.fromEntries(report.failed.map((f) => [f.name, f.error]));
    expect(Object.keys(failed).sort()).toEqual([
      'extra/b-throws.mjs',
      'extra/c-syntax.mjs',
      'extra/d-garbage.mjs',
      'extra/e-nothing.mjs',
      'extra/f-duplicate.mjs',
      'extra/g-bad-technique.mjs',
      'extra/h-bad-prop.mjs',
      'extra/i-list.mjs#2',
    ]);
    expect(failed['extra/b-throws.mjs']).toMatch(/import failed: boom at import/);
    expect(failed['extra/d-garbage.mjs']).toMatch(/not an analyzer/);
    expect(failed['extra/e-nothing.mjs']).toMatch(/exports no analyzer/);
    expect(failed['extra/f-duplicate.mjs']).toMatch(/duplicate analyzer id/);
    expect(failed['extra/g-bad-technique.mjs']).toMatch(/techniques/);
    expect(failed['extra/h-bad-prop.mjs']).toMatch(/no property "passwd"/);
    expect(report.loaded).toContain('extra-good');
  });

  it('reports a missing folder', async () => {
    const { report } = await loadAnalyzers(path.join(dir, 'nope'), BUILTIN_DIR);
    expect(report.failed).toEqual([
      { name: 'extra', error: expect.stringMatching(/cannot read analyzer folder/) },
    ]);
  });

  it('skips helpers, tests and non-modules', async () => {
    const files = (await analyzerFiles(dir)).map((f) => path.basename(f));
    expect(files).not.toContain('_helper.mjs');
    expect(files).not.toContain('z.test.mjs');
    expect(files).not.toContain('readme.md');
  });
});

type Row = Record<string, unknown>;

/** A gateway that answers every query with canned rows per operation, or throws. */
function fakeGateway(answers: Record<string, Row[] | Error>): {
  gateway: Pick<GraphGateway, 'query'>;
  calls: Array<{ op: string; params: Row }>;
} {
  const calls: Array<{ op: string; params: Row }> = [];
  const gateway = {
    async query<T>(op: string, _cypher: string, params: Row = {}): Promise<T[]> {
      calls.push({ op, params });
      const a = answers[op];
      if (a instanceof Error) throw a;
      return (a ?? []) as T[];
    },
  } as Pick<GraphGateway, 'query'>;
  return { gateway, calls };
}

const cmdAnalyzer = defineAnalyzer({
  id: 'cmd-seen',
  title: 'cmd seen',
  techniques: ['T1059.003'],
  score: 30,
  query: match('Process', 'p', { image: imageIs('cmd.exe') })
    .parent('p', 'parent')
    .anchor('p'),
  hits(m) {
    if (m.p.command_line === 'throw') throw new Error('bad row');
    return { risky: [m.p], context: [m.parent], summary: `cmd ${String(m.p.command_line)}` };
  },
});

const brokenAnalyzer = defineAnalyzer({
  id: 'always-fails',
  title: 'fails',
  techniques: ['T1059'],
  score: 30,
  query: match('Process', 'p'),
  hits: () => null,
});

describe('running', () => {
  it('runs anchored on changed keys of the anchor kinds only, in chunks', () => {
    const by = keysByKind(['Process:1', 'Process:2', 'Process:3', 'File:X:c:\\a', 'bogus', 'Process:1']);
    expect(by.get('Process')).toEqual(['Process:1', 'Process:2', 'Process:3']);
    expect(by.get('File')).toEqual(['File:X:c:\\a']);
    const sets = paramSets(cmdAnalyzer.compiled, by, 100, 2);
    expect(sets.map((s) => s.keys_Process)).toEqual([['Process:1', 'Process:2'], ['Process:3']]);
    expect(String(sets[0]!.limit)).toBe('100');
  });

  it('isolates a failing analyzer and a failing match', async () => {
    const rows: Row[] = [
      { p: { key: 'Process:1', command_line: 'ok' }, parent: { key: 'Process:0' } },
      { p: { key: 'Process:2', command_line: 'throw' }, parent: { key: 'Process:0' } },
      { p: { key: 'Process:1', command_line: 'ok' }, parent: { key: 'Process:0' } },
      { p: 'not a node', parent: { key: 'Process:0' } },
      { p: { key: 'Process:3', command_line: 'also ok', create_time: 7 }, parent: { key: 'Process:0' } },
    ];
    const { gateway, calls } = fakeGateway({
      'analyzer:cmd-seen': rows,
      'analyzer:always-fails': new Error('Neo4j said no'),
    });
    const host = createAnalyzerHost(gateway, [brokenAnalyzer, cmdAnalyzer], log, {
      rarity: new StaticRarity(),
    });
    const hits = await host.run(['Process:1', 'Process:2', 'Process:3']);
    expect(hits.map((h) => h.riskyNodes[0]).sort()).toEqual(['Process:1', 'Process:3']);
    expect(hits.find((h) => h.riskyNodes[0] === 'Process:3')).toMatchObject({
      detection: 'analyzer:cmd-seen',
      time: 7,
      contextNodes: ['Process:0'],
    });
    expect(host.lastRun.failed).toEqual([{ id: 'always-fails', error: 'Neo4j said no' }]);
    const stats = host.lastRun.stats.find((s) => s.id === 'cmd-seen')!;
    expect(stats).toMatchObject({ rows: 3, hits: 2, rowErrors: 2 });
    const queries = calls.filter((c) => c.op.startsWith('analyzer:'));
    expect(queries.length).toBeGreaterThan(0);
    expect(queries.every((c) => Array.isArray(c.params.keys_Process))).toBe(true);
  });

  it('gives an analyzer only the keys its anchor filters may pass, and skips it when none may', async () => {
    const prefetched = [
      { n: { key: 'Process:1', image: 'C:\\Windows\\notepad.exe' } },
      { n: { key: 'Process:2', image: 'C:\\Windows\\System32\\CMD.EXE' } },
    ];
    const { gateway, calls } = fakeGateway({ 'analyze.prefetch.Process': prefetched });
    const host = createAnalyzerHost(gateway, [cmdAnalyzer], log, { rarity: new StaticRarity() });
    await host.run(['Process:1', 'Process:2', 'Process:3']);
    // Process:3 was not found by the prefetch: kept, the query decides.
    expect(calls.map((c) => [c.op, c.params.keys ?? c.params.keys_Process])).toEqual([
      ['analyze.prefetch.Process', ['Process:1', 'Process:2', 'Process:3']],
      ['analyzer:cmd-seen', ['Process:2', 'Process:3']],
    ]);
    expect(host.lastRun.skipped).toEqual([]);

    calls.length = 0;
    await host.run(['Process:1']);
    expect(calls.map((c) => c.op)).toEqual(['analyze.prefetch.Process']);
    expect(host.lastRun.skipped).toEqual(['cmd-seen']);
    expect(host.lastRun.stats).toEqual([]);
  });

  it('gives every analyzer every changed key when the prefetch fails, or when the prefilter is off', async () => {
    const failing = fakeGateway({ 'analyze.prefetch.Process': new Error('Neo4j is restarting') });
    const host = createAnalyzerHost(failing.gateway, [cmdAnalyzer], log, { rarity: new StaticRarity() });
    await host.run(['Process:1', 'Process:2']);
    expect(failing.calls.find((c) => c.op === 'analyzer:cmd-seen')?.params.keys_Process).toEqual([
      'Process:1',
      'Process:2',
    ]);
    const off = fakeGateway({ 'analyze.prefetch.Process': [{ n: { key: 'Process:1', image: 'x' } }] });
    const plain = createAnalyzerHost(off.gateway, [cmdAnalyzer], log, {
      rarity: new StaticRarity(),
      prefilter: false,
    });
    await plain.run(['Process:1']);
    expect(off.calls.map((c) => c.op)).toEqual(['analyzer:cmd-seen']);
  });

  it('keeps the keys of a failed prefetch read for every analyzer, and still uses the reads that worked', async () => {
    const analyzed: unknown[] = [];
    const gateway = {
      async query<T>(op: string, _cypher: string, params: Row = {}): Promise<T[]> {
        if (op === 'analyze.prefetch.Process') {
          const [key] = params.keys as string[];
          if (key === 'Process:2') throw new Error('Neo4j is restarting');
          return [{ n: { key, image: 'C:\\Windows\\notepad.exe' } }] as T[];
        }
        analyzed.push(...((params.keys_Process as string[] | undefined) ?? []));
        return [];
      },
    } as Pick<GraphGateway, 'query'>;
    // One key per read: Process:1's read answers (notepad, not cmd.exe), Process:2's fails.
    const host = createAnalyzerHost(gateway, [cmdAnalyzer], log, {
      rarity: new StaticRarity(),
      chunkSize: 1,
    });
    await host.run(['Process:1', 'Process:2']);
    expect(analyzed).toEqual(['Process:2']);
  });

  it('does not query when no anchor kind changed', async () => {
    const { gateway, calls } = fakeGateway({});
    const host = createAnalyzerHost(gateway, [cmdAnalyzer], log, { rarity: new StaticRarity() });
    expect(await host.run(['File:X:c:\\a', 'IpAddress:1.2.3.4'])).toEqual([]);
    expect(calls).toEqual([]);
  });

  it('folds hits of one detection on the same nodes', () => {
    const base = {
      detection: 'analyzer:x',
      source: 'analyzer' as const,
      title: 't',
      techniques: ['T1059'],
      summary: 's',
      contextNodes: ['A'],
      time: 5,
    };
    const out = dedupeHits([
      { ...base, score: 40, riskyNodes: ['Process:1', 'Process:2'] },
      {
        ...base,
        score: 70,
        riskyNodes: ['Process:2', 'Process:1'],
        contextNodes: ['B'],
        time: 3,
        techniques: ['T1003'],
      },
      { ...base, score: 10, riskyNodes: ['Process:9'] },
    ]);
    expect(out).toHaveLength(2);
    expect(out[0]).toMatchObject({
      score: 70,
      time: 3,
      contextNodes: ['A', 'B'],
      techniques: ['T1059', 'T1003'],
    });
  });
});

describe('environment rarity', () => {
  it('computes the parent/child profile once per TTL and batches destination lookups', async () => {
    const { gateway, calls } = fakeGateway({
      'analyzer.rarity.parent-child': [
        { parent: 'winword.exe', child: 'cmd.exe', count: 2, hosts: 1 },
        { parent: 'explorer.exe', child: 'cmd.exe', count: 900, hosts: 120 },
      ],
      'analyzer.rarity.image-ip': [{ image: 'beacon.exe', ip: 'IpAddress:100.64.1.2', count: 3, hosts: 2 }],
    });
    const rarity = new GraphRarity(gateway, { ttlMs: 60_000 });
    const [a, b, c] = await Promise.all([
      rarity.parentChild('C:\\Office\\WINWORD.EXE', 'C:\\Windows\\System32\\cmd.exe'),
      rarity.parentChild('explorer.exe', 'CMD.EXE'),
      rarity.parentChild('x.exe', 'cmd.exe'),
    ]);
    expect([a, b, c]).toEqual([
      { count: 2, hosts: 1 },
      { count: 900, hosts: 120 },
      { count: 0, hosts: 0 },
    ]);
    const [d, e] = await Promise.all([
      rarity.imageToIp('C:\\Users\\x\\beacon.exe', 'IpAddress:100.64.1.2'),
      rarity.imageToIp('notepad.exe', 'IpAddress:100.64.1.2'),
    ]);
    expect([d, e]).toEqual([
      { count: 3, hosts: 2 },
      { count: 0, hosts: 0 },
    ]);
    expect(calls.map((x) => x.op)).toEqual(['analyzer.rarity.parent-child', 'analyzer.rarity.image-ip']);
    expect(calls[1]!.params.qs).toEqual([
      { image: 'beacon.exe', ip: 'IpAddress:100.64.1.2' },
      { image: 'notepad.exe', ip: 'IpAddress:100.64.1.2' },
    ]);
  });
});
