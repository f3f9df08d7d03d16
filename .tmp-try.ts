import { compileQuery } from './pipeline/analyzers/sdk/compile';
import { match, imageIs, contains, not, regex, endsWith, gt } from './pipeline/analyzers/sdk';
const q = match('Process', 'child', { image: imageIs('cmd.exe', 'powershell.exe'), command_line: not(contains('echo')) })
  .parent('child', 'parent', { image: imageIs('services.exe') })
  .connection('parent', 'ep', { port: [135, 445] }, { edgeAs: 'conn', edgeWhere: { direction: 'inbound' } })
  .compare(['conn', 'first_seen'], '<=', ['child', 'create_time'], 5000)
  .notExists((s) => s.child('child', 'gc', { image: regex('\\\\conhost\\.exe$') }))
  .collect('srcs', (s) => s.connectedBy('ep', 'src', { host: not('X') }), 'src', 10);
const c = compileQuery(q);
console.log(c.cypher); console.log(JSON.stringify(c.params), c.intParams, JSON.stringify(c.anchors), JSON.stringify(c.columns));
import { GraphGateway } from './lib/neo4j';
import { paramSets } from './pipeline/analyzers/runtime';
const g = new GraphGateway({ uri: 'bolt://127.0.0.1:27931', user: 'neo4j', password: 'devpass' });
const ps = paramSets(c, new Map([['Process', ['Process:x']]]), 100, 10);
console.log(await g.query('t', c.cypher, ps[0]));
await g.close();
