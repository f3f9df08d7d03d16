'use client';
/**
 * Where files are chosen: drop them on the zone, or use the button (a real button, so the keyboard and
 * screen readers reach it) which opens the file picker. Several files at once.
 */
import { useId, useRef, useState, type DragEvent } from 'react';
import styles from './Upload.module.css';

/** A hint for the picker only: the server detects the format from the content, whatever the name. */
export const ACCEPTED_EXTENSIONS = '.jsonl,.ndjson,.json,.xml,.evtx,.gz,.log,.txt';

export function UploadDropZone({
  onFiles,
  disabled = false,
}: {
  onFiles: (files: File[]) => void;
  disabled?: boolean;
}) {
  const input = useRef<HTMLInputElement>(null);
  const [active, setActive] = useState(false);
  const hintId = useId();
  const inputId = useId();

  const take = (list: FileList | null) => {
    const files = list ? Array.from(list) : [];
    if (files.length > 0) onFiles(files);
  };

  const onDrop = (e: DragEvent<HTMLDivElement>) => {
    e.preventDefault();
    setActive(false);
    if (!disabled) take(e.dataTransfer.files);
  };

  return (
    <div
      className={`${styles.dropzone} ${active ? styles.dropzoneActive : ''}`}
      data-testid="dropzone"
      onDragOver={(e) => {
        e.preventDefault();
        e.dataTransfer.dropEffect = disabled ? 'none' : 'copy';
        setActive(true);
      }}
      onDragLeave={() => setActive(false)}
      onDrop={onDrop}
    >
      <p>
        <strong>Drop telemetry files here</strong>
      </p>
      <p className="muted small" id={hintId}>
        Sysmon or Windows event logs as JSON lines, JSON, event XML or .evtx; gzip-compressed or not. Several
        files at once; each becomes its own upload.
      </p>
      <label htmlFor={inputId} className="sr-only">
        Telemetry files
      </label>
      <input
        ref={input}
        id={inputId}
        data-testid="file-input"
        className="sr-only"
        type="file"
        multiple
        accept={ACCEPTED_EXTENSIONS}
        aria-describedby={hintId}
        tabIndex={-1}
        disabled={disabled}
        onChange={(e) => {
          take(e.currentTarget.files);
          // Choosing the same file again must fire another change.
          e.currentTarget.value = '';
        }}
      />
      <button
        type="button"
        className="primary"
        disabled={disabled}
        aria-describedby={hintId}
        onClick={() => input.current?.click()}
      >
        Choose files…
      </button>
    </div>
  );
}
