import { useCallback } from "react";
import { useNavigate, type NavigateOptions } from "react-router";

/**
 * `navigate`, drawn at once like any other click's state change. react-router draws a
 * navigation in a transition (a frame or more later), and a page that is not there right after
 * its button was clicked surprises people and tests alike.
 */
export function useGo(): (to: string, options?: NavigateOptions) => void {
  const navigate = useNavigate();
  return useCallback((to, options) => void navigate(to, { ...options, flushSync: true }), [navigate]);
}
