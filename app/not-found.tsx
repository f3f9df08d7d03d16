import Link from 'next/link';

export default function NotFound() {
  return (
    <main className="login-page">
      <div className="login-card">
        <h1>Not found</h1>
        <p className="muted">There is nothing at this address.</p>
        <p>
          <Link href="/">Go to Lensgraph</Link>
        </p>
      </div>
    </main>
  );
}
