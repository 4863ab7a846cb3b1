/** Query keys of the settings area: saving a setting replaces `all` with the core's answer. */
export const settingsKeys = {
  all: ["settings"] as const,
};
