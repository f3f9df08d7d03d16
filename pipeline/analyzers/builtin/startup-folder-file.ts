/**
 * Files written into a Startup folder (per user or all users): whatever lands there runs at the next
 * logon. Written by a script, a shell or a dropped tool it is persistence; written through Remote Desktop
 * drive redirection (mstsc, tsclient) or the SMB server it is also lateral movement.
 */
import { basename, defineAnalyzer, describeProcess, imageName, match, not, num, quote, regex } from '../sdk';
import { INSTALLERS } from './_lists';
import { image } from './_util';

export default defineAnalyzer({
  id: 'startup-folder-file',
  title: 'File written to a Startup folder',
  techniques: ['T1547.001'],
  score: 60,
  query: match('Process', 'writer', {
    image: not(image([...INSTALLERS.filter((n) => n !== 'svchost.exe'), 'explorer.exe'])),
  }).created('writer', 'file', { path: regex(String.raw`\\start menu\\programs\\startup\\[^\\]+$`) }),
  hits(m) {
    if (/\\desktop\.ini$/i.test(String(m.file.path))) return null;
    const writer = imageName(m.writer.image);
    const smb = writer === 'system' || num(m.writer.pid) === 4;
    const remote = smb || writer === 'mstsc.exe';
    return {
      // The SMB server (System) is shared by everything; the RDP client is the entry point of the file.
      risky: smb ? [m.file] : [m.writer, m.file],
      context: smb ? [m.writer] : [],
      score: remote ? 75 : 60,
      techniques: remote ? (writer === 'mstsc.exe' ? ['T1021.001'] : ['T1021.002']) : [],
      summary: `${describeProcess(m.writer)} wrote ${quote(basename(m.file.path), 80)} into a Startup folder${remote ? ' from another host' : ''}: ${quote(m.file.path, 200)}`,
    };
  },
});
