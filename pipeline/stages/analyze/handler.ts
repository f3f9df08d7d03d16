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
      // Analyzer hits are attributed to the first chunk of the batch: engage applies them once per chunk.
      if (analyzerHits.length > 0 && parts[0]) parts[0] = { ...parts[0], hits: [...parts[0].hits, ...analyzerHits] };
      return { parts };
    },
  };
}
