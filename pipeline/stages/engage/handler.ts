/**
 * engage: hits -> Risk nodes (one per (detection, node), count and last-seen growing with every new hit),
 * then lenses: the asset lens of every host with risks and engagement lenses per attack story, scored
 * (pipeline/engagement, docs/engagements.md). Each chunk (by content digest) is applied exactly once:
 * its marker is claimed in the same transaction that writes its risks and lens changes.
 */
import { randomUUID } from 'node:crypto';
import { applyHits, type EngageReport } from '../../engagement/engage';
import type { JoinOptions } from '../../engagement/join';
import { claimChunks, ensureEngagementSchema } from '../../engagement/repository';
import type { GraphGateway } from '../../../lib/neo4j';
import { HitsPayload } from '../../payloads';
import type { StageDefinition } from '../../runner';

export { riskRows } from '../../engagement/risks';
export { riskCypher } from '../../engagement/repository';

export interface EngageStageOptions {
  /** Lens rules (join window, hops, fan-out, threshold of a one-node lens): docs/engagements.md. */
  join?: Partial<JoinOptions>;
  /** Wall clock (tests). */
  now?: () => number;
}

export function createEngageStage(
  gateway: GraphGateway,
  options: EngageStageOptions = {},
): StageDefinition<HitsPayload, null> {
  const clock = options.now ?? Date.now;
  return {
    name: 'engage',
    payload: HitsPayload,
    async handle(inputs, ctx) {
      await ensureEngagementSchema(gateway, (msg, f) => ctx.log.warn(msg, f));
      const parts = inputs.flatMap((i) => i.payload.parts);
      const unique = [...new Map(parts.map((p) => [p.digest, p] as const)).values()];
      const report = await gateway.write('engage.apply', async (tx): Promise<EngageReport | null> => {
        // A fresh claim token per attempt: a retried transaction re-claims what its failed attempt rolled back.
        const claim = randomUUID();
        const fresh = await claimChunks(
          tx,
          unique.map((p) => `engage/${p.digest}`),
          claim,
          clock(),
        );
        const todo = unique.filter((p) => fresh.has(`engage/${p.digest}`));
        // The batch's analyzer hits ride on every part (analyze/handler.ts): keep one of each.
        const seen = new Set<string>();
        const hits = todo
          .flatMap((p) => p.hits)
          .filter((h) => {
            if (h.source !== 'analyzer') return true;
            const id = JSON.stringify(h);
            if (seen.has(id)) return false;
            seen.add(id);
            return true;
          });
        if (hits.length === 0) return null;
        return applyHits(tx, hits, {
          now: clock(),
          digests: todo.map((p) => p.digest),
          options: options.join,
        });
      });
      if (report && (report.lensesCreated.length || report.merged.length || report.reopened.length)) {
        ctx.log.info('lenses updated', {
          risks: report.risks,
          created: report.lensesCreated.length,
          updated: report.lensesUpdated.length,
          merged: report.merged.length,
          reopened: report.reopened.length,
        });
      }
      // Findings per chunk: its own Sigma hits, and the batch's analyzer hits counted on its first chunk.
      const perChunk = new Map(
        parts.map(
          (p, i) =>
            [
              p.chunk,
              i === 0 ? p.hits.length : p.hits.filter((h) => h.source !== 'analyzer').length,
            ] as const,
        ),
      );
      await ctx.uploads.recordFindings(
        parts.map((p) => p.chunk),
        perChunk,
      );
      return null;
    },
  };
}
