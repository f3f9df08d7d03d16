'use client';
/**
 * The lens timeline beside the graph: clicking an entry selects its node; the selected node's entries
 * are highlighted. Entry text comes from telemetry: React text only.
 */
import { useEffect, useRef, type CSSProperties } from 'react';
import type { TimelineEvent } from './api';
import { isoTime, shortTime } from './format';

/**
 * A big lens has a thousand entries in a list that shows a dozen at a time: the browser skips laying out
 * and painting the ones scrolled out of view (3 rem each until first seen), so they cost the page little.
 */
const OFFSCREEN_SKIPPED: CSSProperties = { contentVisibility: 'auto', containIntrinsicSize: 'auto 3rem' };

export function Timeline({
  events,
  truncated,
  selected,
  labelOf,
  onPick,
}: {
  events: TimelineEvent[];
  truncated: boolean;
  selected: string | null;
  labelOf: (key: string) => string;
  onPick: (e: TimelineEvent) => void;
}) {
  const listRef = useRef<HTMLOListElement>(null);
  // Bring the selected node's first entry into view.
  useEffect(() => {
    const first = listRef.current?.querySelector<HTMLElement>('[data-active="true"]');
    first?.scrollIntoView({ block: 'nearest' });
  }, [selected]);

  if (events.length === 0) return <p className="muted small">No events in this lens.</p>;
  return (
    <>
      {truncated ? <p className="muted small">Showing the first {events.length} events.</p> : null}
      <ol className="timeline" ref={listRef} data-testid="timeline">
        {events.map((e, i) => {
          const active = selected !== null && (e.node === selected || e.target === selected);
          return (
            <li key={`${e.time}-${e.kind}-${e.node}-${e.target ?? ''}-${i}`} style={OFFSCREEN_SKIPPED}>
              <button
                type="button"
                className={`timeline-entry kind-${e.kind === 'detection' ? 'detection' : 'event'}${active ? ' active' : ''}`}
                data-testid="timeline-entry"
                data-active={active}
                data-node={e.node}
                aria-current={active ? 'true' : undefined}
                onClick={() => onPick(e)}
              >
                <time dateTime={isoTime(e.time)} className="mono small">
                  {shortTime(e.time).slice(11)}
                </time>
                <span className="timeline-kind small">{e.kind}</span>
                <span className="timeline-text">{e.text || labelOf(e.node)}</span>
              </button>
            </li>
          );
        })}
      </ol>
    </>
  );
}
