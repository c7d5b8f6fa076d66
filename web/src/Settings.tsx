// Settings, for admins and owners: the workspace's rules (auto-close,
// closing notes, AI rules), members (invite, role), teams, AI agents, API
// keys (the secret shown once), channels (with the webhook URL to paste into
// the provider) and outgoing webhooks with their deliveries. Every change is
// one request of the contract; the server checks it, and its refusal is shown.

import { useCallback, useEffect, useState, type FormEvent, type ReactNode } from "react";
import { ok, type Api, type Member, type Settings as WorkspaceSettings } from "./api";
import type { components } from "./api/schema";

type ApiKey = components["schemas"]["ApiKey"];
type Channel = components["schemas"]["Channel"];
type Endpoint = components["schemas"]["WebhookEndpoint"];
type Delivery = components["schemas"]["WebhookDelivery"];
type Named = { id: string; name: string };

const ROLES = ["viewer", "agent", "admin", "owner"] as const;
const MODES = ["off", "optional", "category_required", "summary_required", "category_and_summary_required"] as const;

function Section({ title, children }: { title: string; children: ReactNode }) {
  // aria-labelledby takes a list of ids: one without spaces.
  const id = `settings-${title.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;
  return (
    <section className="settings-section" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}

/** Runs a change; its error (the problem's detail) or null. */
function useRunner(reload: () => Promise<void>) {
  const [error, setError] = useState<string | null>(null);
  const run = async (change: () => Promise<unknown>) => {
    try {
      await change();
      setError(null);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
    await reload();
  };
  return { error, run };
}

export function SettingsScreen({ api, apiBase }: { api: Api; apiBase: string }) {
  return (
    <div className="settings">
      <h1>Settings</h1>
      <Rules api={api} />
      <Members api={api} />
      <Teams api={api} />
      <Agents api={api} />
      <ApiKeys api={api} />
      <Channels api={api} apiBase={apiBase} />
      <OutgoingWebhooks api={api} />
    </div>
  );
}

function Rules({ api }: { api: Api }) {
  const [s, setS] = useState<WorkspaceSettings | null>(null);
  const [categories, setCategories] = useState("");
  const [saved, setSaved] = useState(false);
  const reload = useCallback(async () => {
    const got = ok(await api.GET("/settings"));
    setS(got);
    setCategories(got.closing_notes.categories.join(", "));
  }, [api]);
  const { error, run } = useRunner(reload);
  useEffect(() => void reload(), [reload]);
  if (!s) return null;
  const save = (e: FormEvent) => {
    e.preventDefault();
    const next: WorkspaceSettings = {
      ...s,
      closing_notes: {
        ...s.closing_notes,
        categories: categories
          .split(",")
          .map((c) => c.trim())
          .filter(Boolean),
      },
    };
    void run(async () => {
      ok(await api.PUT("/settings", { body: next }));
      setSaved(true);
    });
  };
  return (
    <Section title="Workspace rules">
      <form className="grid-form" onSubmit={save}>
        <label className="check">
          <input
            type="checkbox"
            checked={s.auto_close.enabled}
            onChange={(e) => setS({ ...s, auto_close: { ...s.auto_close, enabled: e.target.checked } })}
          />
          Auto-close quiet conversations
        </label>
        <label>
          Auto-close after (seconds)
          <input
            type="number"
            min={1}
            max={1209600}
            value={s.auto_close.after_seconds}
            onChange={(e) => setS({ ...s, auto_close: { ...s.auto_close, after_seconds: Number(e.target.value) } })}
          />
        </label>
        <label>
          Closing notes
          <select
            value={s.closing_notes.mode}
            onChange={(e) =>
              setS({ ...s, closing_notes: { ...s.closing_notes, mode: e.target.value as (typeof MODES)[number] } })
            }
          >
            {MODES.map((m) => (
              <option key={m} value={m}>
                {m.replace(/_/g, " ")}
              </option>
            ))}
          </select>
        </label>
        <label>
          Closing note categories (comma separated)
          <input value={categories} onChange={(e) => setCategories(e.target.value)} />
        </label>
        <label className="check">
          <input
            type="checkbox"
            checked={s.closing_notes.auto_generate}
            onChange={(e) => setS({ ...s, closing_notes: { ...s.closing_notes, auto_generate: e.target.checked } })}
          />
          Write missing closing notes automatically
        </label>
        <label className="check">
          <input
            type="checkbox"
            checked={s.ai.end_session_on_human_assignment}
            onChange={(e) => setS({ ...s, ai: { ...s.ai, end_session_on_human_assignment: e.target.checked } })}
          />
          End the AI session when a person is assigned
        </label>
        <label className="check">
          <input
            type="checkbox"
            checked={s.ai.stop_on_human_reply}
            onChange={(e) => setS({ ...s, ai: { ...s.ai, stop_on_human_reply: e.target.checked } })}
          />
          Stop the AI when a person replies
        </label>
        <label className="check">
          <input
            type="checkbox"
            checked={s.reopen_on_contact_message}
            onChange={(e) => setS({ ...s, reopen_on_contact_message: e.target.checked })}
          />
          Reopen a closed conversation when the contact writes
        </label>
        <button type="submit" className="primary">
          Save rules
        </button>
        {saved && !error && <p role="status">Saved.</p>}
        {error && <p role="alert">{error}</p>}
      </form>
    </Section>
  );
}

function Members({ api }: { api: Api }) {
  const [members, setMembers] = useState<Member[]>([]);
  const [invite, setInvite] = useState({ name: "", email: "", role: "agent" as (typeof ROLES)[number] });
  const reload = useCallback(async () => {
    setMembers(ok(await api.GET("/members", { params: { query: { limit: 200 } } })).items);
  }, [api]);
  const { error, run } = useRunner(reload);
  useEffect(() => void reload(), [reload]);
  return (
    <Section title="Members">
      <table>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Email</th>
            <th scope="col">Role</th>
          </tr>
        </thead>
        <tbody>
          {members.map((m) => (
            <tr key={m.id}>
              <td>{m.name || m.id}</td>
              <td>{m.email}</td>
              <td>
                <select
                  aria-label={`Role of ${m.name || m.id}`}
                  value={m.role}
                  onChange={(e) =>
                    run(async () =>
                      ok(
                        await api.PUT("/members/{id}", {
                          params: { path: { id: m.id } },
                          body: { name: m.name, email: m.email, role: e.target.value as (typeof ROLES)[number] },
                        }),
                      ),
                    )
                  }
                >
                  {ROLES.map((r) => (
                    <option key={r}>{r}</option>
                  ))}
                </select>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form
        className="row-form"
        onSubmit={(e) => {
          e.preventDefault();
          void run(async () => {
            ok(await api.POST("/members/invite", { body: invite }));
            setInvite({ name: "", email: "", role: "agent" });
          });
        }}
      >
        <label>
          Name
          <input value={invite.name} onChange={(e) => setInvite({ ...invite, name: e.target.value })} />
        </label>
        <label>
          Email
          <input type="email" value={invite.email} onChange={(e) => setInvite({ ...invite, email: e.target.value })} />
        </label>
        <label>
          Role
          <select value={invite.role} onChange={(e) => setInvite({ ...invite, role: e.target.value as (typeof ROLES)[number] })}>
            {ROLES.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </label>
        <button type="submit">Invite member</button>
      </form>
      {error && <p role="alert">{error}</p>}
    </Section>
  );
}

/** A list of named things with "add" (id and name) and "remove": teams and AI agents. */
function NamedList({
  title,
  noun,
  list,
  put,
  remove,
}: {
  title: string;
  noun: string;
  list: () => Promise<Named[]>;
  put: (id: string, name: string) => Promise<unknown>;
  remove: (id: string) => Promise<unknown>;
}) {
  const [items, setItems] = useState<Named[]>([]);
  const [id, setId] = useState("");
  const [name, setName] = useState("");
  const reload = useCallback(async () => setItems(await list()), [list]);
  const { error, run } = useRunner(reload);
  useEffect(() => void reload(), [reload]);
  return (
    <Section title={title}>
      <ul className="plain">
        {items.map((t) => (
          <li key={t.id}>
            {t.name} <span className="muted">({t.id})</span>{" "}
            <button type="button" className="link" aria-label={`Remove ${noun} ${t.name}`} onClick={() => run(() => remove(t.id))}>
              Remove
            </button>
          </li>
        ))}
      </ul>
      <form
        className="row-form"
        onSubmit={(e) => {
          e.preventDefault();
          void run(async () => {
            await put(id.trim(), name.trim());
            setId("");
            setName("");
          });
        }}
      >
        <label>
          {`New ${noun} id`}
          <input value={id} onChange={(e) => setId(e.target.value)} />
        </label>
        <label>
          {`New ${noun} name`}
          <input value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <button type="submit">{`Add ${noun}`}</button>
      </form>
      {error && <p role="alert">{error}</p>}
    </Section>
  );
}

function Teams({ api }: { api: Api }) {
  const list = useCallback(async () => ok(await api.GET("/teams", { params: { query: { limit: 200 } } })).items, [api]);
  return (
    <NamedList
      title="Teams"
      noun="team"
      list={list}
      put={async (id, name) => ok(await api.PUT("/teams/{id}", { params: { path: { id } }, body: { name, member_ids: [] } }))}
      remove={async (id) => ok(await api.DELETE("/teams/{id}", { params: { path: { id } } }))}
    />
  );
}

function Agents({ api }: { api: Api }) {
  const list = useCallback(async () => ok(await api.GET("/agents", { params: { query: { limit: 200 } } })).items, [api]);
  return (
    <NamedList
      title="AI agents"
      noun="agent"
      list={list}
      put={async (id, name) => ok(await api.PUT("/agents/{id}", { params: { path: { id } }, body: { name } }))}
      remove={async (id) => ok(await api.DELETE("/agents/{id}", { params: { path: { id } } }))}
    />
  );
}

function ApiKeys({ api }: { api: Api }) {
  const [keys, setKeys] = useState<ApiKey[]>([]);
  const [form, setForm] = useState({ name: "", role: "integration" as ApiKey["role"], subject: "" });
  const [secret, setSecret] = useState<string | null>(null);
  const reload = useCallback(async () => {
    setKeys(ok(await api.GET("/api-keys")).items);
  }, [api]);
  const { error, run } = useRunner(reload);
  useEffect(() => void reload(), [reload]);
  return (
    <Section title="API keys">
      <ul className="plain">
        {keys.map((k) => (
          <li key={k.id}>
            {k.name} <span className="muted">({k.role} as {k.subject}; last used {k.last_used_at ?? "never"})</span>{" "}
            <button
              type="button"
              className="link"
              aria-label={`Revoke key ${k.name}`}
              onClick={() => run(async () => ok(await api.DELETE("/api-keys/{id}", { params: { path: { id: k.id } } })))}
            >
              Revoke
            </button>
          </li>
        ))}
      </ul>
      <form
        className="row-form"
        onSubmit={(e) => {
          e.preventDefault();
          void run(async () => {
            const made = ok(await api.POST("/api-keys", { body: form }));
            setSecret(made.secret);
            setForm({ name: "", role: "integration", subject: "" });
          });
        }}
      >
        <label>
          Key name
          <input value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />
        </label>
        <label>
          Acts as
          <select value={form.role} onChange={(e) => setForm({ ...form, role: e.target.value as ApiKey["role"] })}>
            <option value="integration">integration</option>
            <option value="ai_agent">ai_agent</option>
          </select>
        </label>
        <label>
          Subject (the agent's or integration's id)
          <input value={form.subject} onChange={(e) => setForm({ ...form, subject: e.target.value })} />
        </label>
        <button type="submit">Create key</button>
      </form>
      {secret && (
        <p role="status" className="secret">
          The key's secret, shown this once: <code>{secret}</code>
        </p>
      )}
      {error && <p role="alert">{error}</p>}
    </Section>
  );
}

/** The sending fields each kind takes (all or none: none means the channel only receives). */
const CHANNEL_FIELDS: Record<Channel["kind"], { key: string; label: string }[]> = {
  twilio: [
    { key: "account_sid", label: "Account SID" },
    { key: "from", label: "From number" },
    { key: "messaging_service_sid", label: "Messaging service SID (instead of From)" },
  ],
  whatsapp: [
    { key: "phone_number_id", label: "Phone number id" },
    { key: "access_token", label: "Access token" },
    { key: "verify_token", label: "Verify token" },
  ],
  telegram: [{ key: "bot_token", label: "Bot token" }],
  generic: [{ key: "outbound_url", label: "Outbound URL" }],
};

function Channels({ api, apiBase }: { api: Api; apiBase: string }) {
  const [channels, setChannels] = useState<Channel[]>([]);
  const [form, setForm] = useState<Record<string, string>>({ id: "", kind: "generic", name: "", secret: "" });
  const reload = useCallback(async () => {
    setChannels(ok(await api.GET("/channels")).items);
  }, [api]);
  const { error, run } = useRunner(reload);
  useEffect(() => void reload(), [reload]);
  const origin = apiBase || window.location.origin;
  const kind = (form.kind ?? "generic") as Channel["kind"];
  const set = (key: string, value: string) => setForm({ ...form, [key]: value });
  return (
    <Section title="Channels">
      <table>
        <thead>
          <tr>
            <th scope="col">Channel</th>
            <th scope="col">Kind</th>
            <th scope="col">Webhook URL (paste into the provider)</th>
            <th scope="col">Sends</th>
          </tr>
        </thead>
        <tbody>
          {channels.map((c) => (
            <tr key={c.id}>
              <td>{c.name}</td>
              <td>{c.kind}</td>
              <td>
                <code>{`${origin}${c.webhook_path}`}</code>
              </td>
              <td>{c.can_send ? "yes" : "receives only"}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <form
        className="row-form"
        onSubmit={(e) => {
          e.preventDefault();
          const body: Record<string, string | null> = { kind, name: form.name ?? "", secret: form.secret ?? "" };
          for (const f of CHANNEL_FIELDS[kind]) {
            const v = (form[f.key] ?? "").trim();
            if (v) body[f.key] = v;
          }
          void run(async () => {
            ok(
              await api.PUT("/channels/{id}", {
                params: { path: { id: (form.id ?? "").trim() } },
                body: body as components["schemas"]["ChannelInput"],
              }),
            );
            setForm({ id: "", kind, name: "", secret: "" });
          });
        }}
      >
        <label>
          Channel id
          <input value={form.id ?? ""} onChange={(e) => set("id", e.target.value)} />
        </label>
        <label>
          Kind
          <select value={kind} onChange={(e) => setForm({ id: form.id ?? "", name: form.name ?? "", secret: form.secret ?? "", kind: e.target.value })}>
            <option value="generic">generic</option>
            <option value="twilio">twilio</option>
            <option value="whatsapp">whatsapp</option>
            <option value="telegram">telegram</option>
          </select>
        </label>
        <label>
          Channel name
          <input value={form.name ?? ""} onChange={(e) => set("name", e.target.value)} />
        </label>
        <label>
          Signing secret
          <input type="password" autoComplete="off" value={form.secret ?? ""} onChange={(e) => set("secret", e.target.value)} />
        </label>
        {CHANNEL_FIELDS[kind].map((f) => (
          <label key={f.key}>
            {f.label}
            <input value={form[f.key] ?? ""} onChange={(e) => set(f.key, e.target.value)} />
          </label>
        ))}
        <button type="submit">Save channel</button>
      </form>
      <p className="muted">
        Secrets and sending credentials are kept by the server and never shown again; saving a channel replaces them.
      </p>
      {error && <p role="alert">{error}</p>}
    </Section>
  );
}

function OutgoingWebhooks({ api }: { api: Api }) {
  const [endpoints, setEndpoints] = useState<Endpoint[]>([]);
  const [form, setForm] = useState({ id: "", url: "", events: "*" });
  const [secret, setSecret] = useState<string | null>(null);
  const [deliveries, setDeliveries] = useState<{ id: string; items: Delivery[] } | null>(null);
  const reload = useCallback(async () => {
    setEndpoints(ok(await api.GET("/outgoing-webhooks")).items);
  }, [api]);
  const { error, run } = useRunner(reload);
  useEffect(() => void reload(), [reload]);
  return (
    <Section title="Outgoing webhooks">
      <ul className="plain">
        {endpoints.map((e) => (
          <li key={e.id}>
            <code>{e.url}</code> <span className="muted">({e.events.join(", ")}{e.enabled ? "" : `; off: ${e.disabled_reason ?? "by an admin"}`})</span>{" "}
            <button
              type="button"
              className="link"
              onClick={() =>
                run(async () =>
                  setDeliveries({
                    id: e.id,
                    items: ok(await api.GET("/outgoing-webhooks/{id}/deliveries", { params: { path: { id: e.id } } })).items,
                  }),
                )
              }
            >
              {`Deliveries of ${e.id}`}
            </button>
            <button
              type="button"
              className="link"
              aria-label={`Delete endpoint ${e.id}`}
              onClick={() => run(async () => ok(await api.DELETE("/outgoing-webhooks/{id}", { params: { path: { id: e.id } } })))}
            >
              Delete
            </button>
          </li>
        ))}
      </ul>
      {deliveries && (
        <table aria-label={`Deliveries of ${deliveries.id}`}>
          <thead>
            <tr>
              <th scope="col">Event</th>
              <th scope="col">Status</th>
              <th scope="col">Attempts</th>
              <th scope="col">Last answer</th>
            </tr>
          </thead>
          <tbody>
            {deliveries.items.map((d) => (
              <tr key={d.event_id}>
                <td>{d.type}</td>
                <td>{d.status}</td>
                <td>{d.attempts}</td>
                <td>{d.last_response_status ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form
        className="row-form"
        onSubmit={(ev) => {
          ev.preventDefault();
          void run(async () => {
            const events = form.events
              .split(",")
              .map((x) => x.trim())
              .filter(Boolean) as Endpoint["events"];
            const made = ok(
              await api.PUT("/outgoing-webhooks/{id}", {
                params: { path: { id: form.id.trim() } },
                body: { url: form.url.trim(), events, enabled: true },
              }),
            );
            setSecret(made.secret ?? null);
            setForm({ id: "", url: "", events: "*" });
          });
        }}
      >
        <label>
          Endpoint id
          <input value={form.id} onChange={(e) => setForm({ ...form, id: e.target.value })} />
        </label>
        <label>
          Endpoint URL
          <input type="url" value={form.url} onChange={(e) => setForm({ ...form, url: e.target.value })} />
        </label>
        <label>
          Events (comma separated)
          <input value={form.events} onChange={(e) => setForm({ ...form, events: e.target.value })} />
        </label>
        <button type="submit">Add endpoint</button>
      </form>
      {secret && (
        <p role="status" className="secret">
          The endpoint's signing secret, shown this once: <code>{secret}</code>
        </p>
      )}
      {error && <p role="alert">{error}</p>}
    </Section>
  );
}
