/**
 * Web, application and database servers starting shells, script hosts, LOLBins or reconnaissance tools:
 * a web shell (IIS w3wp, Apache, Tomcat, PHP, Exchange UM), SQL Server xp_cmdshell, or an exploited
 * service handing out a shell. Servers serve; they do not type `whoami`.
 */
import {
  basename,
  defineAnalyzer,
  describeProcess,
  exists,
  imageName,
  match,
  not,
  quote,
  text,
} from '../sdk';
import { DISCOVERY_TOOLS, EXECUTION_TOOLS } from './_lists';
import { image } from './_util';

const SERVERS = [
  'w3wp.exe',
  'httpd.exe',
  'nginx.exe',
  'php-cgi.exe',
  'php.exe',
  'tomcat.exe',
  'tomcat6.exe',
  'tomcat7.exe',
  'tomcat8.exe',
  'tomcat9.exe',
  'tomcat10.exe',
  'sqlservr.exe',
  'sqlagent.exe',
  'umworkerprocess.exe',
  'umservice.exe',
  'beasvc.exe',
  'coldfusion.exe',
  'jrun.exe',
  'wsmprovhost.exe',
  'inetinfo.exe',
  'iisexpress.exe',
  'ws_tomcatservice.exe',
  'oracle.exe',
  'postgres.exe',
  'mysqld.exe',
  'exchangeservicehost.exe',
  'msexchangeowaapppool.exe',
  'java.exe',
  'javaw.exe',
];

export default defineAnalyzer({
  id: 'server-app-shell',
  title: 'Web or database server started a shell',
  techniques: ['T1505.003', 'T1190'],
  score: 80,
  query: match('Process', 'child', { image: exists() })
    .parent('child', 'server', { image: image(SERVERS) })
    .where('child', {
      image: not(
        image(['conhost.exe', 'werfault.exe', 'csc.exe', 'cvtres.exe', 'vbc.exe', 'java.exe', 'javaw.exe']),
      ),
    })
    .anchor('child'),
  hits(m) {
    const child = imageName(m.child.image);
    const server = imageName(m.server.image);
    if (!EXECUTION_TOOLS.includes(child) && !DISCOVERY_TOOLS.includes(child)) return null;
    // A JVM runs many things; only its shells and recon tools are of interest (already filtered above).
    const sql = server === 'sqlservr.exe' || server === 'sqlagent.exe';
    return {
      risky: [m.child, m.server],
      score:
        DISCOVERY_TOOLS.includes(child) ||
        /\bwhoami\b|\bnet\s+(user|group|localgroup)\b/i.test(text(m.child.command_line))
          ? 85
          : 80,
      techniques: sql ? ['T1059.003', 'T1505.001'] : ['T1059'],
      summary: `${describeProcess(m.server)} started ${quote(basename(m.child.image), 60)}${sql ? ' (xp_cmdshell or agent job)' : ' (web shell or exploited service)'}: ${quote(m.child.command_line, 200)}`,
    };
  },
});
