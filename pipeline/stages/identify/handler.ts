/**
 * identify: events -> a subgraph per chunk with stable node identities (pipeline/identity), plus Sigma
 * evaluated on every event, its matches turned into hits on the event's process (and target) node.
 * Identity state that must outlive a payload (process sessions by host and pid) lives in Redis.
 */
import type { Hit } from '../../../domain/detection';
import { buildEvent } from '../../graph/build';
import { RedisSessionStore, resolveIdentities } from '../../identity';
import { EventsPayload, type GraphPayload } from '../../payloads';
import type { StageDefinition } from '../../runner';
import type { CompiledRuleset, SigmaMatch } from '../../sigma';

export interface IdentifyDeps {
  /** Sigma rules, compiled once per worker; undefined when no rule folders are configured. */
  sigma?: CompiledRuleset;
}

export function sigmaHit(m: SigmaMatch, time: number, processKey: string, targetKey?: string): Hit {
  return {
    detection: `sigma:${m.ruleId}`,
    source: 'sigma',
    title: m.title.slice(0, 500),
    score: m.riskScore,
    techniques: m.techniques.filter((t) => /^T\d{4}(\.\d{3})?$/.test(t)).slice(0, 50),
    summary: `Sigma rule "${m.title}" (${m.level}) matched`.slice(0, 2000),
    riskyNodes: [processKey],
    contextNodes: targetKey && targetKey !== processKey ? [targetKey] : [],
    time,
  };
}

export function createIdentifyStage(deps: IdentifyDeps): StageDefinition<EventsPayload, GraphPayload> {
  return {
    name: 'identify',
    payload: EventsPayload,
    async handle(inputs, ctx) {
      const store = new RedisSessionStore(ctx.redis, `${ctx.prefix}:id`);
      const parts: GraphPayload['parts'] = [];
      for (const { payload } of inputs) {
        for (const part of payload.parts) {
          const facts = part.events.map((e) => buildEvent(e, part.source));
          const resolved = await resolveIdentities(facts, store, {});
          const hits: Hit[] = [];
          if (deps.sigma) {
            part.events.forEach((event, i) => {
              const matches = deps.sigma!.evaluate(event);
              if (matches.length === 0) return;
              const refs = resolved.eventNodes[i];
              const processKey = refs?.process ?? refs?.target;
              if (!processKey) return;
              for (const m of matches) hits.push(sigmaHit(m, event.time, processKey, refs?.target));
            });
          }
          parts.push({
            chunk: part.chunk,
            digest: part.digest,
            subgraph: resolved.subgraph,
            aliases: resolved.aliases,
            hits,
            events: part.events.length,
          });
        }
      }
      return { parts };
    },
  };
}
