/**
 * merge: the subgraphs of several payloads coalesced and written to Neo4j in one go, each property by
 * its merge rule, each chunk exactly once (a chunk already applied is skipped, so a retry or a replayed
 * message cannot double a counter). Hands the changed node keys and the hits on to the analyzers.
 */
import type { GraphGateway } from '../../../lib/neo4j';
import { mergeSubgraphs } from '../../merge';
import { GraphPayload, type UpdatePayload } from '../../payloads';
import type { StageDefinition } from '../../runner';

export function createMergeStage(gateway: GraphGateway): StageDefinition<GraphPayload, UpdatePayload> {
  return {
    name: 'merge',
    payload: GraphPayload,
    async handle(inputs, ctx) {
      const parts = inputs.flatMap((i) => i.payload.parts);
      // The same content twice in one batch (a file ingested twice at once) is written once.
      const unique = [...new Map(parts.map((p) => [p.digest, p] as const)).values()];
      const report = await mergeSubgraphs(
        gateway,
        unique.map((p) => ({ id: p.digest, subgraph: p.subgraph, aliases: p.aliases })),
      );
      const chunks = parts.map((p) => p.chunk);
      await ctx.uploads.recordGraph(chunks, report);
      ctx.log.info('merged', {
        events: parts.reduce((a, p) => a + p.events, 0),
        nodesIn: report.nodesIn,
        edgesIn: report.edgesIn,
        nodesWritten: report.nodesWritten,
        edgesWritten: report.edgesWritten,
        skippedBatches: report.skippedBatches,
      });
      return {
        parts: parts.map((p) => ({ chunk: p.chunk, digest: p.digest, hits: p.hits })),
        changedKeys: report.changedKeys,
      };
    },
  };
}
