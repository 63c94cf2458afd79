/**
 * Maintenance windows: when updates may be applied (DESIGN §1, policy `maintenanceWindow`).
 *
 * `days` are the days a window starts on, in the window's timezone. A window whose end is not
 * after its start crosses midnight and ends on the following day; "24:00" is midnight at the end
 * of the start day. Start is inclusive, end exclusive. Around DST changes, a wall time that does
 * not exist (spring forward) means the first instant after the gap, and a wall time that occurs
 * twice (fall back) means its first occurrence.
 */
import { IANAZone } from "luxon";
import { InvalidValueError } from "./errors.js";
import type { MaintenanceWindow } from "./schema-types.js";

/** A day a window may start on. */
export type Weekday = MaintenanceWindow["days"][number];

/** Whether a window is open at an instant, and when that changes. */
export interface MaintenanceWindowState {
  open: boolean;
  /** When closed: the next instant the window opens. */
  opensAt?: Date;
  /** When open: the instant the current window closes (absent when it never does). */
  closesAt?: Date;
}

/** Monday first, as ISO 8601 numbers its weekdays. */
const WEEKDAYS: readonly Weekday[] = [
  "monday",
  "tuesday",
  "wednesday",
  "thursday",
  "friday",
  "saturday",
  "sunday",
];

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
const END_OF_DAY = "24:00";
/** How far ahead the next opening is searched, in days. */
const SEARCH_DAYS = 8;
const CLOCK_TIME_PATTERN = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** One opening: epoch milliseconds, start inclusive, end exclusive. */
interface Opening {
  start: number;
  end: number;
}

/** A clock time as minutes after midnight; "24:00" (end only) is 1440. */
function readClockTime(field: "start" | "end", text: string): number {
  if (field === "end" && text === END_OF_DAY) return 24 * 60;
  const match = typeof text === "string" ? CLOCK_TIME_PATTERN.exec(text) : null;
  if (match) return Number(match[1]) * 60 + Number(match[2]);
  if (text === END_OF_DAY) {
    throw new InvalidValueError(
      `maintenance window start cannot be "24:00": a window that starts at midnight starts at "00:00"`,
    );
  }
  const endOfDay = field === "end" ? ', or "24:00" for midnight at the end of the day' : "";
  throw new InvalidValueError(
    `maintenance window ${field} ${JSON.stringify(text)} is not a time: use "HH:MM" (24-hour), such as "02:00"${endOfDay}`,
  );
}

function checkTimezone(timezone: string): void {
  if (typeof timezone !== "string" || !IANAZone.isValidZone(timezone)) {
    throw new InvalidValueError(
      `maintenance window timezone ${JSON.stringify(timezone)} is not a known IANA timezone: use a name such as "UTC" or "Europe/Berlin"`,
    );
  }
}

function checkDays(days: readonly string[]): void {
  if (!Array.isArray(days) || days.length === 0) {
    throw new InvalidValueError(
      `maintenance window days must list at least one day, such as ["saturday", "sunday"]`,
    );
  }
  for (const day of days) {
    if (!(WEEKDAYS as readonly string[]).includes(day)) {
      throw new InvalidValueError(
        `maintenance window day ${JSON.stringify(day)} is not a weekday: use ${WEEKDAYS.join(", ")}`,
      );
    }
  }
}

/**
 * Checks that a window can be evaluated: a known IANA timezone, weekday names, "HH:MM" times
 * (end may be "24:00"), and start different from end. Throws InvalidValueError otherwise.
 */
export function checkMaintenanceWindow(window: MaintenanceWindow): void {
  checkTimezone(window.timezone);
  checkDays(window.days);
  const start = readClockTime("start", window.start);
  const end = readClockTime("end", window.end);
  if (start === end) {
    throw new InvalidValueError(
      `maintenance window starts and ends at "${window.start}", so it is never open: a window open all day is "00:00"–"24:00"`,
    );
  }
}

/** The weekday of a local calendar day given as midnight in "wall-clock milliseconds". */
function weekdayOf(localMidnight: number): Weekday {
  const daysSinceEpoch = Math.floor(localMidnight / DAY_MS);
  // 1970-01-01 was a Thursday, index 3 counting from Monday.
  return WEEKDAYS[(((daysSinceEpoch + 3) % 7) + 7) % 7] as Weekday;
}

