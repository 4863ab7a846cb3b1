import { useEffect } from "react";
import { QueryClient, useQuery, type QueryKey, type UseQueryOptions } from "@tanstack/react-query";
import type { CoreError, Result } from "./bindings";
import { call } from "./api";
import { useApp } from "./context";

/**
 * The cache of command results for one signed-in session (the shell makes a new one per
 * session, so one user never sees another's cached rows). Commands are not retried and not
 * re-run on window focus: a read may be an audited act (opening a patient file records
 * `patient.viewed`), so it runs when a screen asks for it and when a mutation invalidates it.
 */
export function newQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: { retry: false, refetchOnWindowFocus: false, refetchOnReconnect: false },
      mutations: { retry: false },
    },
  });
}

/** A command's data; its refusal is thrown as the `CoreError` (what TanStack Query expects). */
export async function run<T>(command: () => Promise<Result<T, CoreError>>): Promise<T> {
  const r = await call(command);
  if (r.status === "error") throw r.error;
  return r.data;
}

type Options<T> = Omit<UseQueryOptions<T, CoreError, T, QueryKey>, "queryKey" | "queryFn">;

/** `useQuery` over one command; a refusal goes to the shell's error banner. */
export function useCommandQuery<T>(queryKey: QueryKey, command: () => Promise<Result<T, CoreError>>, options: Options<T> = {}) {
  const { showError } = useApp();
  const q = useQuery<T, CoreError, T, QueryKey>({ queryKey, queryFn: () => run(command), ...options });
  useEffect(() => {
    if (q.error) showError(q.error);
  }, [q.error, showError]);
  return q;
}
