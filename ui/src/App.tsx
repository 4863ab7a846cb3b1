import { useCallback, useEffect, useState } from "react";
import { commands, type AppStatus, type BranchInfo, type CoreError, type Result, type SessionInfo } from "./bindings";
import { QueryClientProvider } from "@tanstack/react-query";
import { call, setSessionProblemListener } from "./api";
import { newQueryClient } from "./query";
import { applyLanguage } from "./i18n";
import { useLang } from "./i18n/useLang";
import { errorText } from "./errors";
import { Setup } from "./areas/session/Setup";
import { JoinWaiting } from "./areas/session/JoinBranch";
import { Login } from "./areas/session/Login";
import { Lock } from "./areas/session/Lock";
import { Shell } from "./shell/Shell";
import { FailedPage } from "./components/common";

type Phase =
  | { kind: "booting" }
  | { kind: "bootFailed"; error: CoreError }
  | { kind: "setup" }
  /** Enrolled with a branch server; the branch and its staff arrive with the first sync. */
  | { kind: "joining" }
  | { kind: "login"; notice: CoreError | null }
  | { kind: "app"; session: SessionInfo; locked: boolean };

/**
 * The app. Its query cache serves the forms before sign-in (setup, join, sign-in, lock: each a
 * mutation); the signed-in shell brings a cache of its own per session.
 */
export function App() {
  const [queryClient] = useState(newQueryClient);
  return (
    <QueryClientProvider client={queryClient}>
      <Phases />
    </QueryClientProvider>
  );
}

function Phases() {
  const { t, lang } = useLang();
  const [phase, setPhase] = useState<Phase>({ kind: "booting" });
  const [branch, setBranch] = useState<BranchInfo | null>(null);
  const [loginKey, setLoginKey] = useState(0);

  /** Takes the core's answer to "where are we": not set up, signed out, signed in, or locked. */
  const applyStatus = useCallback((r: Result<AppStatus, CoreError>) => {
    if (r.status === "error") {
      setPhase({ kind: "bootFailed", error: r.error });
      return;
    }
    const s = r.data;
    setBranch(s.branch);
    if (!s.setup_done) {
      // Not set up: a fresh desk, or one that joined a branch and awaits its first sync.
      void call(() => commands.syncStatus()).then((sr) =>
        setPhase(sr.status === "ok" && sr.data.enrolled ? { kind: "joining" } : { kind: "setup" }),
      );
    } else if (s.session) {
      applyLanguage(s.session.language);
      setPhase({ kind: "app", session: s.session, locked: s.locked });
    } else setPhase({ kind: "login", notice: null });
  }, []);

  const boot = useCallback(() => {
    void call(() => commands.appStatus()).then(applyStatus);
  }, [applyStatus]);

  useEffect(() => {
    void call(() => commands.appStatus()).then(applyStatus);
  }, [applyStatus]);

  // Any command may report that the session went idle (lock screen) or is gone (sign in again).
  useEffect(() => {
    setSessionProblemListener((error) => {
      setPhase((p) => {
        if (p.kind !== "app") return p;
        if (error.code === "session_locked") return p.locked ? p : { ...p, locked: true };
        return { kind: "login", notice: error };
      });
    });
    return () => setSessionProblemListener(null);
  }, []);

  const signedIn = useCallback(async (session: SessionInfo) => {
    applyLanguage(session.language);
    const r = await call(() => commands.appStatus());
    if (r.status === "ok") setBranch(r.data.branch);
    setPhase({ kind: "app", session, locked: false });
  }, []);

  const toLogin = useCallback((notice: CoreError | null) => {
    setLoginKey((k) => k + 1);
    setPhase({ kind: "login", notice });
  }, []);

  const signOut = useCallback(async () => {
    await call(() => commands.logout());
    toLogin(null);
  }, [toLogin]);

  const joined = useCallback((b: BranchInfo | null) => {
    setBranch(b);
    toLogin(null);
  }, [toLogin]);

  const updateSession = useCallback((session: SessionInfo) => {
    setPhase((p) => (p.kind === "app" ? { ...p, session } : p));
  }, []);

  switch (phase.kind) {
    case "booting":
      return (
        <div className="center-page" data-testid="booting">
          {t("app.loading")}
        </div>
      );
    case "bootFailed":
      return (
        <FailedPage
          title={t("app.startFailed")}
          message={errorText(t, phase.error, lang)}
          testId="error-banner"
          onRetry={boot}
          retryTestId="boot-retry"
        />
      );
    case "setup":
      return <Setup onDone={(s) => void signedIn(s)} onJoined={() => setPhase({ kind: "joining" })} />;
    case "joining":
      return <JoinWaiting onReady={joined} />;
    case "login":
      return <Login key={loginKey} branchName={branch?.name ?? null} notice={phase.notice} onDone={(s) => void signedIn(s)} />;
    case "app":
      return (
        <>
          <Shell
            key={phase.session.session_id}
            session={phase.session}
            branch={branch}
            locked={phase.locked}
            updateSession={updateSession}
            signOut={signOut}
          />
          {phase.locked ? (
            <Lock
              displayName={phase.session.display_name}
              onUnlocked={(s) => {
                applyLanguage(s.language);
                setPhase({ kind: "app", session: s, locked: false });
              }}
              onSignOut={() => void signOut()}
              onSessionEnded={(why) => toLogin(why)}
            />
          ) : null}
        </>
      );
  }
}
