/**
 * Findings export (scripts/findings.ts): one JSON line per risk on a node, and a markdown ticket per
 * engagement. Pure; tested in export.test.ts. Everything that came from telemetry (command lines, paths,
 * titles of rules matching attacker input) is data: it is escaped so that it can neither break a table,
 * nor open a code span, a link or HTML, in any markdown renderer.
 */
import type { ExportRow } from './repository';
import type { FindingRow, LensDetail } from './types';

const iso = (ms: number | null | undefined): string | null =>
  typeof ms === 'number' && Number.isFinite(ms) ? new Date(ms).toISOString() : null;

/** `cmd_psexec_lsa_secrets_dump.jsonl.gz` -> `cmd_psexec_lsa_secrets_dump` (what score.py calls a dataset). */
export function datasetStem(name: string): string {
  let s = name.trim();
  const slash = Math.max(s.lastIndexOf('/'), s.lastIndexOf('\\'));
  if (slash >= 0) s = s.slice(slash + 1);
  s = s.replace(/\.gz$/i, '');
  s = s.replace(/\.(jsonl|ndjson|json|xml|evtx|log|txt)$/i, '');
  return s;
}

/** The dataset of a node from its `sources` (file names it was seen in): the first, sorted. */
export function datasetOf(sources: readonly string[]): string | null {
  const names = [...sources].filter((s) => s.trim() !== '').sort();
  return names[0] ? datasetStem(names[0]) : null;
}

export function toFinding(r: ExportRow): FindingRow {
  return {
    lens: r.lens?.id ?? null,
    lens_type: r.lens?.type ?? null,
    lens_score: r.lens?.score ?? null,
    status: r.lens?.status ?? null,
    detection: r.risk.detection,
    title: r.risk.title,
    risk_score: r.risk.score,
    techniques: r.risk.techniques,
    node_kind: r.kind,
    node_key: r.nodeKey,
    host: r.host,
    process_guid: r.processGuid,
    image: r.image,
    command_line: r.commandLine,
    first_seen: iso(r.risk.firstSeen),
    last_seen: iso(r.risk.lastSeen),
    dataset: datasetOf(r.sources),
  };
}

