import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { LoginForm } from '../../components/LoginForm';
import { safeNext } from '../../components/safe-next';
import { currentViewer } from '../../server/auth/current-viewer';

export const metadata: Metadata = { title: 'Sign in' };

export default async function LoginPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const { next } = await searchParams;
  const target = typeof next === 'string' ? next : undefined;
  if (await currentViewer()) redirect(safeNext(target));
  return (
    <main className="login-page">
      <div className="login-card">
        <p className="brand login-brand">
          <span className="brand-mark" aria-hidden="true">
            ◎
          </span>
          Lensgraph
        </p>
        <LoginForm {...(target ? { next: target } : {})} />
      </div>
    </main>
  );
}
