/**
 * Public shapes of the Sigma engine: what a match looks like and what the loader reports.
 */
import type { SigmaLevel } from './scoring';

/** One rule matching one event. Instances are shared and frozen: treat them as read-only. */
export interface SigmaMatch {
  readonly ruleId: string;
  readonly title: string;
  readonly level: SigmaLevel;
  readonly riskScore: number;
  /** ATT&CK technique ids from `attack.tNNNN(.NNN)` tags, upper-cased (`T1059.001`). */
  readonly techniques: readonly string[];
  readonly tags: readonly string[];
  readonly status: string;
}

export interface SkippedRule {
  readonly path: string;
  readonly id?: string;
  readonly title?: string;
  readonly reason: string;
}

export interface LoadReport {
  /** Detection rules compiled and indexed (correlation rules are counted in `correlations`). */
  loaded: number;
  /** Correlation rules compiled. */
  correlations: number;
  skipped: SkippedRule[];
  /** Loaded rules per logsource label (`windows/process_creation`, `windows/security`, ...). */
  byLogsource: Record<string, number>;
}
