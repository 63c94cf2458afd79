import { describe, expect, it } from "vitest";
import { InvalidValueError } from "./errors.js";
import { checkMaintenanceWindow, evaluateMaintenanceWindow } from "./maintenance-window.js";
import type { MaintenanceWindow } from "./schema-types.js";

type Day = MaintenanceWindow["days"][number];

function window(
  days: [Day, ...Day[]],
  start: string,
  end: string,
  timezone = "UTC",
): MaintenanceWindow {
  return { days, start, end, timezone };
}

interface Case {
  scenario: string;
  window: MaintenanceWindow;
  at: string;
  open: boolean;
  /** closesAt when open, opensAt when closed. */
  next?: string;
}

function expectState({ window: w, at, open, next }: Case): void {
  const state = evaluateMaintenanceWindow(w, new Date(at));
  expect(state.open).toBe(open);
  const changesAt = open ? state.closesAt : state.opensAt;
  expect(changesAt?.toISOString()).toBe(
    next === undefined ? undefined : new Date(next).toISOString(),
  );
  expect(open ? state.opensAt : state.closesAt).toBeUndefined();
}

// 2024-03-16 is a Saturday; 2024-03-15 a Friday.
const WEEKEND_UTC = window(["saturday", "sunday"], "02:00", "06:00");
const SATURDAY_NIGHT_UTC = window(["saturday"], "22:00", "02:00");

