import { describe, expect, it } from "vitest";
import { formatDuration, fromLocalInput, pacePerKm, parseDuration, toLocalInput } from "./time";

describe("durations", () => {
  it("parses H:MM:SS", () => {
    expect(parseDuration("3:12:45")).toBe(3 * 3600 + 12 * 60 + 45);
    expect(parseDuration(" 0:00:01 ")).toBe(1);
    expect(parseDuration("96:00:00")).toBe(96 * 3600);
  });
  it("refuses what the API refuses", () => {
    for (const bad of ["", "3:60:00", "3:12", "96:00:01", "0:00:00", "abc", "1:2:3"]) {
      expect(parseDuration(bad), bad).toBeNull();
    }
  });
  it("formats seconds back the same way", () => {
    expect(formatDuration(11565)).toBe("3:12:45");
    expect(formatDuration(59)).toBe("0:00:59");
    expect(formatDuration(36000)).toBe("10:00:00");
    expect(parseDuration(formatDuration(12345))).toBe(12345);
  });
});

describe("pace", () => {
  it("is minutes and seconds per kilometre", () => {
    expect(pacePerKm(3000, 10000)).toBe("5:00");
    // a full marathon in 3:30:00 -> 4:58.6 per km, rounded to 4:59
    expect(pacePerKm(12600, 42195)).toBe("4:59");
    expect(pacePerKm(7200, 1000)).toBe("120:00");
  });
  it("has none without a distance", () => {
    expect(pacePerKm(100, 0)).toBeNull();
  });
});

describe("datetime-local", () => {
  it("round-trips an instant through the input's local value", () => {
    const iso = "2027-03-01T09:30:00Z";
    expect(fromLocalInput(toLocalInput(iso))).toBe(iso);
    expect(fromLocalInput("")).toBeNull();
  });
});
