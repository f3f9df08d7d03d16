/** Where to go after signing in: only same-site paths are followed (no open redirect). */
export function safeNext(next: string | undefined): string {
  if (
    !next ||
    !next.startsWith('/') ||
    next.startsWith('//') ||
    next.startsWith('/\\') ||
    next.startsWith('/login')
  ) {
    return '/incidents';
  }
  return next;
}
