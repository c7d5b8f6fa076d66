// The assignment control: "Unassigned" or the assignee's name; it opens the
// "Assign conversation to:" panel with "Search members…", the members (a
// checkmark on the current one), "Unassign", and the AI agents labelled
// "Agent", which cannot be picked (the server says to pick a team member).

import { useEffect, useRef, useState } from "react";
import { ok, type Api, type Conversation, type Member } from "./api";
import { initials } from "./SignIn";

type Agent = { id: string; name: string };

export function AssignControl({
  api,
  conversation,
  onChanged,
  onError,
}: {
  api: Api;
  conversation: Conversation;
  onChanged: () => void;
  onError: (message: string | null) => void;
}) {
  const [open, setOpen] = useState(false);
  const [q, setQ] = useState("");
  const [members, setMembers] = useState<Member[]>([]);
  const [agents, setAgents] = useState<Agent[]>([]);
  const [hint, setHint] = useState<string | null>(null);
  const search = useRef<HTMLInputElement>(null);
  const id = conversation.id;

  useEffect(() => {
    if (!open) return;
    search.current?.focus();
    const t = window.setTimeout(async () => {
      try {
        const found = ok(await api.GET("/members", { params: { query: { q: q || undefined, limit: 50 } } }));
        setMembers(found.items);
        setAgents(found.agents ?? []);
      } catch (e) {
        setHint(e instanceof Error ? e.message : String(e));
      }
    }, 150);
    return () => window.clearTimeout(t);
  }, [api, open, q]);

  const run = async (call: () => Promise<unknown>) => {
    try {
      await call();
      onError(null);
      setOpen(false);
      onChanged();
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      setHint(message);
    }
  };
  const path = { params: { path: { id } } };
  const current = conversation.assignee;

  return (
    <div className="assign">
      <span className="caption" aria-hidden="true">
        Assignee
      </span>
      <button
        type="button"
        aria-label={`Assignee: ${current ? (current.name ?? current.id) : "Unassigned"}`}
        aria-haspopup="dialog"
        aria-expanded={open}
        disabled={!conversation.viewer.can_assign}
        onClick={() => {
          setHint(null);
          setOpen(!open);
        }}
      >
        {current && (
          <span className="avatar small" aria-hidden="true">
            {initials(current.name ?? current.id)}
          </span>
        )}
        {current ? (current.name ?? current.id) : "Unassigned"}
      </button>
      {open && (
        <div className="panel" role="dialog" aria-label="Assign conversation to:">
          <p className="panel-title">Assign conversation to:</p>
          <input
            ref={search}
            type="search"
            placeholder="Search members…"
            aria-label="Search members…"
            value={q}
            onChange={(e) => setQ(e.target.value)}
            onKeyDown={(e) => e.key === "Escape" && setOpen(false)}
          />
          <ul>
            {members.map((m) => (
              <li key={m.id}>
                <button
                  type="button"
                  onClick={() =>
                    run(async () => ok(await api.POST("/conversations/{id}/assign", { ...path, body: { member_id: m.id } })))
                  }
                >
                  <span className="avatar small" aria-hidden="true">
                    {m.initials || initials(m.name)}
                  </span>
                  {m.name || m.id}
                  {current?.id === m.id && <span aria-label="Current assignee"> ✓</span>}
                </button>
              </li>
            ))}
            {agents.map((a) => (
              <li key={`agent-${a.id}`}>
                <button
                  type="button"
                  className="agent-row"
                  onClick={() =>
                    run(async () => ok(await api.POST("/conversations/{id}/assign", { ...path, body: { member_id: a.id } })))
                  }
                >
                  <span className="avatar small" aria-hidden="true">
                    {initials(a.name)}
                  </span>
                  {a.name} <span className="tag">Agent</span>
                </button>
              </li>
            ))}
          </ul>
          <button type="button" onClick={() => run(async () => ok(await api.POST("/conversations/{id}/unassign", path)))}>
            Unassign
          </button>
          {hint && <p role="alert">{hint}</p>}
        </div>
      )}
    </div>
  );
}