const CASES: Case[] = [
  {
    scenario: "is open at the exact start instant (start is inclusive)",
    window: WEEKEND_UTC,
    at: "2024-03-16T02:00:00Z",
    open: true,
    next: "2024-03-16T06:00:00Z",
  },
  {
    scenario: "is open the last millisecond before the end",
    window: WEEKEND_UTC,
    at: "2024-03-16T05:59:59.999Z",
    open: true,
    next: "2024-03-16T06:00:00Z",
  },
  {
    scenario: "is closed at the exact end instant (end is exclusive) and opens the next listed day",
    window: WEEKEND_UTC,
    at: "2024-03-16T06:00:00Z",
    open: false,
    next: "2024-03-17T02:00:00Z",
  },
  {
    scenario: "is closed the last millisecond before the start",
    window: WEEKEND_UTC,
    at: "2024-03-16T01:59:59.999Z",
    open: false,
    next: "2024-03-16T02:00:00Z",
  },
  {
    scenario: "is closed on a day not listed and opens on the next listed one",
    window: WEEKEND_UTC,
    at: "2024-03-15T12:00:00Z",
    open: false,
    next: "2024-03-16T02:00:00Z",
  },
  {
    scenario: "after the last listed day of the week, opens the following week",
    window: WEEKEND_UTC,
    at: "2024-03-17T07:00:00Z",
    open: false,
    next: "2024-03-23T02:00:00Z",
  },
  {
    scenario: "finds the next opening a full week ahead",
    window: window(["saturday"], "02:00", "06:00"),
    at: "2024-03-16T06:00:00Z",
    open: false,
    next: "2024-03-23T02:00:00Z",
  },
  {
    scenario: "crossing midnight: is open before midnight on the start day",
    window: SATURDAY_NIGHT_UTC,
    at: "2024-03-16T23:00:00Z",
    open: true,
    next: "2024-03-17T02:00:00Z",
  },
  {
    scenario: "crossing midnight: opens at the start instant on the start day",
    window: SATURDAY_NIGHT_UTC,
    at: "2024-03-16T22:00:00Z",
    open: true,
    next: "2024-03-17T02:00:00Z",
  },
  {
    scenario: "crossing midnight: is still open after midnight on the following day",
    window: SATURDAY_NIGHT_UTC,
    at: "2024-03-17T01:00:00Z",
    open: true,
    next: "2024-03-17T02:00:00Z",
  },
  {
    scenario: "crossing midnight: closes at the end instant on the following day",
    window: SATURDAY_NIGHT_UTC,
    at: "2024-03-17T02:00:00Z",
    open: false,
    next: "2024-03-23T22:00:00Z",
  },
  {
    scenario: "crossing midnight: is closed after midnight when the day before is not listed",
    window: SATURDAY_NIGHT_UTC,
    at: "2024-03-16T01:00:00Z",
    open: false,
    next: "2024-03-16T22:00:00Z",
  },
  {
    scenario: '"24:00" keeps the window open until midnight at the end of the start day',
    window: window(["friday"], "20:00", "24:00"),
    at: "2024-03-15T23:59:59.999Z",
    open: true,
    next: "2024-03-16T00:00:00Z",
  },
  {
    scenario: '"24:00" closes at that midnight',
    window: window(["friday"], "20:00", "24:00"),
    at: "2024-03-16T00:00:00Z",
    open: false,
    next: "2024-03-22T20:00:00Z",
  },
  {
    scenario: "whole days that follow each other close at the end of the last one",
    window: window(["saturday", "sunday"], "00:00", "24:00"),
    at: "2024-03-16T12:00:00Z",
    open: true,
    next: "2024-03-18T00:00:00Z",
  },
  {
    scenario: "a window open all day every day never closes",
    window: window(
      ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"],
      "00:00",
      "24:00",
    ),
    at: "2024-03-16T12:00:00Z",
    open: true,
  },
  {
    scenario: "a disabled window is always open",
    window: { ...WEEKEND_UTC, enabled: false },
    at: "2024-03-13T12:00:00Z",
    open: true,
  },
  {
    scenario: "an explicitly enabled window is evaluated",
    window: { ...WEEKEND_UTC, enabled: true },
    at: "2024-03-13T12:00:00Z",
    open: false,
    next: "2024-03-16T02:00:00Z",
  },
  // Europe/Berlin: CET (+01:00) in winter, CEST (+02:00) from 2024-03-31 02:00 to 2024-10-27 03:00.
  {
    scenario: "Europe/Berlin in winter: 22:00 local is 21:00 UTC",
    window: window(["saturday"], "22:00", "02:00", "Europe/Berlin"),
    at: "2024-01-13T21:00:00Z",
    open: true,
    next: "2024-01-14T01:00:00Z",
  },
  {
    scenario: "Europe/Berlin in summer: 22:00 local is 20:00 UTC",
    window: window(["saturday"], "22:00", "02:00", "Europe/Berlin"),
    at: "2024-07-13T19:59:59.999Z",
    open: false,
    next: "2024-07-13T20:00:00Z",
  },
  {
    scenario: "Europe/Berlin spring forward: a 02:00 start that does not exist opens at 03:00 CEST",
    window: window(["sunday"], "02:00", "04:00", "Europe/Berlin"),
    at: "2024-03-31T00:59:59.999Z",
    open: false,
    next: "2024-03-31T01:00:00Z",
  },
  {
    scenario: "Europe/Berlin spring forward: the shortened window closes at 04:00 CEST",
    window: window(["sunday"], "02:00", "04:00", "Europe/Berlin"),
    at: "2024-03-31T01:00:00Z",
    open: true,
    next: "2024-03-31T02:00:00Z",
  },
  {
    scenario:
      "Europe/Berlin spring forward: a 02:30 start opens at the first instant after the gap, not 03:30",
    window: window(["sunday"], "02:30", "05:00", "Europe/Berlin"),
    at: "2024-03-31T00:00:00Z",
    open: false,
    next: "2024-03-31T01:00:00Z",
  },
  {
    scenario: "Europe/Berlin fall back: a 02:00 start uses the first 02:00 (CEST)",
    window: window(["sunday"], "02:00", "04:00", "Europe/Berlin"),
    at: "2024-10-26T23:59:59.999Z",
    open: false,
    next: "2024-10-27T00:00:00Z",
  },
  {
    scenario: "Europe/Berlin fall back: the lengthened window stays open through the repeated hour",
    window: window(["sunday"], "02:00", "04:00", "Europe/Berlin"),
    at: "2024-10-27T01:30:00Z",
    open: true,
    next: "2024-10-27T03:00:00Z",
  },
  {
    scenario: "Europe/Berlin fall back: a 02:30 start uses the first 02:30 (CEST)",
    window: window(["sunday"], "02:30", "03:30", "Europe/Berlin"),
    at: "2024-10-27T00:29:59.999Z",
    open: false,
    next: "2024-10-27T00:30:00Z",
  },
  // America/New_York: EST (-05:00) and EDT (-04:00), changing 2024-03-10 and 2024-11-03 at 02:00.
  {
    scenario: "America/New_York on a summer weekday: 09:00–17:00 EDT",
    window: window(["monday"], "09:00", "17:00", "America/New_York"),
    at: "2024-07-15T13:00:00Z",
    open: true,
    next: "2024-07-15T21:00:00Z",
  },
  {
    scenario: "America/New_York in winter: 09:00 EST is 14:00 UTC",
    window: window(["monday"], "09:00", "17:00", "America/New_York"),
    at: "2024-01-15T13:00:00Z",
    open: false,
    next: "2024-01-15T14:00:00Z",
  },
  {
    scenario: "America/New_York spring forward: 01:00–03:00 lasts one hour",
    window: window(["sunday"], "01:00", "03:00", "America/New_York"),
    at: "2024-03-10T06:00:00Z",
    open: true,
    next: "2024-03-10T07:00:00Z",
  },
  {
    scenario: "America/New_York fall back: 01:00–03:00 opens at the first 01:00 (EDT)",
    window: window(["sunday"], "01:00", "03:00", "America/New_York"),
    at: "2024-11-03T04:59:59.999Z",
    open: false,
    next: "2024-11-03T05:00:00Z",
  },
  {
    scenario: "America/New_York fall back: 01:00–03:00 lasts three hours",
    window: window(["sunday"], "01:00", "03:00", "America/New_York"),
    at: "2024-11-03T07:59:59.999Z",
    open: true,
    next: "2024-11-03T08:00:00Z",
  },
  {
    scenario: "America/New_York: a window that starts Saturday evening is open early Sunday UTC",
    window: window(["saturday"], "20:00", "23:00", "America/New_York"),
    at: "2024-07-14T02:00:00Z",
    open: true,
    next: "2024-07-14T03:00:00Z",
  },
];

