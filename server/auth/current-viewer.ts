/** The signed-in viewer for server components and pages (reads the session cookie via next/headers). */
import { cookies } from 'next/headers';
import { services } from '../context';
import { SESSION_COOKIE } from './cookies';
import type { Viewer } from './roles';

export async function currentViewer(): Promise<Viewer | null> {
  const jar = await cookies();
  const id = jar.get(SESSION_COOKIE)?.value;
  if (!id) return null;
  return services().auth.fromSessionId(id);
}
