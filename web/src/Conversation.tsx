// One open conversation: its header (assignment, status), the banners
// above the composer (takeover, the AI agent, pending human), the thread
// (messages and timeline events in order), and the composer. It refetches
// itself when live updates say it changed, and after every reconnect.

import { useCallback, useEffect, useRef, useState, type KeyboardEvent } from "react";
import { ApiProblem, ok, type Api, type Conversation, type Message, type Settings, type TimelineEvent } from "./api";
import type { Session } from "./auth";
import { AssignControl } from "./AssignControl";
import { ClosingNotesDialog } from "./ClosingNotes";
import { ConversationTools } from "./ConversationTools";
import { statusLabel } from "./Inbox";
import type { LiveFeed } from "./live";

const TAKEOVER_NOTICE = "You have taken over this conversation. AI will stop responding.";

interface Loaded {
  conversation: Conversation;
  messages: Message[];
  timeline: TimelineEvent[];
}

async function all<T>(fetchPage: (cursor?: string) => Promise<{ items: T[]; next_cursor?: string | null }>): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await fetchPage(cursor);
    out.push(...page.items);
    if (!page.next_cursor) return out;
    cursor = page.next_cursor;
  }
}

export function ConversationPane({
  id,
  api,
  live,
  session,
  onClose,
}: {
  id: string;
  api: Api;
  live: LiveFeed;
  session: Session;
  onClose: () => void;
}) {
  const [data, setData] = useState<Loaded | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [typing, setTyping] = useState<string | null>(null);
  const [closing, setClosing] = useState(false);
  const [settings, setSettings] = useState<Settings | null>(null);
  const versionRef = useRef(0);

  useEffect(() => {
    api
      .GET("/settings")
      .then(ok)
      .then(setSettings)
      .catch(() => setSettings(null));
  }, [api]);

  const load = useCallback(async () => {
    try {
      const path = { params: { path: { id } } };
      const [conversation, messages, timeline] = await Promise.all([
        api.GET("/conversations/{id}", path).then(ok),
        all((cursor) =>
          api
            .GET("/conversations/{id}/messages", { params: { path: { id }, query: { limit: 200, ...(cursor ? { cursor } : {}) } } })
            .then(ok),
        ),
        all((cursor) =>
          api
            .GET("/conversations/{id}/timeline", { params: { path: { id }, query: { limit: 200, ...(cursor ? { cursor } : {}) } } })
            .then(ok),
        ),
      ]);
      versionRef.current = conversation.version;
      setData({ conversation, messages, timeline });
      setError(null);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  }, [api, id]);

  useEffect(() => {
    void load();
    void api.POST("/conversations/{id}/read", { params: { path: { id } } });
  }, [api, id, load]);

  useEffect(() => {
    let typingTimer: number | undefined;
    const off = live.subscribe({
      opened: () => void load(),
      message: (m) => {
        if (!("conversation_id" in m) || m.conversation_id !== id) return;
        if (m.type === "conversation.changed") {
          // At or below what is shown: old news. Above it: refetch.
          if (m.version > versionRef.current) void load();
        } else if (m.type === "message.delivery_updated") {
          setData((d) =>
            d && {
              ...d,
              messages: d.messages.map((x) => (x.id === m.message_id ? { ...x, delivery: m.delivery } : x)),
            },
          );
        } else if (m.type === "typing") {
          setTyping(m.member.name);
          window.clearTimeout(typingTimer);
          typingTimer = window.setTimeout(() => setTyping(null), 4000);
        }
      },
    });
    return () => {
      off();
      window.clearTimeout(typingTimer);
    };
  }, [live, id, load]);

  /** Runs an action, shows its problem if refused, and refetches. */
  const act = async (run: () => Promise<unknown>) => {
    try {
      await run();
      setError(null);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
    await load();
  };

  if (!data) {
    return (
      <section className="conversation" aria-label="Conversation" aria-busy={!error}>
        {error && <p role="alert">{error}</p>}
      </section>
    );
  }
  const c = data.conversation;
  const me = session.claims.sub;
  const blocked = c.contact.blocked;
  const path = { params: { path: { id } } };
  const activeSession = c.agent?.session?.active ? c.agent : null;
  const someoneElse = c.assignee && c.assignee.id !== me ? c.assignee : null;
  const mode = settings?.closing_notes.mode ?? "optional";
  const noteRequired = mode !== "optional" && mode !== "off";

  return (
    <section className="conversation" aria-label="Conversation">
      <header className="conv-header">
        <button type="button" className="link back" onClick={onClose} aria-label="Back to the list">
          ←
        </button>
        <h2>{c.contact.name ?? "Unknown contact"}</h2>
        <AssignControl api={api} conversation={c} onChanged={() => void load()} onError={setError} />
        {!blocked && (
          <div className="status-menu" role="group" aria-label="Status">
            <span className="caption" aria-hidden="true">
              Status
            </span>
            {(["open", "closed", "unset"] as const).map((s) => (
              <button
                key={s}
                type="button"
                aria-pressed={c.status === s}
                onClick={() =>
                  s === "closed" && noteRequired
                    ? setClosing(true)
                    : act(async () => ok(await api.POST("/conversations/{id}/status", { ...path, body: { status: s } })))
                }
              >
                {statusLabel(s)}
              </button>
            ))}
            {mode === "optional" && (
              <button type="button" aria-label="Close with a closing note" onClick={() => setClosing(true)}>
                ▾
              </button>
            )}
          </div>
        )}
        <button type="button" onClick={() => act(async () => ok(await api.POST("/conversations/{id}/unread", path)))}>
          Mark as unread
        </button>
      </header>
      <ConversationTools api={api} conversation={c} act={act} />
      <p className="conv-meta muted">
        Status: {statusLabel(c.status)}
        {c.auto_close_at && ` · Closes automatically at ${new Date(c.auto_close_at).toLocaleString()}`}
        {c.closing && ` · Closed ${c.closing.source === "auto_close" ? "by auto-close" : "manually"}`}
      </p>
      <Thread messages={data.messages} timeline={data.timeline} onRetry={(messageId) =>
        act(async () => ok(await api.POST("/conversations/{id}/messages/{message_id}/retry", { params: { path: { id, message_id: messageId } } })))
      } />
      {typing && <p className="typing" aria-live="polite">{typing} is typing…</p>}
      {error && <p role="alert" className="error">{error}</p>}
      {notice && <p role="status" className="notice">{notice}</p>}
      {someoneElse && c.viewer.can_takeover && (
        <div className="banner" role="region" aria-label="Takeover">
          <p>
            Assigned to {someoneElse.name ?? someoneElse.id}. Click Takeover to assign this conversation to yourself and send
            messages.
          </p>
          <button
            type="button"
            onClick={() =>
              act(async () => {
                const r = ok(await api.POST("/conversations/{id}/takeover", path));
                setNotice(r.notice ?? TAKEOVER_NOTICE);
              })
            }
          >
            Takeover
          </button>
        </div>
      )}
      {activeSession && (
        <div className="banner agent" role="region" aria-label="Agent session">
          <p>{activeSession.name} (AI agent) is handling this conversation.</p>
          <button
            type="button"
            aria-label="End agent session"
            onClick={() => act(async () => ok(await api.POST("/conversations/{id}/agent-session/end", path)))}
          >
            ×
          </button>
        </div>
      )}
      {c.human_handoff && !c.assignee && c.status !== "closed" && (
        <div className="banner" role="region" aria-label="Pending human reply">
          <p>Do you want to be assigned to this conversation?</p>
          <button
            type="button"
            onClick={() => act(async () => ok(await api.POST("/conversations/{id}/assign", { ...path, body: { member_id: me } })))}
          >
            Assign to me
          </button>
        </div>
      )}
      {!blocked && c.viewer.can_reply && !someoneElse && (
        <Composer
          conversation={c}
          onTyping={() => live.typing(id)}
          onNote={async (body) => {
            ok(await api.POST("/conversations/{id}/notes", { ...path, body: { body } }));
            await load();
          }}
          onSend={async (body, onClosed) => {
            const r = await api.POST("/conversations/{id}/messages", {
              ...path,
              body: onClosed ? { body, on_closed: onClosed } : { body },
            });
            const posted = ok(r);
            setNotice(null);
            if (posted.conversation.id !== id) {
              window.location.hash = `/conversations/${posted.conversation.id}`;
            }
            await load();
          }}
        />
      )}
      {blocked && <p className="muted">This contact is blocked: no replies, no Open or Close.</p>}
      {closing && (
        <ClosingNotesDialog
          api={api}
          settings={settings}
          conversationId={id}
          onCancel={() => setClosing(false)}
          onClosed={() => {
            setClosing(false);
            void load();
          }}
        />
      )}
    </section>
  );
}

type Item = { at: string; key: string; message?: Message; event?: TimelineEvent };

function Thread({
  messages,
  timeline,
  onRetry,
}: {
  messages: Message[];
  timeline: TimelineEvent[];
  onRetry: (messageId: string) => void;
}) {
  const items: Item[] = [
    ...messages.map((m) => ({ at: m.created_at, key: m.id, message: m })),
    ...timeline.map((e) => ({ at: e.at, key: e.id, event: e })),
  ].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  return (
    <ol className="thread" aria-label="Thread">
      {items.map((i) =>
        i.message ? (
          <MessageItem key={i.key} m={i.message} onRetry={onRetry} />
        ) : i.event?.type === "note_added" ? (
          <li key={i.key} className="message note">
            <p className="who">Internal note · {i.event.actor?.id ?? ""}</p>
            <p className="body">{String((i.event.data as Record<string, unknown>)["body"] ?? "")}</p>
          </li>
        ) : i.event ? (
          <li key={i.key} className="event">
            {describeEvent(i.event)}
          </li>
        ) : null,
      )}
    </ol>
  );
}

function MessageItem({ m, onRetry }: { m: Message; onRetry: (id: string) => void }) {
  const kind = m.sender.kind;
  const who =
    kind === "contact"
      ? (m.sender.name ?? "Contact")
      : kind === "member"
        ? (m.sender.name ?? m.sender.id ?? "Member")
        : kind === "ai_agent"
          ? `${m.sender.name ?? m.sender.id ?? "AI"} (AI agent)`
          : kind === "broadcast"
            ? "Broadcast"
            : "Workflow";
  const d = m.delivery;
  return (
    <li className={`message ${kind}`}>
      <p className="who">{who}</p>
      <p className="body">{m.body}</p>
      {d && (
        <p className={`delivery ${d.status}`}>
          {d.status}
          {d.status === "failed" && d.error && `: ${d.error.message ?? d.error.code}`}
          {d.status === "failed" && (
            <button type="button" onClick={() => onRetry(m.id)}>
              Retry
            </button>
          )}
        </p>
      )}
    </li>
  );
}

/** A timeline event as a line of the thread. */
function describeEvent(e: TimelineEvent): string {
  const data = (e.data ?? {}) as Record<string, unknown>;
  const by = e.actor?.id ?? "";
  switch (e.type) {
    case "conversation_created":
      return "Conversation started";
    case "assigned":
      return `Assigned to ${String(data["to"])}${data["from"] ? ` (was ${String(data["from"])})` : ""}`;
    case "unassigned":
      return `Unassigned${data["reason"] === "handed_to_ai" ? " (handed to the AI agent)" : ""}`;
    case "taken_over":
      return `${String(data["to"])} took over from ${String(data["from"])}`;
    case "agent_assigned":
      return `AI agent ${String(data["agent_id"] ?? "")} assigned`;
    case "agent_unassigned":
      return "AI agent removed";
    case "agent_session_ended":
      return `AI session ended (${String(data["reason"] ?? "")})`;
    case "handoff_requested":
      return "Handed off to a human";
    case "status_changed":
      return data["source"] === "auto_close"
        ? "Closed by auto-close"
        : `Status: ${String(data["from"])} → ${String(data["to"])}`;
    case "closing_note_added":
      return `Closing note: ${[data["category"], data["summary"]].filter(Boolean).join(" — ")}`;
    case "note_added":
      return `Internal note by ${by}`;
    default:
      return e.type.replace(/_/g, " ");
  }
}

function Composer({
  conversation,
  onSend,
  onNote,
  onTyping,
}: {
  conversation: Conversation;
  onSend: (body: string, onClosed?: "reopen" | "new_conversation") => Promise<void>;
  onNote: (body: string) => Promise<void>;
  onTyping: () => void;
}) {
  const [body, setBody] = useState("");
  const [note, setNote] = useState(false);
  const [askClosed, setAskClosed] = useState(false);
  const [needsName, setNeedsName] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const lastTyping = useRef(0);

  const send = async (onClosed?: "reopen" | "new_conversation") => {
    const text = body.trim();
    if (!text) return;
    if (note) {
      try {
        await onNote(text);
        setBody("");
        setError(null);
      } catch (e) {
        setError(e instanceof Error ? e.message : String(e));
      }
      return;
    }
    if (conversation.status === "closed" && !onClosed) {
      setAskClosed(true);
      return;
    }
    try {
      await onSend(text, onClosed);
      setBody("");
      setAskClosed(false);
      setError(null);
    } catch (e) {
      if (e instanceof ApiProblem && e.code === "conversation_closed") setAskClosed(true);
      else if (e instanceof ApiProblem && e.code === "profile_incomplete") setNeedsName(true);
      else setError(e instanceof Error ? e.message : String(e));
    }
  };
  const onKey = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      void send();
    }
  };
  return (
    <div className="composer">
      {needsName && (
        <div className="banner" role="region" aria-label="Display name needed">
          <p>
            Set a display name before replying: contacts see who answers. An admin sets it in Settings, under Members;
            your reply is kept here until then.
          </p>
        </div>
      )}
      {askClosed && (
        <div className="banner" role="region" aria-label="Conversation closed">
          <p>This conversation is closed.</p>
          <button type="button" onClick={() => void send("reopen")}>
            Open and reply here
          </button>
          <button type="button" onClick={() => void send("new_conversation")}>
            Start new conversation
          </button>
        </div>
      )}
      <label htmlFor="reply" className="visually-hidden">
        Reply
      </label>
      <textarea
        id="reply"
        value={body}
        rows={3}
        placeholder="Write a reply (Enter sends, Shift+Enter adds a line)"
        onChange={(e) => {
          setBody(e.target.value);
          if (Date.now() - lastTyping.current > 2000) {
            lastTyping.current = Date.now();
            onTyping();
          }
        }}
        onKeyDown={onKey}
      />
      <div className="composer-actions">
        <label className="check">
          <input type="checkbox" checked={note} onChange={(e) => setNote(e.target.checked)} />
          Internal note
        </label>
        <button type="button" onClick={() => void send()}>
          {note ? "Add note" : "Send reply"}
        </button>
      </div>
      {error && <p role="alert">{error}</p>}
    </div>
  );
}
