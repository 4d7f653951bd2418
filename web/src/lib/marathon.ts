import type { components } from "../api/schema";
import type { Messages } from "../i18n/ko";

export type Marathon = components["schemas"]["Marathon"];
export type Course = Marathon["course"];

export function courseLabel(t: Messages, course: Course, distance_m: number, number: (n: number) => string): string {
  if (typeof course === "string") return t.courses[course];
  return `${number(distance_m / 1000)} km`;
}

export function placesLeft(m: Marathon): number {
  return Math.max(0, m.capacity - m.entry_count);
}

/** Why a runner cannot register now, or null when they can. */
export function registrationBlock(m: Marathon, now = Date.now()): "cancelled" | "closed" | "full" | null {
  if (m.status === "cancelled") return "cancelled";
  if (Date.parse(m.registration_closes_at) <= now) return "closed";
  if (placesLeft(m) === 0) return "full";
  return null;
}
