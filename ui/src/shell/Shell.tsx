import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState } from "react";
import { flushSync } from "react-dom";
import { createMemoryRouter, Navigate, Outlet, RouterProvider, useLocation, type RouteObject } from "react-router";
import { useGo } from "../navigation";
import { QueryClientProvider } from "@tanstack/react-query";
import { commands, type Action, type BranchInfo, type CoreError, type Language, type SessionInfo } from "../bindings";
import { call, isSessionProblem } from "../api";
import { AppContext, type AppContextValue, useApp } from "../context";
import { errorText } from "../errors";
import { applyLanguage } from "../i18n";
import { useLang } from "../i18n/useLang";
import { newQueryClient } from "../query";
import { LanguageSwitch } from "../components/LanguageSwitch";
import { SyncIndicator } from "../components/SyncIndicator";
import { AreaLoadError, loadAreas, type LoadedArea } from "../areas";
import { FailedPage } from "../components/common";

/** Activity is reported to the core at most this often. */
const HEARTBEAT_EVERY_MS = 30_000;
const IDLE_CHECK_EVERY_MS = 15_000;
const ACTIVITY_EVENTS = ["pointerdown", "pointermove", "keydown", "wheel", "touchstart"] as const;

type Props = {
  session: SessionInfo;
  branch: BranchInfo | null;
  locked: boolean;
  updateSession: (s: SessionInfo) => void;
  signOut: () => Promise<void>;
};

export function Shell({ session, branch, locked, updateSession, signOut }: Props) {
  const { t, lang } = useLang();
  const can = useCallback((a: Action) => session.allowed_actions.includes(a), [session.allowed_actions]);
  const [error, setError] = useState<CoreError | null>(null);
  // One cache and one router per session (the shell is keyed by the session): a new sign-in
  // starts on its first area with nothing cached from the previous user. The role, and so the
  // areas, do not change within a session. A memory history: the webview has no address bar.
  const [queryClient] = useState(newQueryClient);
  // The session's areas are loaded first (a few kB each, from the app itself), and the shell
  // is drawn then: a nav click draws its page at once, as the WebDriver tests and people expect.
  const [router, setRouter] = useState<ReturnType<typeof createMemoryRouter> | null>(null);
  // Loaded once: the role does not change within a session (a language switch brings a new
  // session info, not a new router).
  const [allowed] = useState(session.allowed_actions);
  // An area's chunk that does not load (a damaged install) is said, with a retry, instead of
  // leaving the window blank; `attempt` counts the retries.
  const [loadFailed, setLoadFailed] = useState<{ area: string | null; detail: string } | null>(null);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let live = true;
    loadAreas(allowed).then(
      (areas) => {
        if (live) setRouter(createMemoryRouter(areaRoutes(areas), { initialEntries: [homeOf(areas)] }));
      },
      (e: unknown) => {
        if (live) setLoadFailed({ area: e instanceof AreaLoadError ? e.area : null, detail: e instanceof Error ? e.message : String(e) });
      },
    );
    return () => {
      live = false;
    };
  }, [allowed, attempt]);
  const [switching, setSwitching] = useState(false);

  const showError = useCallback((e: CoreError | null) => {
    if (e && isSessionProblem(e)) return; // the lock / sign-in screen takes over
    setError(e);
  }, []);

  const switchLanguage = async (l: Language) => {
    if (l === lang) return;
    const previous = lang;
    applyLanguage(l);
    setSwitching(true);
    const r = await call(() => commands.setLanguage(l));
    setSwitching(false);
    if (r.status === "ok") {
      updateSession(r.data);
      applyLanguage(r.data.language);
    } else {
      applyLanguage(previous);
      showError(r.error);
    }
  };

  // ---- activity heartbeat and idle lock ----
  const lastActivity = useRef(0);
  const lastBeat = useRef(0);
  const idleMinutes = session.idle_lock_minutes;
  useEffect(() => {
    if (locked) return;
    const start = Date.now();
    lastActivity.current = start;
    lastBeat.current = start;
    const onActivity = () => {
      const now = Date.now();
      lastActivity.current = now;
      if (now - lastBeat.current >= HEARTBEAT_EVERY_MS) {
        lastBeat.current = now;
        void call(() => commands.heartbeat());
      }
    };
    // No activity for longer than the idle limit: ask the core, which then locks the session
    // (and answers session_locked, which brings up the lock screen).
    const idleCheck = window.setInterval(() => {
      const now = Date.now();
      if (now - lastActivity.current > idleMinutes * 60_000 + 5_000) {
        lastActivity.current = now;
        lastBeat.current = now;
        void call(() => commands.heartbeat());
      }
    }, IDLE_CHECK_EVERY_MS);
    for (const ev of ACTIVITY_EVENTS) window.addEventListener(ev, onActivity, { passive: true });
    return () => {
      window.clearInterval(idleCheck);
      for (const ev of ACTIVITY_EVENTS) window.removeEventListener(ev, onActivity);
    };
  }, [locked, idleMinutes]);

  const ctx = useMemo<AppContextValue>(
    () => ({ session, branch, can, updateSession, showError, signOut }),
    [session, branch, can, updateSession, showError, signOut],
  );

  if (loadFailed) {
    return (
      <FailedPage
        title={t("app.areaFailed")}
        message={
          <>
            <p>{t("app.areaFailedHint", { area: loadFailed.area ? t(`nav.${loadFailed.area}`) : "" })}</p>
            <p className="muted" dir="ltr" data-testid="area-load-detail">
              {loadFailed.detail}
            </p>
          </>
        }
        testId="area-load-error"
        onRetry={() => {
          setLoadFailed(null);
          setAttempt((a) => a + 1);
        }}
        retryTestId="area-load-retry"
      >
        <button type="button" className="btn btn-ghost" data-testid="logout" onClick={() => void signOut()}>
          {t("header.signOut")}
        </button>
      </FailedPage>
    );
  }
  // The header and the nav appear together, once the areas are there.
  if (!router) return null;
  return (
    <AppContext.Provider value={ctx}>
      <QueryClientProvider client={queryClient}>
      <BannerContext.Provider value={error}>
      <div className="shell" hidden={locked} aria-hidden={locked}>
        <header className="topbar">
          <div className="brand">
            <span className="brand-mark" aria-hidden="true">
              ⚕
            </span>
            <span className="brand-name">{t("app.name")}</span>
            {branch ? (
              <span className="branch-name" data-testid="branch-name" title={branch.code}>
                {branch.name}
              </span>
            ) : null}
          </div>
          <div className="topbar-end">
            <SyncIndicator />
            <div className="user-badge">
              <span className="user-name" data-testid="current-user">
                {session.display_name}
              </span>
              <span className="role-tag" data-testid="current-role" data-role={session.role}>
                {t(`roles.${session.role}`)}
              </span>
            </div>
            <LanguageSwitch value={lang} onChange={(l) => void switchLanguage(l)} disabled={switching} />
            <button type="button" className="btn btn-ghost" data-testid="logout" onClick={() => void signOut()}>
              {t("header.signOut")}
            </button>
          </div>
        </header>
        {/* flushSync: a navigation can be drawn at once (see useGo). */}
        <RouterProvider router={router} flushSync={drawNow} />
      </div>
      </BannerContext.Provider>
      </QueryClientProvider>
    </AppContext.Provider>
  );
}

