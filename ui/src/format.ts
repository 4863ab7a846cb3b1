import type { Language } from "./bindings";

function locale(lang: Language): string {
  // Western digits in both languages: file numbers, phones and dates stay easy to compare.
  return lang === "ar" ? "ar-u-nu-latn" : "en-GB";
}

/** A timestamp (RFC 3339) in local time, e.g. "12 Mar 2025, 14:05". */
export function formatDateTime(iso: string | null | undefined, lang: Language): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(locale(lang), {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    hour12: false,
  }).format(d);
}

/** Full years between a YYYY-MM-DD birth date and `today`; null if unparsable. */
export function ageInYears(dateOfBirth: string, today: Date = new Date()): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(dateOfBirth);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  let age = today.getFullYear() - y;
  const beforeBirthday = today.getMonth() + 1 < mo || (today.getMonth() + 1 === mo && today.getDate() < d);
  if (beforeBirthday) age -= 1;
  return age >= 0 ? age : null;
}

/** Today's local date as YYYY-MM-DD (for date inputs' max). */
export function todayIso(today: Date = new Date()): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${today.getFullYear()}-${p(today.getMonth() + 1)}-${p(today.getDate())}`;
}
