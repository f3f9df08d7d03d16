/**
 * YAML loading for rule files, which are untrusted input: the result is `unknown` and narrowed by the
 * callers. The schema resolves only what Sigma needs (null, booleans, decimal integers) and keeps every
 * other scalar a string. That is deliberate: with the default YAML 1.2 core schema an unquoted `0x1010`
 * (a GrantedAccess mask) would silently become 4112 and `1.10` would become 1.1.
 */
import yaml from 'js-yaml';

const nullType = new yaml.Type('tag:yaml.org,2002:null', {
  kind: 'scalar',
  resolve: (data: string | null) =>
    data === null || data === '' || data === '~' || /^(null|Null|NULL)$/.test(data),
  construct: () => null,
  predicate: (o: unknown) => o === null,
  represent: () => 'null',
});

const boolType = new yaml.Type('tag:yaml.org,2002:bool', {
  kind: 'scalar',
  resolve: (data: string | null) => data !== null && /^(true|True|TRUE|false|False|FALSE)$/.test(data),
  construct: (data: string) => data.toLowerCase() === 'true',
  predicate: (o: unknown) => typeof o === 'boolean',
  represent: (o: object) => String(o),
});

const intType = new yaml.Type('tag:yaml.org,2002:int', {
  kind: 'scalar',
  // Leading zeros stay strings ("0123" is not 123 in a rule value).
  resolve: (data: string | null) => data !== null && /^-?(0|[1-9][0-9]{0,14})$/.test(data),
  construct: (data: string) => Number(data),
  predicate: (o: unknown) => typeof o === 'number' && Number.isInteger(o),
  represent: (o: object) => String(o),
});

export const SIGMA_YAML_SCHEMA = yaml.FAILSAFE_SCHEMA.extend({ implicit: [nullType, boolType, intType] });

export function loadYamlDocuments(text: string, filename?: string): unknown[] {
  const docs: unknown[] = [];
  yaml.loadAll(text, (d: unknown) => docs.push(d), { schema: SIGMA_YAML_SCHEMA, filename, json: false });
  return docs;
}