/** The error the banner shows (set through the app context's `showError`). */
const BannerContext = createContext<CoreError | null>(null);

/** The shell's routes: each visible area under `/<id>`; anything else goes to the first one. */
/** The first visible area's start page: where a session starts. */
function homeOf(areas: LoadedArea[]): string {
  return `/${areas[0]?.id ?? "about"}`;
}

function areaRoutes(areas: LoadedArea[]): RouteObject[] {
  const home = homeOf(areas);
  return [
    {
      path: "/",
      element: <AreaLayout areas={areas} />,
      children: [
        { index: true, element: <Navigate to={home} replace /> },
        ...areas.map((a) => ({ ...a.route, path: a.id }) as RouteObject),
        { path: "*", element: <Navigate to={home} replace /> },
      ],
    },
  ];
}

/** The nav (from the visible areas), the error banner and the current area's page. */
function AreaLayout({ areas }: { areas: LoadedArea[] }) {
  const { t, lang } = useLang();
  const { showError } = useApp();
  const error = useContext(BannerContext);
  const navigate = useGo();
  const { pathname } = useLocation();
  const current = pathname.split("/")[1];
  // Clicking a nav item, even the current one, starts its area afresh (search box empty).
  const [visit, setVisit] = useState(0);
  const go = (a: LoadedArea) => {
    showError(null);
    setVisit((v) => v + 1);
    navigate(`/${a.id}`);
  };
  return (
    <div className="body">
      <nav className="sidebar" aria-label={t("nav.label")}>
        <ul>
          {areas.map((a) => (
            <li key={a.id}>
              <button
                type="button"
                data-testid={`nav-${a.id}`}
                className={current === a.id ? "nav-item active" : "nav-item"}
                aria-current={current === a.id ? "page" : undefined}
                onClick={() => go(a)}
              >
                {t(`nav.${a.id}`)}
              </button>
            </li>
          ))}
        </ul>
      </nav>
      <main className="content">
        {error ? (
          <div className="message message-error banner" role="alert" data-testid="error-banner" data-code={error.code}>
            <span>{errorText(t, error, lang)}</span>
            <button type="button" className="link-button" data-testid="error-dismiss" onClick={() => showError(null)}>
              {t("common.dismiss")}
            </button>
          </div>
        ) : null}
        <Outlet key={visit} />
      </main>
    </div>
  );
}

/** react-dom's flushSync in the shape RouterProvider takes. */
function drawNow(fn: () => unknown): undefined {
  flushSync(fn);
}
