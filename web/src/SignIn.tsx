// Signing in. The dev server lists its demo identities (`GET /dev/identities`)
// and takes a pasted token; in AWS it is the identity provider's hosted page.

import { useEffect, useState, type FormEvent } from "react";
import { signInWithProvider, signInWithToken, type Session } from "./auth";
import type { Config } from "./config";

interface Identity {
  name: string;
  role: string;
  token: string;
}

export function SignIn({ config, onSignedIn }: { config: Config; onSignedIn: (s: Session) => void }) {
  const [identities, setIdentities] = useState<Identity[]>([]);
  const [pasted, setPasted] = useState("");
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (config.auth.kind !== "dev") return;
    fetch(`${config.api_url}/dev/identities`)
      .then((r) => (r.ok ? r.json() : { items: [] }))
      .then((body: { items: Identity[] }) => setIdentities(body.items))
      .catch(() => setIdentities([]));
  }, [config]);

  const use = (token: string) => {
    const s = signInWithToken(token);
    if (s) onSignedIn(s);
    else setError("That is not a token the inbox can read.");
  };

  if (config.auth.kind === "oidc") {
    return (
      <main className="centered sign-in">
        <h1>Inbox</h1>
        <button type="button" onClick={() => signInWithProvider(config)}>
          Sign in
        </button>
      </main>
    );
  }
  return (
    <main className="centered sign-in">
      <h1>Sign in to the inbox</h1>
      {identities.length > 0 && (
        <section aria-labelledby="demo-heading">
          <h2 id="demo-heading">Demo identities</h2>
          <ul className="identities">
            {identities.map((i) => (
              <li key={i.token}>
                <button type="button" onClick={() => use(i.token)}>
                  <span className="avatar" aria-hidden="true">
                    {initials(i.name)}
                  </span>
                  <span>{i.name}</span>
                  <span className="muted">{i.role}</span>
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}
      <form
        onSubmit={(e: FormEvent) => {
          e.preventDefault();
          use(pasted);
        }}
      >
        <label htmlFor="token">Token</label>
        <textarea id="token" value={pasted} onChange={(e) => setPasted(e.target.value)} rows={3} />
        <button type="submit">Sign in with token</button>
        {error && <p role="alert">{error}</p>}
      </form>
    </main>
  );
}

export function initials(name: string): string {
  return name
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((w) => w[0]?.toUpperCase() ?? "")
    .join("");
}
