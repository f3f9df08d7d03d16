/**
 * Every GraphQL document the browser sends, validated against the server's schema
 * (server/graphql/schema.ts) without a server: a field renamed or removed on one side fails here, not in
 * an analyst's browser. Documents are found two ways: the exported strings of the modules that build
 * documents from shared field lists, and in every other file of components/ and app/ each template literal
 * marked `/* GraphQL *\/` or starting with `query`, `mutation` or `subscription`. A document that
 * interpolates (`${...}`) must live in one of the imported modules, or this test cannot read it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { buildSchema, parse, validate, type GraphQLSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { typeDefs } from '../server/graphql/schema';
import * as adminDocuments from './admin-documents';
import * as engagementApi from './engagement/api';
import * as uploadView from './upload-view';

const ROOT = path.resolve(import.meta.dirname, '..');
/** Modules whose documents are assembled from shared field lists: validated from their exported values. */
const MODULES: Record<string, Record<string, unknown>> = {
  'components/engagement/api.ts': engagementApi,
  'components/upload-view.ts': uploadView,
  'components/admin-documents.ts': adminDocuments,
};

const OPERATION = /^\s*(query|mutation|subscription)\b/;

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else if (/\.(ts|tsx)$/.test(e.name) && !/\.test\.tsx?$/.test(e.name)) out.push(p);
  }
  return out;
}

interface Doc {
  where: string;
  text: string;
}

function documents(): { docs: Doc[]; unreadable: string[] } {
  const docs: Doc[] = [];
  const unreadable: string[] = [];
  for (const [file, mod] of Object.entries(MODULES)) {
    for (const [name, value] of Object.entries(mod)) {
      if (typeof value === 'string' && OPERATION.test(value))
        docs.push({ where: `${file} ${name}`, text: value });
    }
  }
  for (const file of [
    ...sourceFiles(path.join(ROOT, 'components')),
    ...sourceFiles(path.join(ROOT, 'app')),
  ]) {
    const rel = path.relative(ROOT, file);
    const src = readFileSync(file, 'utf8');
    if (rel in MODULES) continue;
    // marked documents, and any template literal that starts like one
    for (const m of src.matchAll(/(\/\* GraphQL \*\/\s*)?`([^`]*)`/g)) {
      const text = m[2]!;
      if (!m[1] && !OPERATION.test(text)) continue;
      if (text.includes('${')) unreadable.push(rel);
      else if (OPERATION.test(text)) docs.push({ where: rel, text });
    }
  }
  return { docs, unreadable };
}

function problems(schema: GraphQLSchema, doc: Doc): string[] {
  try {
    return validate(schema, parse(doc.text)).map((e) => `${doc.where}: ${e.message}`);
  } catch (err) {
    return [`${doc.where}: ${(err as Error).message}`];
  }
}

describe('GraphQL documents of the UI', () => {
  const schema = buildSchema(typeDefs);
  const { docs, unreadable } = documents();

  it('are all found (the lens, node, upload, login and health documents among them)', () => {
    expect(unreadable).toEqual([]);
    const names = docs.map((d) => /^\s*\w+\s+(\w+)/.exec(d.text)?.[1]);
    expect(names).toEqual(
      expect.arrayContaining([
        'Lens',
        'Node',
        'Neighbours',
        'SetLensStatus',
        'Upload',
        'Login',
        'Health',
        'Users',
        'CreateApiToken',
      ]),
    );
    // one name per operation, so server logs and traces name exactly one document
    expect(new Set(names).size).toBe(names.length);
  });

  it('each validates against the server schema', () => {
    expect(docs.flatMap((d) => problems(schema, d))).toEqual([]);
  });

  it('a document asking for a field the schema does not have is reported with its place', () => {
    const bad = problems(schema, {
      where: 'probe',
      text: 'query Probe { lens(id: "x") { lens { id titel } } }',
    });
    expect(bad).toEqual([expect.stringMatching(/^probe: Cannot query field "titel" on type "Lens"/)]);
  });
});
