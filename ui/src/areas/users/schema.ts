import { z } from "zod";
import type { Language, Role } from "../../bindings";
import { ROLES } from "../../errors";
import { length, reason } from "../../forms";

/** Query keys of the users area: every account change invalidates `all`. */
export const userKeys = {
  all: ["users"] as const,
  terminals: (userId: string) => ["users", "terminals", userId] as const,
};

// The core's rules for a new account (crates/core: accounts): the form says the same as the
// core would; the core still checks everything (and alone knows a username is taken).
const NAME_MAX = 100;
const MIN_PASSWORD_LEN = 8;
const PASSWORD_MAX = 256;

export const newUserSchema = z.object({
  username: z.string().refine((v) => /^[a-z0-9._-]{3,32}$/.test(v.trim().toLowerCase()), reason("username_format")),
  display_name: z
    .string()
    .refine((v) => length(v) > 0, reason("required"))
    .refine((v) => length(v) <= NAME_MAX, reason("too_long", { max: NAME_MAX })),
  role: z.enum(ROLES as [Role, ...Role[]], { error: reason("required") }),
  // The password is not trimmed: it is checked as typed.
  password: z
    .string()
    .refine((v) => [...v].length >= MIN_PASSWORD_LEN, reason("password_too_short", { min: MIN_PASSWORD_LEN }))
    .refine((v) => [...v].length <= PASSWORD_MAX, reason("too_long", { max: PASSWORD_MAX })),
  language: z.enum(["en", "ar"] satisfies Language[], { error: reason("required") }),
});
