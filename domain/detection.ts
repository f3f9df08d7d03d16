/**
 * Detection vocabulary shared by Sigma, the analyzers, the engagement stage, the API and the UI.
 */
import { z } from 'zod';

export const DetectionSource = z.enum(['sigma', 'analyzer']);
export type DetectionSource = z.infer<typeof DetectionSource>;

/** ATT&CK technique id, e.g. T1003 or T1003.001. */
export const TechniqueId = z.string().regex(/^T\d{4}(\.\d{3})?$/);

/** One detection firing on one or more nodes. */
export const Hit = z.object({
  /** `sigma:<rule id>` or `analyzer:<analyzer id>`. */
  detection: z.string().min(1).max(200),
  source: DetectionSource,
  title: z.string().max(500),
  /** 0..100 */
  score: z.number().min(0).max(100),
  techniques: z.array(TechniqueId).max(50),
  summary: z.string().max(2000),
  /** Keys of the nodes the detection is about. */
  riskyNodes: z.array(z.string().min(1)).min(1).max(100),
  /** Keys of nodes that explain it (parent, target, file, ...). */
  contextNodes: z.array(z.string().min(1)).max(200),
  /** Event time (epoch ms) of what fired. */
  time: z.number(),
});
export type Hit = z.infer<typeof Hit>;

export const LensStatus = z.enum(['New', 'Investigating', 'Closed']);
export type LensStatus = z.infer<typeof LensStatus>;

export const Resolution = z.enum(['TruePositive', 'FalsePositive', 'Benign', 'Duplicate']);
export type Resolution = z.infer<typeof Resolution>;

export const LensType = z.enum(['engagement', 'asset']);
export type LensType = z.infer<typeof LensType>;

/**
 * Sigma level -> risk score. Documented in README ("Detection scoring"); tested in pipeline/sigma.
 */
export const LEVEL_SCORES = {
  informational: 5,
  low: 20,
  medium: 45,
  high: 70,
  critical: 90,
} as const;
