/** Node identity: process sessions on (asset, pid), aliases, and the stores that keep them. */
export {
  resolveIdentities,
  resolveWithState,
  type Alias,
  type EventNodes,
  type Resolution,
  type ResolveOptions,
} from './resolve';
export { PidTimeline, DEFAULT_TIMELINE_OPTIONS, type Session, type TimelineOptions } from './session';
export {
  MemorySessionStore,
  timelineId,
  type SessionStore,
  type StoredTimeline,
  type TimelineWrite,
} from './store';
export { RedisSessionStore, type RedisSessionStoreOptions } from './redis-store';
