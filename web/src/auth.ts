// Who is signed in. On the dev server a token is chosen on the sign-in page
// (a demo identity, or one pasted); in AWS the identity provider's hosted
// sign-in, authorization code with PKCE, through oidc-client-ts, with
// silent renewal.

import { UserManager, WebStorageStateStore } from "oidc-client-ts";
import type { Config } from "./config";

const DEV_TOKEN_KEY = "inbox.dev-token";

/** A token's claims, as far as the page needs them (it is verified by the API). */
export interface Claims {
  sub: string;
  workspace_id: string;
  role: string;
  name?: string;
  exp?: number;
}

export function claimsOf(token: string): Claims | null {
  const payload = token.split(".")[1];
  if (!payload) return null;
  try {
    const json = atob(payload.replace(/-/g, "+").replace(/_/g, "/"));
    const c = JSON.parse(json) as Record<string, unknown>;
    const ws = (c["workspace_id"] ?? c["custom:workspace_id"]) as string | undefined;
    const role = (c["role"] ?? c["custom:role"]) as string | undefined;
    if (typeof c["sub"] !== "string" || !ws || !role) return null;
    return {
      sub: c["sub"] as string,
      workspace_id: ws,
      role,
      name: typeof c["name"] === "string" ? (c["name"] as string) : undefined,
      exp: typeof c["exp"] === "number" ? (c["exp"] as number) : undefined,
    };
  } catch {
    return null;
  }
}

export interface Session {
  token: string;
  claims: Claims;
}

let oidc: UserManager | null = null;

function manager(config: Config): UserManager | null {
  if (config.auth.kind !== "oidc") return null;
  if (!oidc) {
    const redirect = config.auth.redirect_uri ?? window.location.origin + window.location.pathname;
    oidc = new UserManager({
      authority: config.auth.authority,
      client_id: config.auth.client_id,
      redirect_uri: redirect,
      post_logout_redirect_uri: redirect,
      response_type: "code",
      scope: config.auth.scope ?? "openid email profile",
      automaticSilentRenew: true,
      userStore: new WebStorageStateStore({ store: window.sessionStorage }),
    });
  }
  return oidc;
}

/** The current session, finishing a sign-in redirect when there is one. */
export async function currentSession(config: Config): Promise<Session | null> {
  const m = manager(config);
  if (m) {
    const params = new URLSearchParams(window.location.search);
    if (params.has("code") && params.has("state")) {
      await m.signinRedirectCallback();
      window.history.replaceState({}, "", window.location.pathname + window.location.hash);
    }
    const user = await m.getUser();
    // The ID token carries the workspace and role claims the API reads.
    const token = user?.id_token;
    const claims = token ? claimsOf(token) : null;
    return token && claims && !user?.expired ? { token, claims } : null;
  }
  const token = window.sessionStorage.getItem(DEV_TOKEN_KEY);
  const claims = token ? claimsOf(token) : null;
  if (!token || !claims || (claims.exp && claims.exp * 1000 < Date.now())) return null;
  return { token, claims };
}

/** Starts the identity provider's sign-in (AWS). */
export async function signInWithProvider(config: Config): Promise<void> {
  await manager(config)?.signinRedirect();
}

/** Signs in with a dev token; null when it is not one the page can read. */
export function signInWithToken(token: string): Session | null {
  const claims = claimsOf(token.trim());
  if (!claims) return null;
  window.sessionStorage.setItem(DEV_TOKEN_KEY, token.trim());
  return { token: token.trim(), claims };
}

export async function signOut(config: Config): Promise<void> {
  window.sessionStorage.removeItem(DEV_TOKEN_KEY);
  const m = manager(config);
  if (m) await m.removeUser();
}

/** Calls `listener` with each renewed token (AWS). */
export function onRenewed(config: Config, listener: (s: Session) => void): () => void {
  const m = manager(config);
  if (!m) return () => {};
  const handle = (user: { id_token?: string }) => {
    const token = user.id_token;
    const claims = token ? claimsOf(token) : null;
    if (token && claims) listener({ token, claims });
  };
  m.events.addUserLoaded(handle);
  return () => m.events.removeUserLoaded(handle);
}
