import { z } from "zod";
import type { Language } from "../../bindings";
import { ROLES } from "../../errors";
import { NAME_MAX, newPassword, reason, requiredText, username } from "../../forms";

/** Query keys of the users area: every account change invalidates `all`. */
export const userKeys = {
  all: ["users"] as const,
  terminals: (userId: string) => ["users", "terminals", userId] as const,
};

// The core's rules for a new account (crates/core: accounts): the form says the same as the
// core would; the core still checks everything (and alone knows a username is taken).
export const newUserSchema = z.object({
  username: username(),
  display_name: requiredText(NAME_MAX),
  role: z.enum(ROLES, { error: reason("required") }),
  // The password is not trimmed: it is checked as typed.
  password: newPassword(),
  language: z.enum(["en", "ar"] satisfies Language[], { error: reason("required") }),
});

/** An admin sets a user's new password. */
export const resetPasswordSchema = z.object({ password: newPassword() });
export type ResetPasswordValues = z.infer<typeof resetPasswordSchema>;

/** The cashier terminals (device ids) a cashier may work at; none is a valid answer. */
export const terminalsSchema = z.object({ terminals: z.array(z.string()) });
export type TerminalsValues = z.infer<typeof terminalsSchema>;
