// The season picker's choices and the ties of a standings page.

/** The first season the picker offers: the system has no results before it. */
export const FIRST_SEASON = 2020;

/** Seasons to choose from: this year back to FIRST_SEASON, newest first (and `chosen`, if older). */
export function seasonChoices(current: number, chosen?: number): number[] {
  const years: number[] = [];
  for (let y = current; y >= Math.min(FIRST_SEASON, current); y--) years.push(y);
  if (chosen !== undefined && !years.includes(chosen)) years.push(chosen);
  return years;
}

/** `?season=` as the API takes it (a four-digit year, 1900 to 9999); null otherwise. */
export function seasonFromQuery(value: string | undefined): number | null {
  if (value === undefined || !/^\d{4}$/.test(value.trim())) return null;
  const year = Number(value.trim());
  return year >= 1900 ? year : null;
}

/** For each row, whether its rank is shared with a neighbour (a tie), given ranks in order. */
export function tiedRanks(ranks: number[]): boolean[] {
  return ranks.map((rank, i) => ranks[i - 1] === rank || ranks[i + 1] === rank);
}
