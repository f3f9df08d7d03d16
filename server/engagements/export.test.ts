import { describe, expect, it } from 'vitest';
import { datasetOf, datasetStem, jsonLine, mdCell, mdEscape, mdQuote, renderLensMarkdown, toFinding } from './export';
import type { ExportRow } from './repository';
import type { LensDetail } from './types';

const EVIL = 'cmd.exe /c "echo `whoami` | findstr x" <script>alert(1)</script> [click](javascript:alert(1)) **bold** http://evil.example/x\nsecond line';

describe('markdown escaping', () => {
  it('keeps attacker strings as data: no table break, code span, HTML, link, emphasis or autolink', () => {
    const e = mdEscape(EVIL);
    expect(e).not.toMatch(/(^|[^\\])\|/); // every pipe escaped
    expect(e).not.toMatch(/(^|[^\\])`/); // every backtick escaped
    expect(e).not.toContain('<');
    expect(e).not.toContain('>');
    expect(e).toContain('&lt;script&gt;');
    expect(e).toContain('\\[click\\]');
    expect(e).toContain('\\*\\*bold\\*\\*');
    expect(e).not.toContain('http://');
    expect(e).not.toContain('\n');
    // the escapes are the only change: unescaping gives the text back (line break folded)
    const back = e
      .replace(/:\\\/\\\//g, '://')
      .replace(/\\(.)/g, '$1')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&');
    expect(back).toBe(EVIL.replace('\n', ' '));
  });

  it('escapes backslashes in Windows paths so they survive rendering', () => {
    expect(mdEscape('C:\\Windows\\System32\\cmd.exe')).toBe('C:\\\\Windows\\\\System32\\\\cmd.exe');
  });

  it('drops control characters, bounds cells, breaks www autolinks', () => {
    expect(mdEscape('a\u0000b\u001bc')).toBe('abc');
    expect(mdCell('x'.repeat(1000), 10)).toBe(`${'x'.repeat(9)}…`);
    expect(mdEscape('www.evil.com')).toBe('www\\.evil.com');
    expect(mdCell(null)).toBe('');
  });

  it('quotes analyst notes keeping markdown but not HTML', () => {
    expect(mdQuote('**seen** <img src=x onerror=alert(1)>\nline 2')).toBe('> **seen** &lt;img src=x onerror=alert(1)&gt;\n> line 2');
  });
});

describe('jsonl', () => {
  it('is one line per record whatever the strings hold', () => {
    const line = jsonLine({ command_line: 'a\nb\r\nc\u2028d\u2029e' });
    expect(line.split('\n')).toHaveLength(1);
    expect(line).not.toMatch(/[\u2028\u2029\r]/);
    expect(JSON.parse(line)).toEqual({ command_line: 'a\nb\r\nc\u2028d\u2029e' });
  });

  it('names the dataset by the source file stem', () => {
    expect(datasetStem('cmd_psexec_lsa_secrets_dump.jsonl')).toBe('cmd_psexec_lsa_secrets_dump');
    expect(datasetStem('metasploit_out-minidump_lsass_memory_dump.jsonl.gz')).toBe('metasploit_out-minidump_lsass_memory_dump');
    expect(datasetStem('/data/x/y.json')).toBe('y');
    expect(datasetOf(['b.jsonl', 'a.jsonl'])).toBe('a');
    expect(datasetOf([])).toBeNull();
  });

  it('maps an export row to the finding fields score.py reads', () => {
    const row: ExportRow = {
      risk: { key: 'sigma:r|Process:G', node: 'Process:G', detection: 'sigma:r', source: 'sigma', title: 'T', summary: '', score: 70, techniques: ['T1003.001'], count: 3, firstSeen: 0, lastSeen: 1000 },
      nodeKey: 'Process:G',
      kind: 'Process',
      host: 'WORKSTATION5',
      processGuid: '39E4A257-40A6-5F8D-0000-000000000000',
      image: 'C:\\x.exe',
      commandLine: 'x | y',
      sources: ['cmd_psexec_lsa_secrets_dump.jsonl'],
      lens: { id: 'eng:1', type: 'engagement', score: 88, status: 'New' },
    };
    expect(toFinding(row)).toEqual({
      lens: 'eng:1',
      lens_type: 'engagement',
      lens_score: 88,
      status: 'New',
      detection: 'sigma:r',
      title: 'T',
      risk_score: 70,
      techniques: ['T1003.001'],
      node_kind: 'Process',
      node_key: 'Process:G',
      host: 'WORKSTATION5',
      process_guid: '39E4A257-40A6-5F8D-0000-000000000000',
      image: 'C:\\x.exe',
      command_line: 'x | y',
      first_seen: '1970-01-01T00:00:00.000Z',
      last_seen: '1970-01-01T00:00:01.000Z',
      dataset: 'cmd_psexec_lsa_secrets_dump',
    });
  });
});

describe('markdown ticket', () => {
  const detail: LensDetail = {
    lens: {
      id: 'eng:abc',
      type: 'engagement',
      title: 'Evil | title `x`',
      status: 'Closed',
      score: 91.5,
      hosts: ['WS5'],
      techniques: ['T1003.001'],
      tags: ['apt'],
      assignee: 'alice',
      riskCount: 1,
      riskyCount: 1,
      nodeCount: 2,
      detectionCount: 1,
      hitCount: 1,
      resolution: 'TruePositive',
      resolutionSummary: 'Confirmed <b>compromise</b>',
      duplicateOf: null,
      mergedInto: null,
      reopenedByPipeline: false,
      reopenReason: null,
      createdAt: 0,
      updatedAt: 0,
      statusChangedAt: 0,
      closedAt: 5000,
      closedBy: 'alice',
      firstSeen: 0,
      lastSeen: 1000,
    },
    redirectedFrom: null,
    nodes: [
      { key: 'Process:G', kind: 'Process', role: 'risky', addedBy: 'pipeline', addedAt: 0, host: 'WS5', label: 'cmd.exe (1)', riskScore: 70, props: { command_line: EVIL } },
      { key: 'Process:P', kind: 'Process', role: 'context', addedBy: 'pipeline', addedAt: 0, host: 'WS5', label: 'explorer.exe (2)', riskScore: 0, props: {} },
    ],
    edges: [],
    risks: [{ key: 'k', node: 'Process:G', detection: 'sigma:r', source: 'sigma', title: 'Rule | one', summary: '', score: 70, techniques: ['T1003.001'], count: 1, firstSeen: 0, lastSeen: 0 }],
    timeline: [{ time: 0, kind: 'process.created', node: 'Process:G', target: null, text: `cmd.exe (1) started: ${EVIL}` }],
    notes: [{ id: 'n', target: 'eng:abc', targetKind: 'lens', text: 'Looked at it\n<script>', author: 'bob', createdAt: 0, updatedAt: 10, version: 2, editedBy: 'bob', movedFrom: null }],
    audit: [],
    truncated: { nodes: false, edges: false, timeline: false, audit: false },
  };

  it('renders every section, with tables that attacker strings cannot break', () => {
    const md = renderLensMarkdown(detail);
    for (const h of ['# Evil \\| title \\`x\\`', '## Summary', '## Timeline', '## Nodes', '## Risks', '## Notes', '## Resolution']) expect(md).toContain(h);
    // every table row has exactly as many unescaped pipes as its header
    for (const block of md.split('\n\n')) {
      const rows = block.split('\n').filter((l) => l.startsWith('|'));
      if (rows.length === 0) continue;
      const pipes = (l: string) => (l.match(/(^|[^\\])\|/g) ?? []).length;
      for (const r of rows) expect(pipes(r)).toBe(pipes(rows[0]!));
    }
    expect(md).not.toMatch(/<script>|<b>/);
    expect(md).toContain('**TruePositive**');
    expect(md).toContain('> Confirmed &lt;b&gt;compromise&lt;/b&gt;');
    expect(md).toContain('version 2');
    expect(md).not.toMatch(/_(nodes|edges|timeline) truncated_/);
  });

  it('says which parts of the lens page were cut, each on its own', () => {
    const md = (t: Partial<LensDetail['truncated']>) =>
      renderLensMarkdown({ ...detail, truncated: { ...detail.truncated, ...t } });
    const edgesOnly = md({ edges: true });
    expect(edgesOnly).toContain('_edges truncated_');
    expect(edgesOnly).not.toContain('_nodes truncated_');
    const nodesOnly = md({ nodes: true });
    expect(nodesOnly).toContain('_nodes truncated_');
    expect(nodesOnly).not.toContain('_edges truncated_');
    // Both notes close the Nodes section, nodes first, before the Risks heading.
    const both = md({ nodes: true, edges: true });
    const at = (s: string) => both.indexOf(s);
    expect(at('## Nodes')).toBeLessThan(at('_nodes truncated_'));
    expect(at('_nodes truncated_')).toBeLessThan(at('_edges truncated_'));
    expect(at('_edges truncated_')).toBeLessThan(at('## Risks'));
  });
});
