/**
 * Data packed for exfiltration: archivers run with a password or over user documents, browser or mail
 * stores, credential dumps or whole drives, and PowerShell Compress-Archive of the same. Collection and
 * staging (T1560, T1074) come just before exfiltration.
 */
import { defineAnalyzer, describeProcess, match, quote, regex, text } from '../sdk';

const ARCHIVER = /\b(7z|7za|7zr|7zg|rar|winrar|zip|tar|makecab|compact)(\.exe)?["']?\s|compress-archive\b/i;
const PASSWORD = /\s-p\S+|\s-hp\S*|\s-mhe(=on)?\b|-password\b|\s-p\s+\S+/i;
const SENSITIVE =
  /\.dmp\b|\\(ntds|sam|system|security)\b|\.(kdbx|pst|ost|pfx|p12|key|ppk)\b|\\users\\[^\\]+\\(documents|desktop|appdata\\roaming\\microsoft\\(outlook|credentials|protect))|\\appdata\\local\\(google\\chrome|microsoft\\edge)\\user data|\s[a-z]:\\\*?["']?(\s|$)|\\\\[^\\]+\\c\$/i;

export default defineAnalyzer({
  id: 'archive-staging',
  title: 'Data archived for exfiltration',
  techniques: ['T1560.001', 'T1074.001'],
  score: 55,
  query: match('Process', 'proc', {
    command_line: regex(
      String.raw`\b(7z|7za|7zr|7zg|rar|winrar|zip|tar|makecab|compact)(\.exe)?["']?\s|compress-archive`,
    ),
  }),
  hits(m) {
    const cmd = text(m.proc.command_line);
    if (!ARCHIVER.test(cmd)) return null;
    // Archivers list, test and extract all day; only packing counts.
    if (
      /\s(x|e|l|t)\s|\s-x[a-z]*f\b|\s-t[a-z]*f\b|expand-archive/i.test(cmd) &&
      !/\s(a|u)\s|\s-c[a-z]*f\b|compress-archive/i.test(cmd)
    )
      return null;
    const pw = PASSWORD.test(cmd);
    const sensitive = SENSITIVE.test(cmd);
    if (!pw && !sensitive) return null;
    return {
      risky: [m.proc],
      score: pw && sensitive ? 75 : sensitive ? 60 : 55,
      summary: `${describeProcess(m.proc)} packs ${sensitive ? 'sensitive data' : 'data'}${pw ? ' into a password-protected archive' : ''}: ${quote(cmd, 220)}`,
    };
  },
});
