// The AWS sign-in path of the page, against a loopback OpenID provider that
// stands in for the Cognito hosted UI: authorization code with PKCE
// (S256 checked), the ID token used for the API, signing out. The provider
// signs its ID tokens as the dev server's tokens are signed, so the API
// behind the page accepts them; the page is told to use it by its config.json.

import { expect, test } from "@playwright/test";
import { createHash, createHmac, randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

const SECRET = process.env.INBOX_WEB_JWT_SECRET ?? "dev-secret";
const CLIENT = "inbox-web-test";

interface Pending {
  challenge: string;
  nonce: string;
  redirect: string;
}

/** A minimal OpenID provider: discovery, authorize (signs Bob in at once), token. */
function provider(): Promise<{ url: string; server: Server; exchanged: () => number }> {
  const codes = new Map<string, Pending>();
  let exchanged = 0;
  const server = createServer((req, res) => {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const url = new URL(req.url ?? "/", base);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json", "access-control-allow-origin": "*" });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === "/.well-known/openid-configuration") {
      return json(200, {
        issuer: base,
        authorization_endpoint: `${base}/authorize`,
        token_endpoint: `${base}/token`,
        jwks_uri: `${base}/jwks`,
        end_session_endpoint: `${base}/logout`,
        response_types_supported: ["code"],
        code_challenge_methods_supported: ["S256"],
      });
    }
    if (url.pathname === "/authorize") {
      const q = url.searchParams;
      if (q.get("client_id") !== CLIENT || q.get("code_challenge_method") !== "S256" || !q.get("code_challenge")) {
        return json(400, { error: "invalid_request" });
      }
      const code = randomBytes(16).toString("hex");
      codes.set(code, { challenge: q.get("code_challenge") ?? "", nonce: q.get("nonce") ?? "", redirect: q.get("redirect_uri") ?? "" });
      const back = new URL(q.get("redirect_uri") ?? "");
      back.searchParams.set("code", code);
      back.searchParams.set("state", q.get("state") ?? "");
      res.writeHead(302, { location: back.toString() });
      return res.end();
    }
    if (url.pathname === "/token" && req.method === "POST") {
      let body = "";
      req.on("data", (c) => (body += String(c)));
      req.on("end", () => {
        const form = new URLSearchParams(body);
        const pending = codes.get(form.get("code") ?? "");
        const verifier = form.get("code_verifier") ?? "";
        const challenge = createHash("sha256").update(verifier).digest("base64url");
        if (!pending || pending.challenge !== challenge || form.get("redirect_uri") !== pending.redirect) {
          return json(400, { error: "invalid_grant" });
        }
        codes.delete(form.get("code") ?? "");
        exchanged += 1;
        const now = Math.floor(Date.now() / 1000);
        const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
        const head = b64({ alg: "HS256", typ: "JWT" });
        const claims = b64({
          iss: base, aud: CLIENT, sub: "bob", nonce: pending.nonce, iat: now, exp: now + 3600,
          workspace_id: "demo", role: "agent", name: "Bob Ray",
        });
        const sig = createHmac("sha256", SECRET).update(`${head}.${claims}`).digest("base64url");
        json(200, { id_token: `${head}.${claims}.${sig}`, access_token: "opaque", token_type: "Bearer", expires_in: 3600 });
      });
      return;
    }
    json(404, { error: "not_found" });
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, exchanged: () => exchanged }),
    ),
  );
}

test("the identity provider's sign-in: authorization code with PKCE, then the inbox as that person", async ({ page, baseURL }) => {
  const idp = await provider();
  try {
    await page.route("**/config.json", (route) =>
      route.fulfill({
        contentType: "application/json",
        body: JSON.stringify({
          api_url: "",
          live_url: "",
          auth: { kind: "oidc", authority: idp.url, client_id: CLIENT, redirect_uri: `${baseURL}/` },
        }),
      }),
    );
    await page.goto("/");
    await expect(page.getByRole("button", { name: "Sign in to the demo identities" })).toHaveCount(0);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    // Back from the provider with a code, exchanged once with its verifier.
    await expect(page.getByRole("navigation", { name: "Views" })).toBeVisible();
    await expect(page.getByRole("navigation", { name: "Views" })).toContainText("Bob Ray");
    expect(idp.exchanged()).toBe(1);
    expect(new URL(page.url()).searchParams.has("code"), "the code is not left in the address").toBe(false);
    // The API answers the page with that ID token.
    await page.getByRole("button", { name: "All Conversations" }).click();
    await expect(page.getByRole("region", { name: "Conversations" }).getByRole("listitem").first()).toBeVisible();
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page.getByRole("button", { name: "Sign in", exact: true })).toBeVisible();
  } finally {
    idp.server.close();
  }
});
