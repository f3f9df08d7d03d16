/**
 * Collector clocks: Sysmon events carry the endpoint's UTC clock (UtcTime); Security events carry only
 * TimeCreated, which some export chains write in local time labelled as UTC (hours off, plus the odd
 * date slip). A 4688 at the wrong time cannot meet its Sysmon twin on the (asset, pid) timeline, so the
 * same process became two nodes, and its parent was looked up hours away from where it ran.
 *
 * Within one batch of facts (one chunk of one upload), the offset is learnt from the processes both logs
 * saw created: a 4688 creation (no GUID) and a Sysmon creation (GUID) of the same asset, pid and image
 * whose times differ by a whole number of quarter hours (time zones are quarter hours; a real pid reuse
 * landing on one within the tolerance, with the same image, is vanishingly rare). The offset most pairs
 * agree on, when more pairs show it than show no offset at all, is removed from every event of that asset
 * that has no Sysmon GUID. Pure; tested in clock.test.ts.
 */
import type { EventFacts, ProcessRef } from '../graph/build';
import type { Props } from '../graph/rules';

export interface ClockOptions {
  /** Residual allowed around a quarter-hour multiple (the two logs stamp the creation ms apart). */
  toleranceMs: number;
  /** Largest offset considered (a day and a time zone). */
  maxOffsetMs: number;
}

export const DEFAULT_CLOCK_OPTIONS: ClockOptions = { toleranceMs: 2_000, maxOffsetMs: 27 * 3600_000 };

const QUARTER_HOUR = 15 * 60_000;
/** Properties that hold the event time (build.ts stamps them with it). */
const TIME_PROPS = ['first_seen', 'last_seen', 'create_time', 'terminate_time'] as const;

function imageName(ref: ProcessRef): string {
  const image = ref.props.image;
  if (typeof image !== 'string') return '';
  return (image.split(/[\\/]/).pop() ?? '').toLowerCase();
}

const hasGuid = (f: EventFacts): boolean => Object.values(f.refs).some((r) => r?.guid !== undefined);

/** The offset (ms, collector minus endpoint UTC) to remove per asset; assets with none are absent. */
export function learnOffsets(facts: readonly EventFacts[], options: Partial<ClockOptions> = {}): Map<string, number> {
  const o = { ...DEFAULT_CLOCK_OPTIONS, ...options };
  const sysmon = new Map<string, number[]>();
  const security: Array<{ key: string; asset: string; time: number }> = [];
  for (const f of facts) {
    for (const ref of Object.values(f.refs)) {
      if (!ref?.created || ref.pid === undefined) continue;
      const key = `${ref.asset}|${ref.pid}|${imageName(ref)}`;
      if (ref.guid !== undefined) sysmon.set(key, [...(sysmon.get(key) ?? []), f.time]);
      else security.push({ key, asset: ref.asset, time: f.time });
    }
  }
  const votes = new Map<string, Map<number, number>>();
  for (const s of security) {
    for (const t of sysmon.get(s.key) ?? []) {
      const delta = s.time - t;
      if (Math.abs(delta) > o.maxOffsetMs) continue;
      const step = Math.round(delta / QUARTER_HOUR) * QUARTER_HOUR;
      if (Math.abs(delta - step) > o.toleranceMs) continue;
      let byOffset = votes.get(s.asset);
      if (!byOffset) votes.set(s.asset, (byOffset = new Map()));
      byOffset.set(step, (byOffset.get(step) ?? 0) + 1);
    }
  }
  const out = new Map<string, number>();
  for (const [asset, byOffset] of votes) {
    const ranked = [...byOffset].filter(([off]) => off !== 0).sort((a, b) => b[1] - a[1] || a[0] - b[0]);
    const best = ranked[0];
    if (!best) continue;
    const second = ranked[1]?.[1] ?? 0;
    if (best[1] > second && best[1] > (byOffset.get(0) ?? 0)) out.set(asset, best[0]);
  }
  return out;
}

function shiftProps(props: Props, from: number, by: number): Props {
  let out: Props | undefined;
  for (const k of TIME_PROPS) {
    if (props[k] === from) {
      out ??= { ...props };
      out[k] = from - by;
    }
  }
  return out ?? props;
}

/** `f` with its time (and every property stamped with it) moved back by `by` ms. */
export function shiftFacts(f: EventFacts, by: number): EventFacts {
  const t = f.time;
  const refs: EventFacts['refs'] = {};
  for (const [name, ref] of Object.entries(f.refs) as Array<[keyof EventFacts['refs'], ProcessRef | undefined]>) {
    if (ref) refs[name] = { ...ref, props: shiftProps(ref.props, t, by) };
  }
  return {
    ...f,
    time: t - by,
    refs,
    nodes: f.nodes.map((n) => ({ ...n, props: shiftProps(n.props as Props, t, by) })),
    edges: f.edges.map((e) => ({ ...e, props: shiftProps(e.props, t, by) })),
  };
}

/** The facts with collector-clock events of assets with a learnt offset moved onto the endpoint's UTC. */
export function alignCollectorClocks(facts: readonly EventFacts[], options: Partial<ClockOptions> = {}): EventFacts[] {
  const offsets = learnOffsets(facts, options);
  if (offsets.size === 0) return [...facts];
  return facts.map((f) => {
    const by = offsets.get(f.asset);
    return by === undefined || hasGuid(f) ? f : shiftFacts(f, by);
  });
}
