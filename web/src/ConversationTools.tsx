// The open conversation's other controls: "Assign team", "Assign agent"
// (with "Send initial message"), "Unassign agent" (its session ends),
// favorite, "Transfer channel", "Export conversation" (the transcript),
// labels and snooze. Each is one request of the contract; a refusal is
// shown by its problem's detail, and the conversation refetches after.

import { useEffect, useState, type FormEvent } from "react";
import { ok, type Api, type Conversation } from "./api";
import { saveFile } from "./download";

type Named = { id: string; name: string };

export function ConversationTools({
  api,
  conversation,
  act,
}: {
  api: Api;
  conversation: Conversation;
  act: (run: () => Promise<unknown>) => Promise<void>;
}) {
  const [teams, setTeams] = useState<Named[]>([]);
  const [agents, setAgents] = useState<Named[]>([]);
  const [channels, setChannels] = useState<Named[]>([]);
  const [panel, setPanel] = useState<"agent" | "unassign-agent" | null>(null);
  const [agentId, setAgentId] = useState("");
  const [initial, setInitial] = useState(false);
  const [label, setLabel] = useState("");
  const [snoozeUntil, setSnoozeUntil] = useState("");
  const c = conversation;
  const path = { params: { path: { id: c.id } } };

  useEffect(() => {
    void (async () => {
      const [t, a, ch] = await Promise.all([
        api.GET("/teams", { params: { query: { limit: 200 } } }),
        api.GET("/agents", { params: { query: { limit: 200 } } }),
        api.GET("/channels"),
      ]);
      if (t.data) setTeams(t.data.items);
      if (a.data) {
        setAgents(a.data.items);
        setAgentId((old) => old || (a.data.items[0]?.id ?? ""));
      }
      if (ch.data) setChannels(ch.data.items);
    })();
  }, [api]);

  const download = async () => {
    const r = await api.GET("/conversations/{id}/transcript", { ...path, parseAs: "text" });
    const text = ok(r) as string;
    saveFile(new Blob([text], { type: "text/plain" }), `conversation-${c.id}.txt`);
  };

  return (
    <div className="tools" role="toolbar" aria-label="Conversation tools">
      <button
        type="button"
        aria-pressed={c.favorite}
        onClick={() =>
          act(async () =>
            ok(
              c.favorite
                ? await api.DELETE("/conversations/{id}/favorite", path)
                : await api.POST("/conversations/{id}/favorite", path),
            ),
          )
        }
      >
        {c.favorite ? "★ Favorite" : "☆ Favorite"}
      </button>

      <label className="inline">
        <span>Assign team</span>
        <select
          aria-label="Assign team"
          value={c.team?.id ?? ""}
          onChange={(e) =>
            act(async () =>
              ok(await api.POST("/conversations/{id}/team", { ...path, body: { team_id: e.target.value || null } })),
            )
          }
        >
          <option value="">No team</option>
          {teams.map((t) => (
            <option key={t.id} value={t.id}>
              {t.name}
            </option>
          ))}
        </select>
      </label>

      {c.agent ? (
        <button type="button" onClick={() => setPanel(panel === "unassign-agent" ? null : "unassign-agent")}>
          Unassign agent
        </button>
      ) : (
        <button type="button" onClick={() => setPanel(panel === "agent" ? null : "agent")} disabled={agents.length === 0}>
          Assign agent
        </button>
      )}

      {channels.length > 1 && (
        <label className="inline">
          <span>Transfer channel</span>
          <select
            aria-label="Transfer channel"
            value={c.channel_id ?? ""}
            onChange={(e) =>
              e.target.value &&
              act(async () =>
                ok(await api.POST("/conversations/{id}/channel", { ...path, body: { channel_id: e.target.value } })),
              )
            }
          >
            {!c.channel_id && <option value="">No channel</option>}
            {channels.map((ch) => (
              <option key={ch.id} value={ch.id}>
                {ch.name}
              </option>
            ))}
          </select>
        </label>
      )}

      <button type="button" onClick={() => act(download)}>
        Export conversation
      </button>

      <form
        className="inline"
        onSubmit={(e: FormEvent) => {
          e.preventDefault();
          const add = label.trim();
          if (!add) return;
          setLabel("");
          void act(async () => ok(await api.POST("/conversations/{id}/labels", { ...path, body: { add: [add], remove: [] } })));
        }}
      >
        <label htmlFor="add-label" className="visually-hidden">
          Add label
        </label>
        <input id="add-label" placeholder="Add label" value={label} onChange={(e) => setLabel(e.target.value)} />
      </form>
      <ul className="labels" aria-label="Labels">
        {c.labels.map((l) => (
          <li key={l}>
            {l}
            <button
              type="button"
              className="link"
              aria-label={`Remove label ${l}`}
              onClick={() =>
                act(async () => ok(await api.POST("/conversations/{id}/labels", { ...path, body: { add: [], remove: [l] } })))
              }
            >
              ×
            </button>
          </li>
        ))}
      </ul>

      {c.snoozed_until ? (
        <button type="button" onClick={() => act(async () => ok(await api.POST("/conversations/{id}/unsnooze", path)))}>
          Unsnooze (snoozed until {new Date(c.snoozed_until).toLocaleString()})
        </button>
      ) : (
        <form
          className="inline"
          onSubmit={(e: FormEvent) => {
            e.preventDefault();
            if (!snoozeUntil) return;
            const until = new Date(snoozeUntil).toISOString();
            void act(async () => ok(await api.POST("/conversations/{id}/snooze", { ...path, body: { until } })));
          }}
        >
          <label htmlFor="snooze-until" className="visually-hidden">
            Snooze until
          </label>
          <input id="snooze-until" type="datetime-local" value={snoozeUntil} onChange={(e) => setSnoozeUntil(e.target.value)} />
          <button type="submit">Snooze</button>
        </form>
      )}

      {panel === "agent" && (
        <div className="panel inline-panel" role="dialog" aria-label="Assign agent">
          <label htmlFor="agent-pick">AI agent</label>
          <select id="agent-pick" value={agentId} onChange={(e) => setAgentId(e.target.value)}>
            {agents.map((a) => (
              <option key={a.id} value={a.id}>
                {a.name}
              </option>
            ))}
          </select>
          <label className="check">
            <input type="checkbox" checked={initial} onChange={(e) => setInitial(e.target.checked)} />
            Send initial message
          </label>
          <button
            type="button"
            className="primary"
            onClick={() =>
              act(async () => {
                ok(
                  await api.POST("/conversations/{id}/agent", {
                    ...path,
                    body: { agent_id: agentId, send_initial_message: initial },
                  }),
                );
                setPanel(null);
              })
            }
          >
            Hand to the agent
          </button>
        </div>
      )}
      {panel === "unassign-agent" && c.agent && (
        <div className="panel inline-panel" role="dialog" aria-label="Unassign agent">
          <p>
            {c.agent.name} will be removed from this conversation
            {c.agent.session?.active ? " and its session ends: the AI stops replying." : "."}
          </p>
          <button
            type="button"
            className="primary"
            onClick={() =>
              act(async () => {
                ok(await api.DELETE("/conversations/{id}/agent", path));
                setPanel(null);
              })
            }
          >
            Unassign agent
          </button>
          <button type="button" onClick={() => setPanel(null)}>
            Cancel
          </button>
        </div>
      )}
    </div>
  );
}
