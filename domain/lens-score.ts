/**
 * Bounds of the lens score shared by the API and the browser (no dependencies, so the client bundle can
 * import it). The score itself is pipeline/engagement/score.ts.
 */

/**
 * Highest lens-score filter the API and the incident list accept. Lens scores run to 313.5, so a minimum
 * above 100 is a real filter; this bound only refuses nonsense.
 */
export const MAX_SCORE_FILTER = 1000;
