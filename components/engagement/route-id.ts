/**
 * The lens id from the `[id]` route segment. Lens ids contain a colon (`eng:…`, `asset:HOST`), which
 * links percent-encode; depending on how the page was reached the segment arrives encoded or not.
 * Decode once, and keep the raw text when it is not valid percent-encoding. Tested.
 */
export function lensIdFromSegment(raw: string): string {
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}
