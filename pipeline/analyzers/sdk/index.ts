/**
 * The analyzer SDK: what an analyzer module imports. See docs/analyzers.md.
 */
export * from './filters';
export { match, processes, Query } from './query';
export type { CompareOp, EdgeRow, EdgeWhere, Match, NodeRow, PropName, Where } from './query';
export { defineAnalyzer } from './define';
export { compileQuery } from './compile';
export type { CompiledQuery } from './compile';
export type { Analyzer, AnalyzerContext, AnalyzerSpec, HitDraft, HitsResult, NodeRef } from './define';
export type { PairStats, Rarity } from './rarity';
export * from './text';
export * from './windows';
