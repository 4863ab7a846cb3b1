import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { commands, type Action, type BranchInfo, type CoreError, type Language, type SessionInfo } from "../bindings";
import { call, isSessionProblem } from "../api";
import { AppContext, type AppContextValue } from "../context";
import { errorText } from "../errors";
import { applyLanguage } from "../i18n";
import { useLang } from "../i18n/useLang";
import { LanguageSwitch } from "../components/LanguageSwitch";
import { SyncIndicator } from "../components/SyncIndicator";
import { PatientsScreen } from "./Patients";
import { UsersScreen } from "./Users";
import { DevicesScreen } from "./Devices";
import { AuditScreen } from "./Audit";
import { SettingsScreen } from "./Settings";
import { AboutScreen } from "./About";

type Section = "patients" | "users" | "devices" | "audit" | "settings" | "about";

const NAV: { section: Section; needs: Action | null }[] = [
  { section: "patients", needs: "patient_search" },
  { section: "users", needs: "user_list" },
  { section: "devices", needs: "device_list" },
  { section: "audit", needs: "audit_view" },
  { section: "settings", needs: "settings_edit" },
  { section: "about", needs: null },
];

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
  const visibleNav = NAV.filter((n) => n.needs === null || can(n.needs));
  const [section, setSection] = useState<Section>(() => visibleNav[0]?.section ?? "about");
  const [navKey, setNavKey] = useState(0);
  const [error, setError] = useState<CoreError | null>(null);
  const [switching, setSwitching] = useState(false);

  const showError = useCallback((e: CoreError | null) => {
    if (e && isSessionProblem(e)) return; // the lock / sign-in screen takes over
    setError(e);
  }, []);

  const go = (s: Section) => {
    setError(null);
    setSection(s);
    setNavKey((k) => k + 1); // clicking the current item returns to its start page
  };

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

  const current: Section = visibleNav.some((n) => n.section === section) ? section : "about";

  return (
    <AppContext.Provider value={ctx}>
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
        <div className="body">
          <nav className="sidebar" aria-label={t("nav.label")}>
            <ul>
              {visibleNav.map((n) => (
                <li key={n.section}>
                  <button
                    type="button"
                    data-testid={`nav-${n.section}`}
                    className={current === n.section ? "nav-item active" : "nav-item"}
                    aria-current={current === n.section ? "page" : undefined}
                    onClick={() => go(n.section)}
                  >
                    {t(`nav.${n.section}`)}
                  </button>
                </li>
              ))}
            </ul>
          </nav>
          <main className="content">
            {error ? (
              <div className="message message-error banner" role="alert" data-testid="error-banner" data-code={error.code}>
                <span>{errorText(t, error, lang)}</span>
                <button type="button" className="link-button" data-testid="error-dismiss" onClick={() => setError(null)}>
                  {t("common.dismiss")}
                </button>
              </div>
            ) : null}
            {current === "patients" ? <PatientsScreen key={navKey} /> : null}
            {current === "users" ? <UsersScreen key={navKey} /> : null}
            {current === "devices" ? <DevicesScreen key={navKey} /> : null}
            {current === "audit" ? <AuditScreen key={navKey} /> : null}
            {current === "settings" ? <SettingsScreen key={navKey} /> : null}
            {current === "about" ? <AboutScreen key={navKey} /> : null}
          </main>
        </div>
      </div>
    </AppContext.Provider>
  );
}