describe("evaluateMaintenanceWindow", () => {
  for (const testCase of CASES) {
    it(testCase.scenario, () => expectState(testCase));
  }

  it("refuses to evaluate an invalid window", () => {
    expect(() =>
      evaluateMaintenanceWindow(window(["sunday"], "02:00", "02:00"), new Date("2024-03-16")),
    ).toThrow(InvalidValueError);
  });

  it("refuses to evaluate at an invalid date", () => {
    expect(() => evaluateMaintenanceWindow(WEEKEND_UTC, new Date("not a date"))).toThrow(
      /invalid date/,
    );
  });
});

describe("checkMaintenanceWindow", () => {
  it.each([
    ["a weekend window", window(["saturday", "sunday"], "02:00", "06:00")],
    ["a window crossing midnight", window(["saturday"], "22:00", "02:00", "Europe/Berlin")],
    ["a whole day", window(["monday"], "00:00", "24:00", "America/New_York")],
    ["the last minute of a day", window(["monday"], "23:59", "24:00")],
  ])("accepts %s", (_, w) => {
    expect(() => checkMaintenanceWindow(w)).not.toThrow();
  });

  it.each([
    [
      "an unknown timezone, naming it and giving examples",
      window(["sunday"], "02:00", "06:00", "Mars/Olympus_Mons"),
      /timezone "Mars\/Olympus_Mons" is not a known IANA timezone: use a name such as "UTC" or "Europe\/Berlin"/,
    ],
    [
      "a window that starts when it ends, pointing to 00:00–24:00",
      window(["sunday"], "02:00", "02:00"),
      /starts and ends at "02:00".*"00:00"–"24:00"/,
    ],
    ["00:00–00:00 as a 24-hour window", window(["sunday"], "00:00", "00:00"), /"00:00"–"24:00"/],
    [
      "a time without a leading zero",
      window(["sunday"], "2:00", "06:00"),
      /start "2:00" is not a time: use "HH:MM"/,
    ],
    ["an hour past 23", window(["sunday"], "25:00", "06:00"), /start "25:00" is not a time/],
    [
      "a minute past 59",
      window(["sunday"], "02:00", "06:60"),
      /end "06:60" is not a time.*"24:00"/,
    ],
    ["a time without a colon", window(["sunday"], "0200", "0600"), /start "0200" is not a time/],
    ["a start of 24:00", window(["sunday"], "24:00", "02:00"), /start cannot be "24:00".*"00:00"/],
    ["an end past 24:00", window(["sunday"], "02:00", "24:01"), /end "24:01" is not a time/],
    [
      "a capitalised day",
      window(["Saturday" as Day], "02:00", "06:00"),
      /day "Saturday" is not a weekday: use monday, tuesday/,
    ],
    [
      "an empty list of days",
      { days: [], start: "02:00", end: "06:00", timezone: "UTC" } as unknown as MaintenanceWindow,
      /at least one day/,
    ],
  ])("refuses %s", (_, w, message) => {
    expect(() => checkMaintenanceWindow(w)).toThrow(InvalidValueError);
    expect(() => checkMaintenanceWindow(w)).toThrow(message);
  });
});
