// What the browser flows share: the dev server's demo identities, arranging
// data through the API as a contact's channel or the AI would (the flows
// themselves act through the page only), and signing in on the page.

import { expect, type Browser, type BrowserContext, type Page } from "@playwright/test";
import axe from "axe-core";
import { createHmac } from "node:crypto";

/** The dev server's JWT secret (scripts/web-tests.sh passes it to both). */
const SECRET = process.env.INBOX_WEB_JWT_SECRET ?? "dev-secret";

/** A dev token of the demo workspace for someone the sign-in does not list (the AI agent). */
export function mint(sub: string, role: string, name: string): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  const head = b64({ alg: "HS256", typ: "JWT" });
  const body = b64({ sub, workspace_id: "demo", role, name, iat: now, exp: now + 3600 });
  const sig = createHmac("sha256", SECRET).update(`${head}.${body}`).digest("base64url");
  return `${head}.${body}.${sig}`;
}

export interface Identity {
  id: string;
  name: string;
  role: string;
  token: string;
}

export async function identities(baseURL: string): Promise<Record<string, Identity>> {
  const r = await fetch(`${baseURL}/dev/identities`);
  const body = (await r.json()) as { items: Identity[] };
  return Object.fromEntries(body.items.map((i) => [i.id, i]));
}

/** One API call as `token`; the JSON answer (fails the test on a refusal). */
export async function call(baseURL: string, token: string, method: string, path: string, body?: unknown) {
  const r = await fetch(`${baseURL}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

/** A contact named `name` (unique per test) and an open conversation with them. */
export async function conversationWith(baseURL: string, token: string, name: string): Promise<string> {
  const contact = await call(baseURL, token, "POST", "/contacts", { name });
  const conv = await call(baseURL, token, "POST", "/conversations", { contact_id: contact["id"] });
  return String(conv["id"]);
}

/** Replaces the demo workspace's settings for one test; returns the ones to put back. */
export async function withSettings(baseURL: string, owner: string, change: (s: Record<string, any>) => void) {
  const before = await call(baseURL, owner, "GET", "/settings");
  const next = JSON.parse(JSON.stringify(before)) as Record<string, any>;
  change(next);
  await call(baseURL, owner, "PUT", "/settings", next);
  return async () => {
    await call(baseURL, owner, "PUT", "/settings", before);
  };
}

export function unique(prefix: string): string {
  return `${prefix} ${Date.now().toString(36)}${Math.floor(Math.random() * 1000)}`;
}

/** A browser context signed in as `who` on the dev sign-in page. */
export async function signedIn(browser: Browser, baseURL: string, who: Identity): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  await page.goto("/");
  await page.getByRole("button", { name: `${who.name} ${who.role}` }).click();
  await expect(page.getByRole("navigation", { name: "Views" })).toBeVisible();
  return { context, page };
}

/** Opens the conversation with `contact` from a view ("All Conversations" unless said). */
export async function openConversation(page: Page, contact: string, view = "All Conversations"): Promise<void> {
  await page.getByRole("navigation", { name: "Views" }).getByRole("button", { name: view, exact: true }).click();
  await page.getByRole("button", { name: new RegExp(contact) }).first().click();
  await expect(page.getByRole("heading", { name: contact })).toBeVisible();
}

/** axe-core's serious and critical violations on the page as it is now. */
export async function seriousViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: axe.source });
  const results = await page.evaluate(async () => {
    const r = await (window as unknown as { axe: typeof axe }).axe.run(document);
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help }));
  });
  return results
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}, ${v.nodes} nodes): ${v.help}`);
}

/** Whether the page is wider than its viewport (a layout break). */
export async function overflowsHorizontally(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
}
