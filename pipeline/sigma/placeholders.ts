/**
 * Values for the `expand` modifier's `%name%` placeholders, read from `config/sigma-placeholders.yml`.
 * The file is operator-edited, so it is parsed as untrusted YAML and validated with a schema; a rule that
 * needs a placeholder the file does not define is skipped by the loader with that reason.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { loadYamlDocuments } from './yaml-safe';

export type Placeholders = Readonly<Record<string, readonly string[]>>;

const scalar = z.union([z.string(), z.number(), z.boolean()]).transform(String);

export const PlaceholdersFile = z
  .object({
    placeholders: z
      .record(z.string().regex(/^[A-Za-z0-9_.-]+$/), z.union([scalar.transform((s) => [s]), z.array(scalar)]))
      .nullish()
      .transform((v) => v ?? {}),
  })
  .strict();

const here = path.dirname(fileURLToPath(import.meta.url));
export const DEFAULT_PLACEHOLDERS_FILE = path.resolve(here, '../../config/sigma-placeholders.yml');

export function parsePlaceholders(text: string, filename?: string): Placeholders {
  const docs = loadYamlDocuments(text, filename);
  const doc: unknown = docs[0] ?? {};
  const parsed = PlaceholdersFile.safeParse(doc ?? {});
  if (!parsed.success)
    throw new Error(`invalid placeholders file${filename ? ` ${filename}` : ''}: ${parsed.error.message}`);
  return parsed.data.placeholders;
}

/** Reads the placeholders file; a missing file means no placeholders (rules using `expand` are skipped). */
export async function loadPlaceholders(file = DEFAULT_PLACEHOLDERS_FILE): Promise<Placeholders> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw e;
  }
  return parsePlaceholders(text, file);
}
