// The page: sign-in until there is a session, then the inbox.

import { useEffect, useMemo, useState } from "react";
import { makeApi } from "./api";
import { currentSession, onRenewed, signOut, type Session } from "./auth";
import { loadConfig, liveUrl, type Config } from "./config";
import { Inbox } from "./Inbox";
import { LiveFeed } from "./live";
import { SignIn } from "./SignIn";

export function App() {
  const [config, setConfig] = useState<Config | null>(null);
  const [session, setSession] = useState<Session | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [ready, setReady] = useState(false);

  useEffect(() => {
    loadConfig()
      .then(async (c) => {
        setConfig(c);
        setSession(await currentSession(c));
        setReady(true);
      })
      .catch((e: unknown) => setFailure(String(e)));
  }, []);

  useEffect(() => (config ? onRenewed(config, setSession) : undefined), [config]);

  if (failure) {
    return (
      <main className="centered">
        <p role="alert">The inbox could not start: {failure}</p>
      </main>
    );
  }
  if (!config || !ready) {
    return <main className="centered" aria-busy="true" />;
  }
  if (!session) {
    return <SignIn config={config} onSignedIn={setSession} />;
  }
  return (
    <SignedIn
      config={config}
      session={session}
      onSignOut={async () => {
        await signOut(config);
        setSession(null);
      }}
    />
  );
}

function SignedIn({ config, session, onSignOut }: { config: Config; session: Session; onSignOut: () => void }) {
  // The latest token, for requests and reconnects, without rebuilding either.
  const tokenRef = useMemo(() => ({ current: session.token }), []);
  tokenRef.current = session.token;
  const api = useMemo(() => makeApi(config.api_url, () => tokenRef.current), [config, tokenRef]);
  const live = useMemo(() => new LiveFeed(() => liveUrl(config, tokenRef.current)), [config, tokenRef]);
  useEffect(() => {
    live.start();
    return () => live.stop();
  }, [live]);
  return <Inbox api={api} apiBase={config.api_url} live={live} session={session} onSignOut={onSignOut} />;
}
