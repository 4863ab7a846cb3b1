import { z } from "zod";
import { reason } from "../../forms";

// The core's range (crates/core/src/settings/rules.rs).
export const IDLE_LOCK_MIN = 1;
export const IDLE_LOCK_MAX = 240;

/** The settings form, as typed: the idle limit is a whole number of minutes in range. */
export const settingsSchema = z.object({
  idle_lock_minutes: z.string().refine((v) => {
    const n = Number(v.trim());
    return v.trim() !== "" && Number.isInteger(n) && n >= IDLE_LOCK_MIN && n <= IDLE_LOCK_MAX;
  }, reason("out_of_range", { min: IDLE_LOCK_MIN, max: IDLE_LOCK_MAX })),
});
export type SettingsValues = z.infer<typeof settingsSchema>;
