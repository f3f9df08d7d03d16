/**
 * `npm run findings -- [--format jsonl|md] [--lens ID] [--out FILE] [--evtx-root DIR]`
 *
 *   jsonl (default)  one line per risk on a risky node: lens, lens_type, lens_score, status, detection,
 *                    title, risk_score, techniques, node_kind, node_key, host, process_guid, image,
 *                    command_line, first_seen, last_seen (ISO), dataset (source file stem; a node seen
 *                    in several files gets one line per file). A node in an engagement lens is exported
 *                    with that lens, any other with its host's asset lens.
 *                    Feeds ../shared/tools/score.py --detections directly. With --evtx-root DIR, a
 *                    dataset that names a `.evtx` file under DIR is written as its path relative to DIR
 *                    (how evtx/labels.csv names it: `Credential Access/x.evtx`), one line per such path.
 *   md               one engagement (--lens) or every live engagement, strongest first, as a ticket report.
 *
 * Reads the Neo4j of the running stack (or NEO4J_* from the environment). Exit code: 0 ok, 1 failure,
 * 2 bad usage or configuration.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { isAppError } from '../domain/errors';
import { config, ConfigError } from '../lib/config';
import { GraphGateway } from '../lib/neo4j';
import { resolveServices } from '../lib/runtime';
import { nodeSources } from '../pipeline/engagement/repository';
import { datasetStem, jsonLine } from '../server/engagements/export';
import { EngagementService } from '../server/engagements/service';
import type { Actor, FindingRow } from '../server/engagements/types';

const USAGE = 'usage: npm run findings -- [--format jsonl|md] [--lens ID] [--out FILE] [--evtx-root DIR]';

/** `<stem>` -> the paths (relative to root, `/`-separated) of every `<stem>.evtx` below root. */
function evtxIndex(root: string): Map<string, string[]> {
  const index = new Map<string, string[]>();
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (/\.evtx$/i.test(e.name)) {
        const stem = e.name.replace(/\.evtx$/i, '');
        const rel = path.relative(root, full).split(path.sep).join('/');
        index.set(stem, [...(index.get(stem) ?? []), rel].sort());
      }
    }
  };
  walk(root);
  return index;
}

/** The CLI only reads. */
const CLI_ACTOR: Actor = { username: 'cli', role: 'viewer' };

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: {
        format: { type: 'string', default: 'jsonl' },
        lens: { type: 'string' },
        out: { type: 'string' },
        'evtx-root': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
    }).values;
  } catch (err) {
    console.error(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  if (args.format !== 'jsonl' && args.format !== 'md') {
    console.error(`--format must be jsonl or md\n${USAGE}`);
    return 2;
  }
  let services;
  try {
    services = resolveServices(config());
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      return 2;
    }
    throw err;
  }
  const gateway = new GraphGateway(services.neo4j);
  const out = args.out ? fs.createWriteStream(args.out) : process.stdout;
  const write = (s: string) =>
    new Promise<void>((resolve, reject) => {
      if (out.write(s)) resolve();
      else {
        const onError = (err: Error) => {
          out.off('drain', onDrain);
          reject(err);
        };
        const onDrain = () => {
          out.off('error', onError);
          resolve();
        };
        out.once('drain', onDrain);
        out.once('error', onError);
      }
    });
  try {
    const service = new EngagementService({ gateway });
    if (args.format === 'jsonl') {
      let n = 0;
      const evtx = args['evtx-root'] ? evtxIndex(path.resolve(args['evtx-root'])) : new Map<string, string[]>();
      // A node seen in several recordings (a long-lived process of a lab machine) is a finding in each:
      // one line per dataset it came from.
      const flush = async (rows: FindingRow[]) => {
        const sources = await nodeSources(gateway, rows.map((r) => r.node_key));
        for (const row of rows) {
          const stems = [...new Set((sources.get(row.node_key) ?? []).map(datasetStem).filter((x) => x !== ''))].sort();
          const names = stems.length > 0 ? stems : [row.dataset];
          for (const dataset of names.flatMap((d) => (d !== null && evtx.get(d)) || [d])) {
            await write(`${jsonLine({ ...row, dataset })}\n`);
            n++;
          }
        }
      };
      let batch: FindingRow[] = [];
      for await (const row of service.exportFindings(CLI_ACTOR, { lens: args.lens })) {
        batch.push(row);
        if (batch.length >= 1000) {
          await flush(batch);
          batch = [];
        }
      }
      await flush(batch);
      if (args.out) console.error(`${n} findings written to ${args.out}`);
    } else {
      const ids = args.lens ? [args.lens] : await service.engagementIds(CLI_ACTOR);
      if (ids.length === 0) console.error('No engagement lenses.');
      for (const [i, id] of ids.entries()) {
        await write(`${i > 0 ? '\n---\n\n' : ''}${await service.lensReport(CLI_ACTOR, id)}`);
      }
    }
    return 0;
  } catch (err) {
    console.error(isAppError(err) ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err));
    return 1;
  } finally {
    if (args.out) await new Promise<void>((resolve) => (out as fs.WriteStream).end(resolve));
    await gateway.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
