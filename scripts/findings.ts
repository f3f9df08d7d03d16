/**
 * `npm run findings -- [--format jsonl|md] [--lens ID] [--out FILE]`
 *
 *   jsonl (default)  one line per risk on a risky node: lens, lens_type, lens_score, status, detection,
 *                    title, risk_score, techniques, node_kind, node_key, host, process_guid, image,
 *                    command_line, first_seen, last_seen (ISO), dataset (source file stem). A node in an
 *                    engagement lens is exported with that lens, any other with its host's asset lens.
 *                    Feeds ../shared/tools/score.py --detections directly.
 *   md               one engagement (--lens) or every live engagement, strongest first, as a ticket report.
 *
 * Reads the Neo4j of the running stack (or NEO4J_* from the environment). Exit code: 0 ok, 1 failure,
 * 2 bad usage or configuration.
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { isAppError } from '../domain/errors';
import { config, ConfigError } from '../lib/config';
import { GraphGateway } from '../lib/neo4j';
import { resolveServices } from '../lib/runtime';
import { jsonLine } from '../server/engagements/export';
import { EngagementService } from '../server/engagements/service';
import type { Actor } from '../server/engagements/types';

const USAGE = 'usage: npm run findings -- [--format jsonl|md] [--lens ID] [--out FILE]';

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
        out.once('drain', resolve);
        out.once('error', reject);
      }
    });
  try {
    const service = new EngagementService({ gateway });
    if (args.format === 'jsonl') {
      let n = 0;
      for await (const row of service.exportFindings(CLI_ACTOR, { lens: args.lens })) {
        await write(`${jsonLine(row)}\n`);
        n++;
      }
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
