'use client';
/**
 * Status actions, following the lifecycle (server/engagements/lifecycle.ts): New → Investigate;
 * Investigating → Close (dialog: resolution and summary required, the duplicated lens for Duplicate);
 * Closed → Reopen.
 */
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { errorText } from '../error-text';
import { RESOLUTION_TEXT, RESOLUTIONS, type Lens, type Resolution } from './api';
import { useSetStatus } from './mutations';

export function StatusActions({ lens }: { lens: Lens }) {
  const setStatus = useSetStatus(lens.id);
  const [closing, setClosing] = useState(false);
  if (lens.mergedInto) return null;
  return (
    <div className="status-actions" data-testid="status-actions">
      {lens.status === 'New' ? (
        <button
          type="button"
          className="primary"
          onClick={() => setStatus.mutate({ status: 'Investigating' })}
          disabled={setStatus.isPending}
        >
          Investigate
        </button>
      ) : null}
      {lens.status === 'Investigating' ? (
        <button type="button" className="primary" onClick={() => setClosing(true)}>
          Close…
        </button>
      ) : null}
      {lens.status === 'Closed' ? (
        <button
          type="button"
          onClick={() => setStatus.mutate({ status: 'Investigating' })}
          disabled={setStatus.isPending}
        >
          Reopen
        </button>
      ) : null}
      {setStatus.isError ? (
        <p className="form-error" role="alert">
          {errorText(setStatus.error)}
        </p>
      ) : null}
      {closing ? <CloseDialog lens={lens} onDone={() => setClosing(false)} /> : null}
    </div>
  );
}

function CloseDialog({ lens, onDone }: { lens: Lens; onDone: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const [resolution, setResolution] = useState<Resolution | ''>('');
  const [summary, setSummary] = useState('');
  const [duplicateOf, setDuplicateOf] = useState('');
  const setStatus = useSetStatus(lens.id);

  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => d?.close();
  }, []);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!resolution || !summary.trim()) return;
    setStatus.mutate(
      {
        status: 'Closed',
        resolution,
        summary: summary.trim(),
        duplicateOf: resolution === 'Duplicate' ? duplicateOf.trim() : null,
      },
      { onSuccess: onDone },
    );
  };

  return (
    <dialog ref={ref} className="dialog" aria-labelledby="close-heading" onCancel={onDone} data-testid="close-dialog">
      <form onSubmit={submit} className="dialog-form">
        <h2 id="close-heading">Close lens</h2>
        <div className="field">
          <label htmlFor="close-resolution">Resolution</label>
          <select
            id="close-resolution"
            required
            value={resolution}
            onChange={(e) => setResolution(e.target.value as Resolution | '')}
          >
            <option value="">Choose…</option>
            {RESOLUTIONS.map((r) => (
              <option key={r} value={r}>
                {RESOLUTION_TEXT[r]}
              </option>
            ))}
          </select>
        </div>
        {resolution === 'Duplicate' ? (
          <div className="field">
            <label htmlFor="close-duplicate">Duplicate of (lens id)</label>
            <input
              id="close-duplicate"
              required
              pattern="(eng|asset):\S+"
              value={duplicateOf}
              onChange={(e) => setDuplicateOf(e.target.value)}
              placeholder="eng:…"
            />
          </div>
        ) : null}
        <div className="field">
          <label htmlFor="close-summary">Summary</label>
          <textarea
            id="close-summary"
            required
            rows={4}
            maxLength={10_000}
            value={summary}
            onChange={(e) => setSummary(e.target.value)}
          />
        </div>
        {setStatus.isError ? (
          <p className="form-error" role="alert">
            {errorText(setStatus.error)}
          </p>
        ) : null}
        <div className="dialog-actions">
          <button type="button" className="ghost" onClick={onDone}>
            Cancel
          </button>
          <button
            type="submit"
            className="primary"
            disabled={setStatus.isPending || !resolution || !summary.trim() || (resolution === 'Duplicate' && !duplicateOf.trim())}
          >
            {setStatus.isPending ? 'Closing…' : 'Close lens'}
          </button>
        </div>
      </form>
    </dialog>
  );
}
