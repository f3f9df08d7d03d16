/** Up/down badge: colour plus a word, so status never depends on colour alone. */
export function StatusBadge({
  up,
  upText = 'up',
  downText = 'down',
}: {
  up: boolean;
  upText?: string;
  downText?: string;
}) {
  return (
    <span className={`status ${up ? 'status-up' : 'status-down'}`} data-status={up ? 'up' : 'down'}>
      <span className="status-dot" aria-hidden="true" />
      {up ? upText : downText}
    </span>
  );
}
