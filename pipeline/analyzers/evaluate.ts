/**
 * Measures the analyzers on the development sets: per dataset, which truth processes (by ProcessGuid, from
 * ../shared/data/truth) got analyzer hits and how many benign processes did.
 *
 *   tsx pipeline/analyzers/evaluate.ts [options]
 *
 *   --data DIR         the shared data folder (default ../shared/data next to the repository)
 *   --datasets a,b     only these datasets (file stems)
 *   --ingest           first ingest the datasets here (parse -> build -> identity -> merge, in process);
 *                      otherwise the graph must already hold them (npm run ingest), found by Process.sources
 *   --tag T            with --ingest: replay under namespace T (hosts, GUIDs, IPs remapped) so the run owns
 *                      its nodes in a shared database
 *   --streaming        with --ingest: also run the analyzers after every merged batch of 2000 events, as
 *                      the pipeline does (the final pass over every process of the dataset always runs)
 *   --evtx             also replay every labelled EVTX sample (../shared/data/evtx-jsonl, files with Sysmon
 *                      or 4688 events), each under its own namespace, and report which ones the analyzers
 *                      detect (they have no process-level truth: detection and techniques only)
 *   --findings FILE    write one JSON line per (hit, process) in the format of ../shared/tools/score.py
 *   --verbose          list every flagged process
 *
 * Neo4j from NEO4J_URI, NEO4J_USER, NEO4J_PASSWORD; extra analyzers from LENSGRAPH_ANALYZERS_DIR.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Hit } from '../../domain/detection';
import { createLogger } from '../../lib/log';
import { GraphGateway } from '../../lib/neo4j';
import { MemorySessionStore } from '../identity';
import { ensureGraphSchema } from '../merge';
import { replayGuid } from '../stages/parse/replay';
import { createAnalyzerHost, loadAnalyzers } from './host';
import { ingestEvents, namespaced, readEvents } from './test-support';

interface Truth {
  malicious_processes: Array<{ ProcessGuid: string; Image?: string; CommandLine?: string; host?: string }>;
  attack_techniques?: string;
}

interface ProcInfo {
  key: string;
  guid: string | null;
  host: string | null;
  image: string | null;
  command_line: string | null;
}

const g = (s: string) => s.replace(/[{}]/g, '').toUpperCase();

function stemOf(file: string): string {
  return path.basename(file).replace(/\.jsonl(\.gz)?$/, '');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      datasets: { type: 'string' },
      ingest: { type: 'boolean', default: false },
      tag: { type: 'string' },
      streaming: { type: 'boolean', default: false },
      findings: { type: 'string' },
      verbose: { type: 'boolean', default: false },
      evtx: { type: 'boolean', default: false },
    },
  });
  const dataDir = path.resolve(values.data ?? path.join(import.meta.dirname, '../../../shared/data'));
  const uri = process.env.NEO4J_URI;
  const password = process.env.NEO4J_PASSWORD;
  if (!uri || !password) {
    console.error('NEO4J_URI and NEO4J_PASSWORD must be set');
    process.exit(2);
  }
  if (values.tag !== undefined && !/^[A-Za-z0-9]{1,16}$/.test(values.tag)) {
    console.error('--tag: 1..16 letters or digits');
    process.exit(2);
  }
  const log = createLogger({ proc: 'analyzer-evaluate' }, 'warn');
  const gateway = new GraphGateway({ uri, user: process.env.NEO4J_USER ?? 'neo4j', password });
  const { analyzers, report } = await loadAnalyzers(process.env.LENSGRAPH_ANALYZERS_DIR);
  for (const f of report.failed) console.error(`analyzer not loaded: ${f.name}: ${f.error}`);
  const host = createAnalyzerHost(gateway, analyzers, log);
  const only = values.datasets ? new Set(values.datasets.split(',').map((s) => s.trim())) : undefined;
  const files = fs
    .readdirSync(path.join(dataDir, 'sysmon-json'))
    .filter((f) => /\.jsonl(\.gz)?$/.test(f))
    .filter((f) => fs.existsSync(path.join(dataDir, 'truth', `${stemOf(f)}.truth.json`)))
    .filter((f) => !only || only.has(stemOf(f)))
    .sort();
  const findings: string[] = [];
  const totals = { truth: 0, hit: 0, fp: 0, detected: 0, datasets: 0 };
  const tag = values.tag;
  const store = new MemorySessionStore();
  if (values.ingest) await ensureGraphSchema(gateway);

  for (const file of files) {
    const stem = stemOf(file);
    const truth = JSON.parse(
      fs.readFileSync(path.join(dataDir, 'truth', `${stem}.truth.json`), 'utf8'),
    ) as Truth;
    const mapGuid = (guid: string) => (tag ? replayGuid(g(guid), tag) : g(guid));
    const truthGuids = new Set(truth.malicious_processes.map((p) => mapGuid(p.ProcessGuid)));
    const hits: Hit[] = [];
    const t0 = Date.now();
    if (values.ingest) {
      let events = await readEvents(path.join(dataDir, 'sysmon-json', file));
      if (tag) events = events.map((e) => namespaced(e, tag));
      events.sort((a, b) => a.time - b.time);
      await ingestEvents(gateway, events, {
        origin: file,
        store,
        batchSize: 2000,
        batchPrefix: `analyzer-evaluate:${tag ?? ''}:${stem}`,
        onBatch: values.streaming ? async (keys) => void hits.push(...(await host.run(keys))) : undefined,
      });
    }
    // Final pass: every process of the dataset (found by the file name recorded on it).
    const procRows = await gateway.query<{ key: string }>(
      'analyzer-evaluate.dataset-processes',
      `MATCH (p:Process) WHERE any(s IN coalesce(p.sources, []) WHERE s = $file OR s ENDS WITH $suffix)
       ${tag ? 'AND p.host ENDS WITH $hostTag' : ''}
       RETURN p.key AS key`,
      { file, suffix: `/${file}`, hostTag: `-${(tag ?? '').toUpperCase()}` },
    );
    const datasetKeys = procRows.map((r) => r.key);
    for (let i = 0; i < datasetKeys.length; i += 2000)
      hits.push(...(await host.run(datasetKeys.slice(i, i + 2000))));
    const failed = host.lastRun.failed;
    for (const f of failed) console.error(`  analyzer ${f.id} failed: ${f.error}`);

    // Hits -> processes.
    const riskyKeys = [...new Set(hits.flatMap((h) => h.riskyNodes).filter((k) => k.startsWith('Process:')))];
    const infos = await gateway.query<ProcInfo>(
      'analyzer-evaluate.process-info',
      'UNWIND $keys AS k MATCH (p:Process {key: k}) RETURN p.key AS key, p.process_guid AS guid, p.host AS host, p.image AS image, p.command_line AS command_line',
      { keys: riskyKeys },
    );
    const byKey = new Map(infos.map((i) => [i.key, i]));
    const inDataset = new Set(datasetKeys);
    const detections = new Map<string, Set<string>>();
    for (const h of hits) {
      for (const k of h.riskyNodes) {
        if (!byKey.has(k) || !inDataset.has(k)) continue;
        const set = detections.get(k) ?? new Set<string>();
        set.add(h.detection.replace(/^analyzer:/, ''));
        detections.set(k, set);
        const info = byKey.get(k)!;
        findings.push(
          JSON.stringify({
            dataset: stem,
            process_guid: info.guid,
            host: info.host,
            techniques: h.techniques,
            lens: null,
            detection: h.detection,
            score: h.score,
          }),
        );
      }
    }
    const flaggedTruth = [...detections.keys()].filter((k) => truthGuids.has(byKey.get(k)?.guid ?? ''));
    const flaggedBenign = [...detections.keys()].filter((k) => !truthGuids.has(byKey.get(k)?.guid ?? ''));
    totals.datasets++;
    totals.truth += truthGuids.size;
    totals.hit += flaggedTruth.length;
    totals.fp += flaggedBenign.length;
    if (flaggedTruth.length > 0) totals.detected++;
    const recall = truthGuids.size ? (flaggedTruth.length / truthGuids.size).toFixed(2) : '-';
    console.log(
      `${stem.padEnd(50)} truth ${String(flaggedTruth.length).padStart(2)}/${String(truthGuids.size).padEnd(2)} recall ${recall}  benign flagged ${String(flaggedBenign.length).padStart(2)}  hits ${String(hits.length).padStart(3)}  ${Date.now() - t0} ms`,
    );
    const show = (k: string, mark: string) => {
      const i = byKey.get(k)!;
      const name = (i.image ?? '').split('\\').pop();
      console.log(
        `    ${mark} ${name} ${i.guid ?? k}  [${[...(detections.get(k) ?? [])].join(', ')}]  ${(i.command_line ?? '').slice(0, 100)}`,
      );
    };
    if (values.verbose) {
      for (const k of flaggedTruth) show(k, '+');
      for (const k of flaggedBenign) show(k, '!');
      const missed = truth.malicious_processes.filter(
        (p) => !flaggedTruth.some((k) => byKey.get(k)?.guid === mapGuid(p.ProcessGuid)),
      );
      for (const p of missed)
        console.log(
          `    - ${(p.Image ?? '?').split('\\').pop()} ${p.ProcessGuid} ${(p.CommandLine ?? '').slice(0, 100)}`,
        );
    }
  }
  if (values.evtx) await evaluateEvtx(dataDir, gateway, host, findings, values.verbose ?? false);
  console.log(
    `\nTOTAL datasets detected ${totals.detected}/${totals.datasets}, truth processes flagged ${totals.hit}/${totals.truth} (recall ${(totals.hit / Math.max(1, totals.truth)).toFixed(3)}), benign processes flagged ${totals.fp}`,
  );
  if (values.findings) {
    fs.writeFileSync(values.findings, findings.join('\n') + (findings.length ? '\n' : ''));
    console.log(`findings: ${findings.length} lines -> ${values.findings}`);
  }
  await gateway.close();
}

/** EVTX samples: each replayed under its own namespace; detected = at least one analyzer hit. */
async function evaluateEvtx(
  dataDir: string,
  gateway: GraphGateway,
  host: ReturnType<typeof createAnalyzerHost>,
  findings: string[],
  verbose: boolean,
): Promise<void> {
  const labels = parseCsv(fs.readFileSync(path.join(dataDir, 'evtx', 'labels.csv'), 'utf8'));
  const rows = labels.filter(
    (r) =>
      r.status === 'ok' && /Sysmon|Security:4688/.test(r['channel:eventid'] ?? '') && Number(r.events) > 0,
  );
  await ensureGraphSchema(gateway);
  let detected = 0;
  let techHit = 0;
  let techTotal = 0;
  const perAnalyzer = new Map<string, number>();
  console.log(`\nEVTX samples with Sysmon or 4688 events: ${rows.length}`);
  for (const r of rows) {
    const file = path.join(dataDir, 'evtx-jsonl', r.jsonl!);
    if (!fs.existsSync(file)) continue;
    const tag = `e${createHash('sha1').update(r.evtx!).digest('hex').slice(0, 10)}`;
    const events = (await readEvents(file)).map((e) => namespaced(e, tag)).sort((a, b) => a.time - b.time);
    await ingestEvents(gateway, events, {
      origin: path.basename(file),
      batchPrefix: `analyzer-evaluate-evtx:${tag}`,
    });
    // Every process of the sample's namespace (a re-run finds the batches applied and merges nothing).
    const keys = (
      await gateway.query<{ key: string }>(
        'analyzer-evaluate.namespace-processes',
        'MATCH (p:Process) WHERE p.host ENDS WITH $suffix RETURN p.key AS key',
        { suffix: `-${tag.toUpperCase()}` },
      )
    ).map((x) => x.key);
    const hits: Hit[] = [];
    for (let i = 0; i < keys.length; i += 2000) hits.push(...(await host.run(keys.slice(i, i + 2000))));
    const ids = [...new Set(hits.map((h) => h.detection.replace(/^analyzer:/, '')))];
    for (const id of ids) perAnalyzer.set(id, (perAnalyzer.get(id) ?? 0) + 1);
    const claimed = new Set(hits.flatMap((h) => h.techniques.map((t) => t.slice(0, 5))));
    const expected = new Set(
      [
        ...`${r.technique_label ?? ''} ${r['technique_hint(heuristic from file name, unverified)'] ?? ''}`.matchAll(
          /T\d{4}/g,
        ),
      ].map((m) => m[0]),
    );
    const matched = [...expected].filter((t) => claimed.has(t));
    techTotal += expected.size;
    techHit += matched.length;
    if (hits.length > 0) detected++;
    const procKeys = [...new Set(hits.flatMap((h) => h.riskyNodes))];
    const infos = await gateway.query<{ key: string; guid: string | null; host: string | null }>(
      'analyzer-evaluate.process-info',
      'UNWIND $keys AS k MATCH (p:Process {key: k}) RETURN p.key AS key, p.process_guid AS guid, p.host AS host',
      { keys: procKeys },
    );
    const byKey = new Map(infos.map((i) => [i.key, i]));
    for (const h of hits) {
      const procs = h.riskyNodes.map((k) => byKey.get(k)).filter((x) => x !== undefined);
      for (const p of procs.length > 0 ? procs : [undefined]) {
        findings.push(
          JSON.stringify({
            dataset: r.evtx,
            process_guid: p?.guid ?? null,
            host: p?.host ?? null,
            techniques: h.techniques,
            lens: null,
            detection: h.detection,
            score: h.score,
          }),
        );
      }
    }
    if (verbose || hits.length > 0) {
      console.log(
        `  ${hits.length > 0 ? '+' : '-'} ${r.evtx!.padEnd(90)} [${ids.join(', ')}]${expected.size ? ` techniques ${matched.length}/${expected.size}` : ''}`,
      );
    }
  }
  console.log(
    `EVTX detected ${detected}/${rows.length}; labelled techniques claimed ${techHit}/${techTotal}`,
  );
  console.log(
    `  by analyzer: ${[...perAnalyzer.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
}

/** Minimal CSV (quoted fields with commas and doubled quotes). */
function parseCsv(text: string): Array<Record<string, string>> {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  const [head, ...body] = rows;
  return body
    .filter((r) => r.length > 1)
    .map((r) => Object.fromEntries(head!.map((h, i) => [h, r[i] ?? ''])));
}

main().catch((err) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
