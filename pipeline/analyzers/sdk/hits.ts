/**
 * HitDraft -> domain Hit: detection `analyzer:<id>`, score clamped to 0..100, techniques checked and
 * merged, node keys de-duplicated (context never repeats a risky node), summary and title one line of
 * bounded plain text, then validated against the Hit schema. Pure; tested.
 */
import { Hit, TechniqueId } from '../../../domain/detection';
import type { HitDraft, NodeRef } from './define';
import { clip, oneLine } from './text';

export interface HitSource {
  readonly id: string;
  readonly title: string;
  readonly techniques: readonly string[];
  readonly score: number;
}

const MAX_RISKY = 100;
const MAX_CONTEXT = 200;

function keysOf(refs: readonly NodeRef[] | undefined): string[] {
  const out: string[] = [];
  for (const r of refs ?? []) {
    const k =
      typeof r === 'string' ? r : r && typeof r === 'object' && typeof r.key === 'string' ? r.key : undefined;
    if (k && k.length > 0 && !out.includes(k)) out.push(k);
  }
  return out;
}

export type ShapeResult = { ok: true; hit: Hit } | { ok: false; error: string };

export function shapeHit(source: HitSource, draft: HitDraft, fallbackTime: number): ShapeResult {
  const risky = keysOf(draft.risky).slice(0, MAX_RISKY);
  if (risky.length === 0) return { ok: false, error: 'hit has no risky node' };
  const context = keysOf(draft.context)
    .filter((k) => !risky.includes(k))
    .slice(0, MAX_CONTEXT);
  const raw = typeof draft.score === 'number' && Number.isFinite(draft.score) ? draft.score : source.score;
  const score = Math.round(Math.min(100, Math.max(0, raw)) * 10) / 10;
  const techniques = [...new Set([...source.techniques, ...(draft.techniques ?? [])])]
    .filter((t) => TechniqueId.safeParse(t).success)
    .slice(0, 50);
  const time = typeof draft.time === 'number' && Number.isFinite(draft.time) ? draft.time : fallbackTime;
  const candidate = {
    detection: `analyzer:${source.id}`,
    source: 'analyzer' as const,
    title: clip(oneLine(draft.title ?? source.title), 500),
    score,
    techniques,
    summary: clip(oneLine(String(draft.summary ?? '')), 2000),
    riskyNodes: risky,
    contextNodes: context,
    time,
  };
  const parsed = Hit.safeParse(candidate);
  if (!parsed.success)
    return {
      ok: false,
      error: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
    };
  return { ok: true, hit: parsed.data };
}

/** Latest of the time properties found on rows (last_seen, first_seen, create_time), else `fallback`. */
export function latestTime(rows: readonly unknown[], fallback: number): number {
  let best: number | undefined;
  for (const r of rows) {
    if (!r || typeof r !== 'object') continue;
    const o = r as Record<string, unknown>;
    for (const k of ['create_time', 'first_seen']) {
      const v = o[k];
      if (typeof v === 'number' && Number.isFinite(v)) {
        best = best === undefined ? v : Math.max(best, v);
        break;
      }
    }
  }
  return best ?? fallback;
}
