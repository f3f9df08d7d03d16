/**
 * The session cookie: building Set-Cookie values and reading the Cookie header. The cookie is HttpOnly
 * (scripts never see the id), SameSite=Strict (never sent on cross-site requests), Path=/, and Secure
 * when the installation is served over HTTPS (LENSGRAPH_SECURE_COOKIES).
 */
export const SESSION_COOKIE = 'lg_session';

/** Session ids are 32 random bytes, base64url: exactly 43 characters. */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

export function isWellFormedSessionId(id: string): boolean {
  return SESSION_ID.test(id);
}

export interface CookieOptions {
  secure: boolean;
  maxAgeSeconds: number;
}

export function sessionCookie(id: string, { secure, maxAgeSeconds }: CookieOptions): string {
  if (!isWellFormedSessionId(id)) throw new Error('refusing to set a malformed session id');
  const parts = [
    `${SESSION_COOKIE}=${id}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`,
  ];
  if (secure) parts.push('Secure');
  return parts.join('; ');
}

export function clearSessionCookie({ secure }: { secure: boolean }): string {
  const parts = [
    `${SESSION_COOKIE}=`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    'Max-Age=0',
    'Expires=Thu, 01 Jan 1970 00:00:00 GMT',
  ];
  if (secure) parts.push('Secure');
  return parts.join('; ');
}

/** Every value of a cookie name in a Cookie header (a name may repeat; order is kept). */
export function readCookie(header: string | null | undefined, name: string): string[] {
  if (!header) return [];
  const values: string[] = [];
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    if (pair.slice(0, eq).trim() !== name) continue;
    values.push(pair.slice(eq + 1).trim());
  }
  return values;
}

/** The session id carried by a Cookie header, if one is well formed. */
export function sessionIdFromCookieHeader(header: string | null | undefined): string | null {
  return readCookie(header, SESSION_COOKIE).find(isWellFormedSessionId) ?? null;
}
