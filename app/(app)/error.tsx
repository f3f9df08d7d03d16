'use client';
/** Shown when a signed-in page fails to render (for example Redis is down while reading the session). */
export default function SignedInError({ reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <section className="panel" role="alert">
      <h1>Something went wrong</h1>
      <p className="muted">The page could not be loaded. A backing service may be unavailable.</p>
      <button type="button" className="primary" onClick={() => reset()}>
        Try again
      </button>
    </section>
  );
}
