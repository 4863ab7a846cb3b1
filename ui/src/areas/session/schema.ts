import { z } from "zod";
import { enteredPassword, NAME_MAX, newPassword, reason, requiredText, textKey, username } from "../../forms";

/** Sign-in: both fields typed (the core alone knows whether they match). */
export const loginSchema = z.object({
  username: z.string().refine((v) => v.trim() !== "", reason("required")),
  password: enteredPassword(),
});
export type LoginValues = z.infer<typeof loginSchema>;

/** Unlocking the idle-locked session. */
export const unlockSchema = z.object({ password: enteredPassword() });
export type UnlockValues = z.infer<typeof unlockSchema>;

const BRANCH_CODE_MAX = 12;

/**
 * First run: the branch and its first admin (the core checks the admin as any new user). Its
 * language is the interface language, not a field.
 */
export const setupSchema = z
  .object({
    branch_name: requiredText(NAME_MAX),
    branch_code: requiredText(BRANCH_CODE_MAX).refine((v) => /^[A-Za-z0-9]*$/.test(v.trim()), reason("code_format")),
    admin_username: username(),
    admin_display_name: requiredText(NAME_MAX),
    admin_password: newPassword(),
    password_confirm: z.string(),
  })
  .superRefine((v, ctx) => {
    if (v.password_confirm !== v.admin_password) {
      ctx.addIssue({ code: "custom", path: ["password_confirm"], message: textKey("setup.passwordMismatch") });
    }
  });
export type SetupValues = z.infer<typeof setupSchema>;

const TICKET_PREFIX = "dentpro-enrol:";
const LABEL_MAX = 100;

/**
 * Joining a branch: the ticket's shape (`dentpro-enrol:<code>@<host:port>#<fingerprint>`); the
 * core checks the fingerprint and the branch server the code.
 */
export const joinSchema = z.object({
  ticket: z.string().refine((v) => /^[^@#]+@[^@#]+#.+$/.test(v.trim().slice(TICKET_PREFIX.length)) && v.trim().startsWith(TICKET_PREFIX), reason("ticket_format")),
  label: requiredText(LABEL_MAX),
});
export type JoinValues = z.infer<typeof joinSchema>;
