/**
 * The Sigma engine: load rules (`loadRules`), evaluate events (`ruleset.evaluate`), correlate
 * (`ruleset.evaluateCorrelations` with a `CorrelationState`).
 */
export { sigmaEvidence, sigmaSummary } from './evidence';
export { loadRules, type LoadOptions } from './loader';
export { CompiledRuleset, type RuleError } from './ruleset';
export type { CompiledRule } from './rule';
export type { SigmaMatch, LoadReport, SkippedRule } from './types';
export {
  SIGMA_LEVEL_RISK,
  SIGMA_LEVELS,
  riskScoreForLevel,
  techniquesFromTags,
  normalizeLevel,
  type SigmaLevel,
} from './scoring';
export {
  evaluateCorrelations,
  type CorrelationState,
  type CorrelationMatch,
  type CompiledCorrelation,
  type CorrelationType,
} from './correlation';
export { MemoryCorrelationState } from './correlation-memory';
export {
  RedisCorrelationState,
  CORRELATION_TTL_GRACE_MS,
  type RedisCorrelationStateOptions,
} from './correlation-redis';
export {
  loadPlaceholders,
  parsePlaceholders,
  DEFAULT_PLACEHOLDERS_FILE,
  type Placeholders,
} from './placeholders';
export { CATEGORY_TARGETS, SERVICE_CHANNELS, resolveLogsource } from './logsource';
export { benchSigma, type SigmaBenchResult } from './bench';
