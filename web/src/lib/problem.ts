// RFC 9457 problems as the API answers them, and the failures that never reach it.
import type { components } from "../api/schema";

export type FieldError = components["schemas"]["FieldError"];

export interface Problem {
  status: number;
  title: string;
  detail?: string;
  type?: string;
  errors: FieldError[];
}

/**
 * Reads an error body. A problem+json body is taken as it is; anything else (a gateway's
 * `{"message":"Not Found"}`, HTML, nothing) becomes a problem with the status as title,
 * so the page always has something to show.
 */
export function toProblem(status: number, body: unknown, fallbackTitle: string): Problem {
  if (body && typeof body === "object") {
    const b = body as Record<string, unknown>;
    if (typeof b.title === "string") {
      const errors = Array.isArray(b.errors)
        ? b.errors.filter(
            (e): e is FieldError =>
              !!e && typeof e === "object" && typeof e.field === "string" && typeof e.message === "string",
          )
        : [];
      return {
        status: typeof b.status === "number" ? b.status : status,
        title: b.title,
        detail: typeof b.detail === "string" ? b.detail : undefined,
        type: typeof b.type === "string" ? b.type : undefined,
        errors,
      };
    }
    if (typeof b.message === "string") {
      return { status, title: fallbackTitle, detail: b.message, errors: [] };
    }
  }
  return { status, title: fallbackTitle, errors: [] };
}

/** Field name -> its messages, for showing each next to its input. */
export function fieldErrors(problem: Problem | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of problem?.errors ?? []) {
    out[e.field] = out[e.field] ? `${out[e.field]} ${e.message}` : e.message;
  }
  return out;
}
