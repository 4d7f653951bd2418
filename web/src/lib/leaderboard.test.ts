import { describe, expect, it } from "vitest";
import { FIRST_SEASON, seasonChoices, seasonFromQuery, tiedRanks } from "./leaderboard";

describe("season choices", () => {
  it("run from this year back to the first season", () => {
    const years = seasonChoices(2026);
    expect(years[0]).toBe(2026);
    expect(years.at(-1)).toBe(FIRST_SEASON);
    expect(years).toHaveLength(2026 - FIRST_SEASON + 1);
  });
  it("keep an older season a link asked for", () => {
    expect(seasonChoices(2026, 1999).at(-1)).toBe(1999);
    expect(seasonChoices(2026, 2024).filter((y) => y === 2024)).toHaveLength(1);
  });
});

describe("season in the address", () => {
  it("is a four-digit year the API takes", () => {
    expect(seasonFromQuery("2026")).toBe(2026);
    expect(seasonFromQuery(" 2025 ")).toBe(2025);
    for (const bad of [undefined, "", "26", "20266", "year", "1899", "2026.0"]) {
      expect(seasonFromQuery(bad), String(bad)).toBeNull();
    }
  });
});

describe("ties", () => {
  it("mark every row that shares its rank", () => {
    expect(tiedRanks([1, 2, 2, 4, 5, 5])).toEqual([false, true, true, false, true, true]);
    expect(tiedRanks([])).toEqual([]);
    expect(tiedRanks([3])).toEqual([false]);
  });
});
