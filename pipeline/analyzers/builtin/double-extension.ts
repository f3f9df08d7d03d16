/**
 * Executables named like documents (`invoice.pdf.exe`, `photo.jpg.scr`), or with a right-to-left
 * override character flipping the visible extension: made to be double-clicked by someone who reads
 * only the first extension.
 */
import { defineAnalyzer, describeProcess, match, quote, regex } from '../sdk';

const DOUBLE = String.raw`\.(pdf|docx?|docm|xlsx?|xlsm|pptx?|rtf|txt|jpe?g|png|gif|bmp|zip|rar|7z|html?|csv|mp3|mp4|avi|mov|wav|doc|xls)[\s_.-]*\.(exe|scr|com|pif|bat|cmd|vbs|vbe|js|jse|wsf|wsh|hta|cpl|msi|ps1|jar)$|\u202e`;

export const doubleExtensionProcess = defineAnalyzer({
  id: 'double-extension-process',
  title: 'Program with a document-like double extension',
  techniques: ['T1036.007', 'T1204.002'],
  score: 75,
  query: match('Process', 'proc', { image: regex(DOUBLE) }),
  hits(m) {
    return {
      risky: [m.proc],
      summary: `${describeProcess(m.proc)} runs ${quote(m.proc.image, 200)}, named to look like a document`,
    };
  },
});

export const doubleExtensionFile = defineAnalyzer({
  id: 'double-extension-file',
  title: 'File with a document-like double extension written',
  techniques: ['T1036.007'],
  score: 50,
  query: match('Process', 'writer').created('writer', 'file', { path: regex(DOUBLE) }),
  hits(m) {
    return {
      risky: [m.file, m.writer],
      summary: `${describeProcess(m.writer)} wrote ${quote(m.file.path, 200)}, named to look like a document`,
    };
  },
});

export const analyzers = [doubleExtensionProcess, doubleExtensionFile];
