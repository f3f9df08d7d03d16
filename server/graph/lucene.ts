/**
 * User text -> a Lucene query for the full-text index that is always a literal search: every character
 * Lucene gives a meaning to is escaped, words are lower-cased (so AND / OR / NOT are never operators),
 * and each word must match (as a phrase of its analysed tokens, or as a prefix of one token).
 * Tested in lucene.test.ts.
 */

/** Characters with a meaning in Lucene's classic query syntax (and `/` for regular expressions). */
const SPECIAL = /[+\-&|!(){}[\]^"~*?:\\/<>=]/g;

export const SEARCH_TEXT_MAX = 200;
export const SEARCH_WORDS_MAX = 8;

export function escapeLucene(text: string): string {
  return text.replace(SPECIAL, (c) => `\\${c}`);
}

/**
 * The Lucene query of a search box text; null when nothing searchable is left (blank, or punctuation only).
 * `cmd.exe C:\Temp` becomes `("cmd.exe" OR cmd.exe*) AND ("c\:\\temp")`.
 */
export function literalQuery(text: string): string | null {
  const words = text
    .normalize('NFKC')
    // Control characters never help a search and could confuse a log reader.
    .replace(/\p{Cc}/gu, ' ')
    .toLowerCase()
    .split(/\s+/)
    .filter((w) => /[\p{L}\p{N}]/u.test(w))
    .slice(0, SEARCH_WORDS_MAX);
  if (words.length === 0) return null;
  return words
    .map((w) => {
      const e = escapeLucene(w);
      // A prefix query is one term, so only words the analyser keeps whole (letters, digits, . _) get one.
      const prefix = /^[\p{L}\p{N}._]{2,}$/u.test(w) ? ` OR ${e}*` : '';
      return `("${e}"${prefix})`;
    })
    .join(' AND ');
}