/** The wall-clock time in `zone` at an instant, as milliseconds on a UTC-like scale. */
function toWallClock(zone: IANAZone, instant: number): number {
  return instant + zone.offset(instant) * MINUTE_MS;
}

/**
 * The first instant whose wall-clock time is at or after `wallClock`, between two bounds that
 * straddle a spring-forward transition: the instant the clocks jumped.
 */
function findEndOfGap(zone: IANAZone, wallClock: number, low: number, high: number): number {
  let before = low;
  let after = high;
  while (after - before > 1) {
    const middle = Math.floor((before + after) / 2);
    if (toWallClock(zone, middle) >= wallClock) after = middle;
    else before = middle;
  }
  return after;
}

/**
 * The instant a wall-clock time happens in `zone`: the first occurrence when clocks fall back,
 * the first instant after the gap when they spring forward over it.
 */
function resolveWallClock(zone: IANAZone, wallClock: number): number {
  const offsets = [wallClock - DAY_MS, wallClock, wallClock + DAY_MS].map((probe) =>
    zone.offset(probe),
  );
  const candidates = offsets
    .map((offset) => wallClock - offset * MINUTE_MS)
    .filter((instant) => toWallClock(zone, instant) === wallClock);
  if (candidates.length > 0) return Math.min(...candidates);
  const largest = Math.max(...offsets) * MINUTE_MS;
  const smallest = Math.min(...offsets) * MINUTE_MS;
  return findEndOfGap(zone, wallClock, wallClock - largest, wallClock - smallest);
}

/** The openings that start from the day before `at` up to SEARCH_DAYS after it, in order. */
function listOpenings(window: MaintenanceWindow, zone: IANAZone, at: number): Opening[] {
  const start = readClockTime("start", window.start);
  const end = readClockTime("end", window.end);
  const endDayOffset = end <= start ? DAY_MS : 0;
  const today = Math.floor(toWallClock(zone, at) / DAY_MS) * DAY_MS;
  const openings: Opening[] = [];
  for (let day = -1; day <= SEARCH_DAYS; day++) {
    const midnight = today + day * DAY_MS;
    if (!window.days.includes(weekdayOf(midnight))) continue;
    const opening = {
      start: resolveWallClock(zone, midnight + start * MINUTE_MS),
      end: resolveWallClock(zone, midnight + endDayOffset + end * MINUTE_MS),
    };
    if (opening.start < opening.end) openings.push(opening);
  }
  return openings;
}

/**
 * When the window open at openings[index] closes, joining openings that follow on without a
 * gap; undefined when it stays open past the search horizon (a window open all week).
 */
function findClosing(openings: readonly Opening[], index: number): number | undefined {
  let closing = (openings[index] as Opening).end;
  for (const next of openings.slice(index + 1)) {
    if (next.start > closing) return closing;
    closing = Math.max(closing, next.end);
  }
  return undefined;
}

/**
 * Whether the window is open at `at`; when open, `closesAt` is when the current window ends,
 * otherwise `opensAt` is the next opening (within 8 days). A disabled window is always open.
 * Throws InvalidValueError for an invalid window or date.
 */
export function evaluateMaintenanceWindow(
  window: MaintenanceWindow,
  at: Date,
): MaintenanceWindowState {
  checkMaintenanceWindow(window);
  const instant = at instanceof Date ? at.getTime() : Number.NaN;
  if (Number.isNaN(instant)) {
    throw new InvalidValueError("cannot evaluate a maintenance window at an invalid date");
  }
  if (window.enabled === false) return { open: true };
  const zone = IANAZone.create(window.timezone);
  const openings = listOpenings(window, zone, instant);
  const current = openings.findIndex(
    (opening) => opening.start <= instant && instant < opening.end,
  );
  if (current >= 0) {
    const closing = findClosing(openings, current);
    return closing === undefined ? { open: true } : { open: true, closesAt: new Date(closing) };
  }
  const next = openings.find((opening) => opening.start > instant);
  return next ? { open: false, opensAt: new Date(next.start) } : { open: false };
}
