'use client';
/**
 * Notes: markdown rendered by react-markdown with raw HTML skipped (never parsed into elements) and
 * images shown as links, so a note cannot load or run anything. Plus the form to add one.
 */
import { useState, type FormEvent } from 'react';
import ReactMarkdown, { type Components } from 'react-markdown';
import { errorText } from '../error-text';
import type { Note } from './api';
import { shortTime } from './format';
import { useAddNote, useEditNote } from './mutations';

const MARKDOWN_COMPONENTS: Components = {
  a: ({ href, children }) => (
    <a href={href} target="_blank" rel="noopener noreferrer nofollow">
      {children}
    </a>
  ),
  // No remote images from notes (tracking pixels): show the address as text.
  img: ({ src, alt }) => (
    <span className="muted">
      [image{alt ? `: ${alt}` : ''}
      {typeof src === 'string' ? ` ${src}` : ''}]
    </span>
  ),
};

export function Markdown({ text }: { text: string }) {
  return (
    <div className="markdown">
      <ReactMarkdown skipHtml components={MARKDOWN_COMPONENTS}>
        {text}
      </ReactMarkdown>
    </div>
  );
}

/**
 * The notes of a lens or a node. With `editAs`, that user's own notes get an Edit button (the server
 * checks authorship again; earlier versions are kept).
 */
export function NotesList({
  notes,
  lensId,
  node,
  editAs,
}: {
  notes: Note[];
  lensId?: string;
  node?: string;
  editAs?: string;
}) {
  const [editing, setEditing] = useState<string | null>(null);
  if (notes.length === 0) return <p className="muted small">No notes yet.</p>;
  return (
    <ol className="notes" data-testid="notes">
      {notes.map((n) => (
        <li key={n.id} className="note" data-testid="note">
          <div className="note-meta muted small">
            <strong>{n.author}</strong> · <time dateTime={n.createdAt}>{shortTime(n.createdAt)} UTC</time>
            {n.version > 1 ? ` · edited${n.editedBy ? ` by ${n.editedBy}` : ''}` : ''}
            {lensId && editAs && n.author === editAs && editing !== n.id ? (
              <>
                {' · '}
                <button type="button" className="link" data-testid="note-edit" onClick={() => setEditing(n.id)}>
                  Edit
                </button>
              </>
            ) : null}
          </div>
          {lensId && editing === n.id ? (
            <EditNoteForm lensId={lensId} node={node} note={n} onDone={() => setEditing(null)} />
          ) : (
            <Markdown text={n.text} />
          )}
        </li>
      ))}
    </ol>
  );
}

function EditNoteForm({
  lensId,
  node,
  note,
  onDone,
}: {
  lensId: string;
  node?: string;
  note: Note;
  onDone: () => void;
}) {
  const [text, setText] = useState(note.text);
  const edit = useEditNote(lensId);
  const id = `note-edit-${note.id}`;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!text.trim() || text === note.text) return onDone();
    edit.mutate({ id: note.id, text, node }, { onSuccess: onDone });
  };
  return (
    <form className="note-form" onSubmit={submit} data-testid="note-edit-form">
      <label htmlFor={id}>Edit note (markdown; the previous version is kept)</label>
      <textarea id={id} rows={3} value={text} maxLength={20_000} onChange={(e) => setText(e.target.value)} required />
      <div className="row-actions">
        <button type="submit" className="primary" disabled={edit.isPending || !text.trim()}>
          {edit.isPending ? 'Saving…' : 'Save'}
        </button>
        <button type="button" onClick={onDone} disabled={edit.isPending}>
          Cancel
        </button>
      </div>
      {edit.isError ? (
        <p className="form-error" role="alert">
          {errorText(edit.error)}
        </p>
      ) : null}
    </form>
  );
}

export function AddNoteForm({ lensId, node }: { lensId: string; node?: string }) {
  const [text, setText] = useState('');
  const add = useAddNote(lensId);
  const id = node ? 'note-node' : 'note-lens';
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!text.trim()) return;
    add.mutate({ node, text }, { onSuccess: () => setText('') });
  };
  return (
    <form className="note-form" onSubmit={submit} data-testid={node ? 'node-note-form' : 'lens-note-form'}>
      <label htmlFor={id}>{node ? 'Add a note on this node' : 'Add a note on this lens'} (markdown)</label>
      <textarea
        id={id}
        rows={3}
        value={text}
        maxLength={20_000}
        onChange={(e) => setText(e.target.value)}
        required
      />
      <button type="submit" className="primary" disabled={add.isPending || !text.trim()}>
        {add.isPending ? 'Adding…' : 'Add note'}
      </button>
      {add.isError ? (
        <p className="form-error" role="alert">
          {errorText(add.error)}
        </p>
      ) : null}
    </form>
  );
}
