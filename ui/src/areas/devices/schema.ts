import { z } from "zod";
import { requiredText } from "../../forms";

// The core's bound on a reason an admin gives (crates/core/src/text.rs: REASON_MAX).
export const REVOKE_REASON_MAX = 500;

/** Revoking a workstation: the reason is required, and kept in the record. */
export const revokeSchema = z.object({ reason: requiredText(REVOKE_REASON_MAX) });
export type RevokeValues = z.infer<typeof revokeSchema>;
