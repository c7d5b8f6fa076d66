// Where the page finds the API, live updates and its identity provider:
// `config.json` beside the page (the dev server serves one; in AWS it is
// written at deploy time).

export type AuthConfig =
  | { kind: "dev" }
  | { kind: "oidc"; authority: string; client_id: string; redirect_uri?: string; scope?: string };

export interface Config {
  /** The API's base URL ("" for the page's own origin). */
  api_url: string;
  /** The live updates' WebSocket URL ("" for the page's own origin's /live). */
  live_url: string;
  auth: AuthConfig;
}

export async function loadConfig(): Promise<Config> {
  const resp = await fetch("config.json", { cache: "no-store" });
  if (!resp.ok) {
    throw new Error(`config.json: ${resp.status}`);
  }
  const c = (await resp.json()) as Partial<Config>;
  return {
    api_url: (c.api_url ?? "").replace(/\/$/, ""),
    live_url: c.live_url ?? "",
    auth: c.auth ?? { kind: "dev" },
  };
}

/** The live updates' URL for `token`. */
export function liveUrl(config: Config, token: string): string {
  let base = config.live_url;
  if (!base) {
    const origin = config.api_url || window.location.origin;
    base = origin.replace(/^http/, "ws") + "/live";
  }
  const sep = base.includes("?") ? "&" : "?";
  return `${base}${sep}token=${encodeURIComponent(token)}`;
}
