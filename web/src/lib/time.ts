// Finish times and durations as the API speaks them ("H:MM:SS", whole seconds) and the
// pace shown beside a private record.

const HMS = /^\s*(\d{1,2}):([0-5]\d):([0-5]\d)\s*$/;

/** Most the API takes: 96 hours. */
export const MAX_SECONDS = 96 * 3600;

/** "H:MM:SS" (or "MM:SS" as "0:MM:SS" would be) to seconds; null when it is not one. */
export function parseDuration(text: string): number | null {
  const m = HMS.exec(text);
  if (!m) return null;
  const seconds = Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
  return seconds >= 1 && seconds <= MAX_SECONDS ? seconds : null;
}

/** Seconds to "H:MM:SS", the API's own spelling. */
export function formatDuration(total: number): string {
  const s = Math.max(0, Math.round(total));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return `${h}:${pad(m)}:${pad(sec)}`;
}

/** Pace per kilometre as "M:SS" (minutes may exceed 59); null for a zero distance. */
export function pacePerKm(seconds: number, metres: number): string | null {
  if (!(metres > 0) || !(seconds > 0)) return null;
  const perKm = Math.round((seconds * 1000) / metres);
  return `${Math.floor(perKm / 60)}:${pad(perKm % 60)}`;
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** A stored instant ("2027-03-01T00:00:00Z") as the value of a datetime-local input. */
export function toLocalInput(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const y = d.getFullYear();
  return `${y}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A datetime-local value (the browser's zone) as RFC 3339 in UTC; null when empty or bad. */
export function fromLocalInput(value: string): string | null {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString().replace(/\.\d{3}Z$/, "Z");
}