/** One line of JSON: newlines and the Unicode line separators are escaped, so a line is a record. */
export function jsonLine(v: unknown): string {
  return JSON.stringify(v)
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

// ------------------------------------------------------------------------------------------- markdown

/**
 * Inline markdown text from untrusted data: HTML special characters as entities, every markdown
 * punctuation character that can start a construct backslash-escaped, autolinks broken, line breaks
 * folded to spaces. Safe inside a table cell.
 */
export function mdEscape(text: string | null | undefined): string {
  if (text === null || text === undefined) return '';
  return String(text)
    // eslint-disable-next-line no-control-regex -- control characters are exactly what is removed here
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '')
    .replace(/\r\n|\r|\n|\u2028|\u2029/g, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\\`*_[\]#|~]/g, (c) => `\\${c}`)
    .replace(/:\/\//g, ':\\/\\/')
    .replace(/\bwww\./gi, (m) => `${m.slice(0, 3)}\\.`);
}

/** A table cell: escaped, and bounded so one command line cannot flood the report. */
export function mdCell(text: string | number | null | undefined, max = 500): string {
  if (text === null || text === undefined || text === '') return '';
  const t = String(text);
  return mdEscape(t.length > max ? `${t.slice(0, max - 1)}…` : t);
}

/** Analyst markdown (a note) quoted as a block: its formatting is kept, raw HTML is not. */
export function mdQuote(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .split(/\r\n|\r|\n/)
    .map((l) => `> ${l}`)
    .join('\n');
}

const when = (ms: number | null | undefined) => iso(ms) ?? '';

function table(head: string[], rows: string[][]): string {
  if (rows.length === 0) return '_none_\n';
  return (
    [
      `| ${head.join(' | ')} |`,
      `|${head.map(() => '---').join('|')}|`,
      ...rows.map((r) => `| ${r.join(' | ')} |`),
    ].join('\n') + '\n'
  );
}

export function renderLensMarkdown(d: LensDetail): string {
  const l = d.lens;
  const out: string[] = [];
  out.push(`# ${mdEscape(l.title || l.id)}`, '');
  const status =
    l.status +
    (l.reopenedByPipeline ? ` (reopened by the pipeline: ${l.reopenReason ?? 'new detections'})` : '');
  out.push(
    table(
      ['Field', 'Value'],
      [
        ['Lens', mdCell(l.id)],
        ['Type', mdCell(l.type)],
        ['Status', mdCell(status)],
        ['Score', mdCell(l.score)],
        ['Assignee', mdCell(l.assignee ?? 'unassigned')],
        ['Hosts', mdCell(l.hosts.join(', '))],
        ['Techniques', mdCell(l.techniques.join(', '))],
        ['Tags', mdCell(l.tags.join(', '))],
        ['Risky nodes', mdCell(l.riskyCount)],
        ['Detections', mdCell(l.detectionCount)],
        ['First seen', mdCell(when(l.firstSeen))],
        ['Last seen', mdCell(when(l.lastSeen))],
        ['Created', mdCell(when(l.createdAt))],
        ...(d.redirectedFrom ? [['Merged from', mdCell(d.redirectedFrom)]] : []),
      ],
    ),
  );

  out.push('## Summary', '');
  const top = d.risks
    .slice(0, 5)
    .map((r) => `- ${mdEscape(r.title)} (score ${r.score}) on ${mdEscape(labelOf(d, r.node))}`);
  out.push(
    `${l.riskyCount} risky node(s) on ${mdEscape(l.hosts.join(', ') || 'unknown hosts')}, ${l.detectionCount} distinct detection(s), ${d.nodes.length} node(s) in scope.`,
    '',
    ...(top.length ? [...top, ''] : []),
  );

  out.push('## Timeline', '');
  out.push(
    table(
      ['Time (UTC)', 'Event', 'What'],
      d.timeline.map((e) => [mdCell(when(e.time)), mdCell(e.kind), mdCell(e.text, 400)]),
    ),
  );
  if (d.truncated.timeline) out.push('_timeline truncated_', '');

  out.push('## Nodes', '');
  out.push(
    table(
      ['Role', 'Kind', 'Host', 'Node', 'Details', 'Risk'],
      d.nodes.map((n) => [
        mdCell(n.role),
        mdCell(n.kind),
        mdCell(n.host),
        mdCell(n.label),
        mdCell(typeof n.props.command_line === 'string' ? n.props.command_line : n.key, 400),
        mdCell(n.riskScore || ''),
      ]),
    ),
  );
  if (d.truncated.nodes) out.push('_nodes truncated_', '');
  // The report lists no edges, but the lens page it was made from did not have all of them either.
  if (d.truncated.edges) out.push('_edges truncated_', '');

  out.push('## Risks', '');
  out.push(
    table(
      ['Score', 'Detection', 'Title', 'Node', 'Techniques', 'Hits', 'First seen', 'Last seen'],
      d.risks.map((r) => [
        mdCell(r.score),
        mdCell(r.detection),
        mdCell(r.title),
        mdCell(labelOf(d, r.node)),
        mdCell(r.techniques.join(', ')),
        mdCell(r.count),
        mdCell(when(r.firstSeen)),
        mdCell(when(r.lastSeen)),
      ]),
    ),
  );

  out.push('## Notes', '');
  if (d.notes.length === 0) out.push('_none_', '');
  for (const n of d.notes) {
    const on = n.targetKind === 'node' ? ` on ${mdEscape(labelOf(d, n.target))}` : '';
    const edited = n.version > 1 ? `, edited ${when(n.updatedAt)} (version ${n.version})` : '';
    out.push(`**${mdEscape(n.author)}**, ${when(n.createdAt)}${edited}${on}:`, '', mdQuote(n.text), '');
  }

  out.push('## Resolution', '');
  if (l.status === 'Closed') {
    out.push(
      `**${mdEscape(l.resolution ?? 'unresolved')}**${l.duplicateOf ? ` (duplicate of ${mdEscape(l.duplicateOf)})` : ''}, closed by ${mdEscape(l.closedBy ?? 'unknown')} at ${when(l.closedAt)}`,
      '',
      mdQuote(l.resolutionSummary ?? ''),
      '',
    );
  } else out.push(`_open (${l.status})_`, '');
  return out.join('\n');
}

function labelOf(d: LensDetail, key: string): string {
  return d.nodes.find((n) => n.key === key)?.label ?? key;
}
