/**
 * How many lenses one triage change of the API takes (setLensesStatus, assignLenses); the incident list sends
 * a larger selection in parts of this size. No dependencies, so the browser bundle can import it.
 */
export const BULK_LENSES_MAX = 100;
