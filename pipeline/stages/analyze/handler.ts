/**
 * analyze: graph analyzers run anchored on the nodes the merged update changed, so the cost follows the
 * update, not the graph. Their hits join the Sigma hits on their way to the engagement stage.
 */
import type { Hit } from '../../../domain/detection';
import { type HitsPayload, UpdatePayload } from '../../payloads';
import type { StageDefinition } from '../../runner';

export interface AnalyzerHost {
  /** Run every loaded analyzer anchored on these keys; failures of one analyzer are reported, not thrown. */
  run(changedKeys: string[]): Promise<Hit[]>;
  /**
   * Follow-up hits (console hosts ...) on what other hits flagged. `run` follows up its own hits; the
   * stage calls this for the batch's Sigma hits.
   */
  follow?(hits: readonly Hit[]): Promise<Hit[]>;
}

export function createAnalyzeStage(host: AnalyzerHost): StageDefinition<UpdatePayload, HitsPayload> {
  return {
    name: 'analyze',
    payload: UpdatePayload,
    async handle(inputs) {
      const parts = inputs.flatMap((i) => i.payload.parts);
      const changed = [...new Set(inputs.flatMap((i) => i.payload.changedKeys))];
      const found = changed.length > 0 ? await host.run(changed) : [];
      const sigmaHits = parts.flatMap((p) => p.hits);
      const followed = host.follow && sigmaHits.length > 0 ? await host.follow(sigmaHits) : [];
      const analyzerHits = [...found, ...followed];
      if (analyzerHits.length === 0) return { parts };
      // Analyzer hits stem from the whole batch's changed nodes, not from one chunk, so every part carries
      // them: engage applies a part's hits only if it has not applied that chunk before, and a batch
      // regrouped after a crash can mix chunks engage has applied with chunks it has not (attached to the
      // first part only, they were lost when that part was an applied one). Applying a hit twice is
      // harmless: engage drops identical hits, and a risk counts distinct occurrences.
      return { parts: parts.map((p) => ({ ...p, hits: [...p.hits, ...analyzerHits] })) };
    },
  };
}
