import { ChunkHeader, BinaryReader } from '@ts-evtx/core';
import { readFileSync } from 'node:fs';
const buf = readFileSync(process.argv[2]!);
const ch = new ChunkHeader(new BinaryReader(buf.subarray(4096, 4096 + 65536)), 0);
let i = 0;
for (const r of ch.records()) { console.log(r.renderXml()); if (++i >= Number(process.argv[3] ?? 2)) break; }
