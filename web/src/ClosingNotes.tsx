// Closing a conversation: the "Closing Notes" dialog, with the workspace's
// categories, a summary, and "Summarize", which drafts what the server's
// summarizer would write. The server enforces the mode (a required part
// missing is its 422, shown here); "Close without a note" where it is optional.

import { useState } from "react";
import { ok, type Api, type Settings } from "./api";

export function ClosingNotesDialog({
  api,
  settings,
  conversationId,
  onCancel,
  onClosed,
}: {
  api: Api;
  settings: Settings | null;
  conversationId: string;
  onCancel: () => void;
  onClosed: () => void;
}) {
  const [category, setCategory] = useState("");
  const [summary, setSummary] = useState("");
  const [error, setError] = useState<string | null>(null);
  const path = { params: { path: { id: conversationId } } };

  const mode = settings?.closing_notes.mode ?? "optional";
  const close = async (withNote: boolean) => {
    try {
      const note = { category: category || null, summary: summary.trim() || null };
      ok(
        await api.POST("/conversations/{id}/status", {
          ...path,
          body: withNote && mode !== "off" ? { status: "closed", closing_note: note } : { status: "closed" },
        }),
      );
      onClosed();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  const summarize = async () => {
    try {
      const draft = ok(await api.POST("/conversations/{id}/closing-note/draft", path));
      if (draft.summary) setSummary(draft.summary);
      if (draft.category && !category) setCategory(draft.category);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };

  return (
    <div className="modal-backdrop">
      <div className="modal" role="dialog" aria-modal="true" aria-labelledby="closing-title">
        <h3 id="closing-title">Closing Notes</h3>
        {mode === "off" ? (
          <p>Closing notes are off in this workspace.</p>
        ) : (
          <>
            <label htmlFor="closing-category">Category</label>
            <select id="closing-category" value={category} onChange={(e) => setCategory(e.target.value)}>
              <option value="">No category</option>
              {settings?.closing_notes.categories.map((c) => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </select>
            <label htmlFor="closing-summary">Summary</label>
            <textarea id="closing-summary" rows={4} value={summary} onChange={(e) => setSummary(e.target.value)} />
            <button type="button" onClick={() => void summarize()}>
              Summarize
            </button>
          </>
        )}
        {error && <p role="alert">{error}</p>}
        <div className="actions">
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
          {(mode === "optional" || mode === "off") && (
            <button type="button" onClick={() => void close(false)}>
              Close without a note
            </button>
          )}
          {mode !== "off" && (
            <button type="button" className="primary" onClick={() => void close(true)}>
              Close conversation
            </button>
          )}
        </div>
      </div>
    </div>
  );
}
