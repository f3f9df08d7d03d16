/**
 * identify: events -> a subgraph per chunk with stable node identities (pipeline/identity), plus Sigma
 * evaluated on every event, its matches turned into hits on the event's process (and target) node.
 * Events outside the graph model (PowerShell, System, other Security ids, Sysmon ids the model does not
 * keep) meet Sigma too. Their hits sit on what the event names (graph/build.ts subjectFacts): the process
 * (a Sysmon ProcessGuid; PowerShell's logs: the PowerShell host that wrote them; Security object access,
 * privilege use and the like: the ProcessId, resolved like any pid-only reference), the driver file of a
 * driver load, or a user's logon session; and on the host's Asset node when it names none. Correlation rules keep
 * their windows in Redis, so they span workers and survive restarts. Identity state that must outlive a
 * payload (process sessions) lives in Redis too.
 */
import type { Hit } from '../../../domain/detection';
import type { NormalizedEvent } from '../../../domain/event';
import type { GraphNode } from '../../../domain/model';
import { keys } from '../../../lib/redis';
import { buildEvent, subjectFacts } from '../../graph/build';
import { assetKey, parseHost } from '../../graph/keys';
import { RedisSessionStore, resolveIdentities } from '../../identity';
import { EventsPayload, type GraphPayload } from '../../payloads';
import type { StageDefinition } from '../../runner';
import { RedisCorrelationState, sigmaSummary, type CompiledRuleset, type SigmaMatch } from '../../sigma';

export interface IdentifyDeps {
  /** Sigma rules, compiled once per worker; undefined when no rule folders are configured. */
  sigma?: CompiledRuleset;
}

const TECHNIQUE = /^T\d{4}(\.\d{3})?$/;

export function sigmaHit(m: SigmaMatch, time: number, riskyKey: string, contextKey?: string, summary?: string): Hit {
  return {
    detection: `sigma:${m.ruleId}`,
    source: 'sigma',
    title: m.title.slice(0, 500),
    score: m.riskScore,
    techniques: [...new Set(m.techniques.filter((t) => TECHNIQUE.test(t)))].slice(0, 50),
    summary: (summary ?? `Sigma rule "${m.title}" (${m.level}) matched`).slice(0, 2000),
    riskyNodes: [riskyKey],
    contextNodes: contextKey && contextKey !== riskyKey ? [contextKey] : [],
    time,
  };
}

function assetNode(e: NormalizedEvent): GraphNode {
  const h = parseHost(e.host);
  return {
    kind: 'Asset',
    key: assetKey(h.short),
    props: { hostname: h.hostname, ...(h.fqdn ? { fqdn: h.fqdn } : {}), first_seen: e.time, last_seen: e.time },
  };
}

export function createIdentifyStage(deps: IdentifyDeps): StageDefinition<EventsPayload, GraphPayload> {
  return {
    name: 'identify',
    payload: EventsPayload,
    async handle(inputs, ctx) {
      const k = keys(ctx.prefix);
      const store = new RedisSessionStore(ctx.redis, k.identity);
      const sigma = deps.sigma;
      const correlations = sigma ? new RedisCorrelationState(ctx.redis, { keyPrefix: k.sigmaCorrelation }) : undefined;
      const parts: GraphPayload['parts'] = [];
      for (const { payload } of inputs) {
        for (const part of payload.parts) {
          const facts = part.events.map((e) => buildEvent(e, part.source));
          // Sigma first on the events outside the graph model: a matched one that names its process, its
          // driver file or its logon session (subjectFacts) is resolved with the rest, so its hits sit there.
          const onlyMatches = sigma ? part.sigmaOnly.map((e) => sigma.evaluate(e)) : [];
          const subjectFact = new Map<number, number>();
          for (let j = 0; j < onlyMatches.length; j++) {
            if (onlyMatches[j]!.length === 0) continue;
            const f = subjectFacts(part.sigmaOnly[j]!, part.source);
            if (f) subjectFact.set(j, facts.push(f) - 1);
          }
          const resolved = await resolveIdentities(facts, store, {});
          const hits: Hit[] = [];
          const extraNodes: GraphNode[] = [];
          const pushAsset = (e: NormalizedEvent): string => {
            const node = assetNode(e);
            extraNodes.push(node);
            return node.key;
          };
          if (sigma) {
            // Hits on `riskyKey`, or (without one) on the event's Asset node, pushed once per hit.
            const report = async (event: NormalizedEvent, matches: SigmaMatch[], riskyKey?: string, contextKey?: string) => {
              for (const m of matches)
                hits.push(sigmaHit(m, event.time, riskyKey ?? pushAsset(event), contextKey, sigmaSummary(m, event)));
              const corr = await sigma.evaluateCorrelations(matches, event, correlations!);
              for (const c of corr) {
                const group = Object.entries(c.group)
                  .map(([f, v]) => `${f}=${v}`)
                  .join(', ');
                hits.push(
                  sigmaHit(c, c.time, riskyKey ?? pushAsset(event), contextKey, `Sigma correlation "${c.title}" (${c.type}, ${c.count} in window${group ? `; ${group}` : ''})`),
                );
              }
            };
            // Most events match nothing: those cost one evaluate call, and no closure, promise or await.
            for (let i = 0; i < part.events.length; i++) {
              const event = part.events[i]!;
              const matches = sigma.evaluate(event);
              if (matches.length === 0) continue;
              const refs = resolved.eventNodes[i];
              await report(event, matches, refs?.process ?? refs?.target, refs?.target);
            }
            for (let j = 0; j < part.sigmaOnly.length; j++) {
              const matches = onlyMatches[j]!;
              if (matches.length === 0) continue;
              const i = subjectFact.get(j);
              const refs = i === undefined ? undefined : resolved.eventNodes[i];
              await report(part.sigmaOnly[j]!, matches, refs?.process ?? refs?.target);
            }
          }

          parts.push({
            chunk: part.chunk,
            digest: part.digest,
            subgraph: extraNodes.length
              ? { nodes: [...resolved.subgraph.nodes, ...extraNodes], edges: resolved.subgraph.edges }
              : resolved.subgraph,
            aliases: resolved.aliases,
            hits,
            events: part.events.length + part.sigmaOnly.length,
          });
        }
      }
      return { parts };
    },
  };
}
