import { DateTime } from "luxon";

/**
 * An instant as release engineers read it in a check run: "Sat 2024-03-16 02:00 UTC", in the
 * given IANA zone (default UTC) with the zone's abbreviation.
 */
export function formatInstant(at: Date, zone = "UTC"): string {
  const local = DateTime.fromJSDate(at, { zone });
  const text = local.toFormat("ccc yyyy-MM-dd HH:mm");
  const name = zone === "UTC" ? "UTC" : local.toFormat("ZZZZ");
  return `${text} ${name}`;
}

/** A span in hours and minutes for reasons: 47h, 47h 30m, 25m. */
export function formatSpan(ms: number): string {
  const minutes = Math.floor(Math.max(0, ms) / 60_000);
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  if (hours === 0) return `${rest}m`;
  return rest === 0 ? `${hours}h` : `${hours}h ${rest}m`;
}
