// The inbox: the side panel's views, the list of the current view, and the
// open conversation. The list refetches on every change it hears (and after
// every reconnect), so nothing stale is shown.

import { useCallback, useEffect, useRef, useState } from "react";
import { ok, type Api, type Conversation } from "./api";
import type { Session } from "./auth";
import { ConversationPane } from "./Conversation";
import { saveFile } from "./download";
import { ReportsScreen } from "./Reports";
import { SettingsScreen } from "./Settings";
import type { LiveFeed } from "./live";
import { initials } from "./SignIn";

/** The filters that combine with any view (the contract's query parameters). */
interface Filters {
  team?: string;
  label?: string;
  channel_id?: string;
  agent_type?: "ai" | "human";
  responded_by?: string;
}

type View = "mine" | "unassigned" | "all" | "unresolved" | "resolved" | "pending_human" | "has_lead";

const VIEWS: { view: View; label: string }[] = [
  { view: "mine", label: "Your inbox" },
  { view: "unassigned", label: "Unassigned" },
  { view: "all", label: "All Conversations" },
  { view: "unresolved", label: "Unresolved" },
  { view: "resolved", label: "Resolved" },
  { view: "pending_human", label: "Pending human reply" },
  { view: "has_lead", label: "Has lead" },
];

export function Inbox({
  api,
  apiBase,
  live,
  session,
  onSignOut,
}: {
  api: Api;
  apiBase: string;
  live: LiveFeed;
  session: Session;
  onSignOut: () => void;
}) {
  const [view, setView] = useState<View>("mine");
  // Which screen the main area shows: the inbox, Settings (admins) or Reports.
  const [pane, setPane] = useState<"inbox" | "settings" | "reports">(() =>
    window.location.hash === "#/settings" ? "settings" : window.location.hash === "#/reports" ? "reports" : "inbox",
  );
  const settingsOpen = pane === "settings";
  const isAdmin = session.claims.role === "admin" || session.claims.role === "owner";
  const [items, setItems] = useState<Conversation[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [openId, setOpenId] = useState<string | null>(() => idFromHash());
  const [error, setError] = useState<string | null>(null);
  const [filters, setFilters] = useState<Filters>({});
  const [teams, setTeams] = useState<{ id: string; name: string }[]>([]);
  const [channels, setChannels] = useState<{ id: string; name: string }[]>([]);
  const [responders, setResponders] = useState<{ id: string; name: string }[]>([]);
  const viewRef = useRef(view);
  viewRef.current = view;
  const filtersRef = useRef(filters);
  filtersRef.current = filters;
  const sentinel = useRef<HTMLDivElement>(null);

  useEffect(() => {
    void (async () => {
      const [t, ch, m] = await Promise.all([
        api.GET("/teams", { params: { query: { limit: 200 } } }),
        api.GET("/channels"),
        api.GET("/members", { params: { query: { limit: 200 } } }),
      ]);
      if (t.data) setTeams(t.data.items);
      if (ch.data) setChannels(ch.data.items);
      if (m.data) setResponders([...m.data.items, ...(m.data.agents ?? [])]);
    })();
  }, [api]);

  // Each load's number: an answer to a superseded load (another view, a
  // refetch) arrives late and is dropped, so the list is the latest asked for.
  const loads = useRef(0);
  const load = useCallback(
    async (more: string | null) => {
      const n = ++loads.current;
      try {
        const page = ok(
          await api.GET("/conversations", {
            params: {
              query: { view: viewRef.current, ...filtersRef.current, limit: 50, ...(more ? { cursor: more } : {}) },
            },
          }),
        );
        if (n !== loads.current) return;
        setItems((old) => (more ? [...old, ...page.items] : page.items));
        setCursor(page.next_cursor ?? null);
        setError(null);
      } catch (e) {
        if (n !== loads.current) return;
        setError(e instanceof Error ? e.message : String(e));
      }
    },
    [api],
  );

  useEffect(() => {
    void load(null);
  }, [view, filters, load]);

  // Infinite scroll: the next page when the end of the list comes into view.
  useEffect(() => {
    const end = sentinel.current;
    if (!end || !cursor) return;
    const watch = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) void load(cursor);
    });
    watch.observe(end);
    return () => watch.disconnect();
  }, [cursor, load]);

  const filter = (key: keyof Filters, value: string) =>
    setFilters((f) => {
      const next = { ...f };
      if (value) (next as Record<string, string>)[key] = value;
      else delete next[key];
      return next;
    });

  // Live: every change may move a conversation in or out of the view.
  useEffect(() => {
    let timer: number | undefined;
    const refetch = () => {
      window.clearTimeout(timer);
      timer = window.setTimeout(() => void load(null), 150);
    };
    const off = live.subscribe({
      opened: refetch,
      message: (m) => {
        if (m.type === "conversation.changed") refetch();
      },
    });
    return () => {
      off();
      window.clearTimeout(timer);
    };
  }, [live, load]);

  useEffect(() => {
    const onHash = () => setOpenId(idFromHash());
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);

  // The current view as the API's CSV (every page), saved as a file.
  const exportCsv = async () => {
    try {
      const r = await api.GET("/conversations/export.csv", {
        params: { query: { view: viewRef.current, ...filtersRef.current } },
        parseAs: "blob",
      });
      saveFile(ok(r) as Blob, `conversations-${viewRef.current}.csv`);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };

  const open = (id: string | null) => {
    window.location.hash = id ? `/conversations/${id}` : "";
    setOpenId(id);
  };

  return (
    <div className={`inbox ${openId ? "has-open" : ""}`}>
      <nav className="side" aria-label="Views">
        <div className="me">
          <span className="avatar" aria-hidden="true">
            {initials(session.claims.name ?? session.claims.sub)}
          </span>
          <span>{session.claims.name ?? session.claims.sub}</span>
          <button type="button" className="link" onClick={onSignOut}>
            Sign out
          </button>
        </div>
        <ul>
          {VIEWS.map((v) => (
            <li key={v.view}>
              <button
                type="button"
                aria-current={view === v.view && pane === "inbox" ? "page" : undefined}
                onClick={() => {
                  setPane("inbox");
                  setView(v.view);
                  open(null);
                }}
              >
                {v.label}
              </button>
            </li>
          ))}
        </ul>
        <fieldset className="filters">
          <legend>Filters</legend>
          <label>
            Team
            <select aria-label="Team" value={filters.team ?? ""} onChange={(e) => filter("team", e.target.value)}>
              <option value="">Any team</option>
              {teams.map((t) => (
                <option key={t.id} value={t.id}>
                  {t.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            Label
            <input aria-label="Label" value={filters.label ?? ""} onChange={(e) => filter("label", e.target.value.trim())} />
          </label>
          <label>
            Channel
            <select aria-label="Channel" value={filters.channel_id ?? ""} onChange={(e) => filter("channel_id", e.target.value)}>
              <option value="">Any channel</option>
              {channels.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            Agent Type
            <select aria-label="Agent Type" value={filters.agent_type ?? ""} onChange={(e) => filter("agent_type", e.target.value)}>
              <option value="">Any</option>
              <option value="ai">AI</option>
              <option value="human">Human</option>
            </select>
          </label>
          <label>
            Responded By
            <select aria-label="Responded By" value={filters.responded_by ?? ""} onChange={(e) => filter("responded_by", e.target.value)}>
              <option value="">Anyone</option>
              {responders.map((r) => (
                <option key={r.id} value={r.id}>
                  {r.name || r.id}
                </option>
              ))}
            </select>
          </label>
        </fieldset>
        <button type="button" className="export" onClick={() => void exportCsv()}>
          Export as CSV
        </button>
        <button
          type="button"
          className="export"
          aria-current={pane === "reports" ? "page" : undefined}
          onClick={() => {
            window.location.hash = "/reports";
            setPane("reports");
          }}
        >
          Reports
        </button>
        {isAdmin && (
          <button
            type="button"
            className="export"
            aria-current={settingsOpen ? "page" : undefined}
            onClick={() => {
              window.location.hash = "/settings";
              setPane("settings");
            }}
          >
            Settings
          </button>
        )}
      </nav>
      {settingsOpen && isAdmin ? (
        <main className="settings-pane">
          <SettingsScreen api={api} apiBase={apiBase} />
        </main>
      ) : pane === "reports" ? (
        <main className="settings-pane">
          <ReportsScreen
            api={api}
            names={Object.fromEntries([...responders, ...channels].map((n) => [n.id, n.name || n.id]))}
          />
        </main>
      ) : (
        <>
      <section className="list" aria-label="Conversations">
        <h1>{VIEWS.find((v) => v.view === view)?.label}</h1>
        {error && <p role="alert">{error}</p>}
        {items.length === 0 && !error && <p className="muted">No conversations here.</p>}
        <ul>
          {items.map((c) => (
            <li key={c.id}>
              <button
                type="button"
                className={`row ${c.unread ? "unread" : ""}`}
                aria-current={openId === c.id ? "true" : undefined}
                onClick={() => open(c.id)}
              >
                <span className="name">
                  {c.unread && <span className="dot" aria-label="Unread" />}
                  {c.contact.name ?? "Unknown contact"}
                </span>
                <span className="status">{statusLabel(c.status)}</span>
                {c.assignee && (
                  <span className="avatar small" title={c.assignee.name ?? c.assignee.id} aria-label={`Assigned to ${c.assignee.name ?? c.assignee.id}`}>
                    {initials(c.assignee.name ?? c.assignee.id)}
                  </span>
                )}
              </button>
            </li>
          ))}
        </ul>
        <div ref={sentinel} />
        {cursor && (
          <button type="button" onClick={() => void load(cursor)}>
            Load more
          </button>
        )}
      </section>
      {openId ? (
        <ConversationPane key={openId} id={openId} api={api} live={live} session={session} onClose={() => open(null)} />
      ) : (
        <section className="conversation empty" aria-label="Conversation">
          <p className="muted">Pick a conversation.</p>
        </section>
      )}
        </>
      )}
    </div>
  );
}

export function statusLabel(status: Conversation["status"]): string {
  return status === "open" ? "Open" : status === "closed" ? "Closed" : "Unassigned";
}

function idFromHash(): string | null {
  const m = /^#\/conversations\/([^/]+)$/.exec(window.location.hash);
  return m?.[1] ? decodeURIComponent(m[1]) : null;
}
