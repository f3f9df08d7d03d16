/** The Neo4j merge writer: schema, exactly-once coalesced writes by per-property merge rules, aliases. */
export {
  ensureGraphSchema,
  ensureGraphSchemaOnce,
  mergeSubgraphs,
  type MergeBatch,
  type MergeOptions,
  type MergeReport,
} from './write';
export { coalesce, resolveAliasMap, type Coalesced } from './coalesce';
export { edgeMergeCypher, foldCypher, nodeMergeCypher, schemaCypher } from './cypher';
