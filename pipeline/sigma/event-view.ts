/**
 * One event as the compiled rules see it. Sigma matching is case-insensitive by default, so the lower-cased
 * form of a field is needed by many rules: it is computed at most once per event, on first use, and cached
 * here. A fresh view is made per event; rules never see the view of another event.
 */
import type { NormalizedEvent } from '../../domain/event';

/** Reads one Sigma field from an event. `key` names the cache slot of its lower-cased form. */
export interface FieldAccessor {
  readonly name: string;
  readonly key: string;
  raw(view: EventView): string | undefined;
  /** True when the field is present (even empty); `exists` and `null` use it. */
  has(view: EventView): boolean;
}

export const KEYWORD_SEPARATOR = '\u0000';

export class EventView {
  readonly fields: Readonly<Record<string, string>>;
  private readonly lowered: Record<string, string> = Object.create(null) as Record<string, string>;
  private allLowered: string[] | undefined;
  private joined: string | undefined;
  private spaced: Record<string, string> | null | undefined;
  private joinedLow: string | undefined;

  constructor(readonly event: NormalizedEvent) {
    this.fields = event.fields;
  }

  lower(acc: FieldAccessor): string | undefined {
    const cached = this.lowered[acc.key];
    if (cached !== undefined) return cached;
    const raw = acc.raw(this);
    if (raw === undefined) return undefined;
    const low = raw.toLowerCase();
    this.lowered[acc.key] = low;
    return low;
  }

  /** Every field value, lower-cased, for keyword (unbound value) search. */
  lowerValues(): readonly string[] {
    if (this.allLowered === undefined) {
      const out: string[] = [];
      for (const k in this.fields) {
        const cached = this.lowered[k];
        out.push(cached ?? this.fields[k]!.toLowerCase());
      }
      this.allLowered = out;
    }
    return this.allLowered;
  }

  /**
   * Some providers (Windows Defender, ...) name EventData fields with spaces ("Threat Name") while Sigma
   * rules write them without ("ThreatName"). Looked up only after an exact miss; the map is built once
   * per event, and only holds the spaced names.
   */
  compactField(name: string): string | undefined {
    if (this.spaced === undefined) {
      let map: Record<string, string> | null = null;
      for (const k in this.fields)
        if (k.includes(' '))
          (map ??= Object.create(null) as Record<string, string>)[k.replace(/ /g, '')] = this.fields[k]!;
      this.spaced = map;
    }
    return this.spaced === null ? undefined : this.spaced[name];
  }

  rawValues(): string[] {
    return Object.values(this.fields);
  }

  /**
   * All field values joined by NUL, lower-cased: one string to scan for substring keywords instead of
   * one scan per field. NUL never occurs in a Sigma literal, so no match can straddle two fields.
   */
  joinedLower(): string {
    if (this.joinedLow === undefined) this.joinedLow = this.joinedRaw().toLowerCase();
    return this.joinedLow;
  }

  joinedRaw(): string {
    if (this.joined === undefined) this.joined = Object.values(this.fields).join(KEYWORD_SEPARATOR);
    return this.joined;
  }
}

function plainField(name: string): FieldAccessor {
  return {
    name,
    key: name,
    raw: (v) => v.fields[name] ?? v.compactField(name),
    has: (v) => (v.fields[name] ?? v.compactField(name)) !== undefined,
  };
}

function computed(name: string, key: string, get: (v: EventView) => string | undefined): FieldAccessor {
  return { name, key: `\u0000${key}`, raw: get, has: (v) => get(v) !== undefined };
}

/**
 * Sigma field names that live in the event envelope rather than in EventData. An EventData field of the
 * same name wins, so a parser that keeps e.g. `Computer` in the fields is respected.
 */
const ENVELOPE: Record<string, (v: EventView) => string | undefined> = {
  EventID: (v) => v.fields.EventID ?? String(v.event.eventId),
  Channel: (v) => v.fields.Channel ?? v.event.channel,
  Provider_Name: (v) => v.fields.Provider_Name ?? v.event.provider,
  Computer: (v) => v.fields.Computer ?? v.event.host,
  ComputerName: (v) => v.fields.ComputerName ?? v.event.host,
  EventRecordID: (v) =>
    v.fields.EventRecordID ?? (v.event.recordId === undefined ? undefined : String(v.event.recordId)),
};

/**
 * Security 4688 names for Sysmon process-creation fields (the pySigma windows-audit mapping). The parser
 * already derives most Sysmon names; these only apply when the Sysmon name is missing.
 */
export const PROCESS_CREATION_FALLBACKS: Readonly<Record<string, readonly string[]>> = {
  Image: ['NewProcessName'],
  ParentImage: ['ParentProcessName'],
  IntegrityLevel: ['MandatoryLabel'],
  LogonId: ['TargetLogonId'],
};

const cache = new Map<string, FieldAccessor>();

export function fieldAccessor(name: string, fallbacks?: readonly string[]): FieldAccessor {
  const cacheKey = fallbacks && fallbacks.length > 0 ? `${name}\u0000${fallbacks.join('\u0000')}` : name;
  const hit = cache.get(cacheKey);
  if (hit) return hit;
  let acc: FieldAccessor;
  const env = ENVELOPE[name];
  if (env) acc = computed(name, name, env);
  else if (fallbacks && fallbacks.length > 0) {
    const names = [name, ...fallbacks];
    acc = computed(name, cacheKey, (v) => {
      for (const n of names) {
        const x = v.fields[n] ?? v.compactField(n);
        if (x !== undefined) return x;
      }
      return undefined;
    });
  } else acc = plainField(name);
  cache.set(cacheKey, acc);
  return acc;
}
