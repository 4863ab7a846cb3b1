import { createContext, useContext } from "react";
import type { Action, BranchInfo, CoreError, SessionInfo } from "./bindings";

export type AppContextValue = {
  session: SessionInfo;
  branch: BranchInfo | null;
  can: (action: Action) => boolean;
  /** Replaces the session info (after set_language, unlock, settings change). */
  updateSession: (session: SessionInfo) => void;
  /** Shows an error in the global banner (session problems are handled elsewhere). */
  showError: (error: CoreError | null) => void;
  signOut: () => Promise<void>;
};

export const AppContext = createContext<AppContextValue | null>(null);

export function useApp(): AppContextValue {
  const ctx = useContext(AppContext);
  if (!ctx) throw new Error("useApp outside the signed-in shell");
  return ctx;
}
