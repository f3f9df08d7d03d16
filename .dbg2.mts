import { ChunkHeader, BinaryReader } from '@ts-evtx/core';
import { readFileSync } from 'node:fs';
const buf = readFileSync(process.argv[2]!);
const ch = new ChunkHeader(new BinaryReader(buf.subarray(4096, 4096 + 65536)), 0);
for (const r of ch.records()) {
  if (!r.renderXml().includes('>4663<')) continue;
  const root: any = r.root();
  const ti: any = root.templateInstance();
  const actual: any = ti.getActualTemplate ? ti.getActualTemplate() : null;
  const nodes: any[] = actual ? actual.allNodes : [];
  const walk = (n: any, d: number) => { const nm = n.constructor.name; if (nm.includes('Substitution')) console.log(' '.repeat(d), nm, 'id', n.substitution_id, 'type', n.value_type, 'val', String(root.substitutions[n.substitution_id]).slice(0,40)); else if (nm === 'OpenStartElementNode') console.log(' '.repeat(d), '<' + n.name); for (const c of n.children ?? []) walk(c, d + 1); };
  for (const n of nodes) walk(n, 0);
  break;
}
