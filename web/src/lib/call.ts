// One shape for every API answer a page handles: the data, or a problem to show.
import { type Problem, toProblem } from "./problem";

export type Outcome<T> = { ok: true; data: T; response: Response } | { ok: false; problem: Problem };

/** Awaits an openapi-fetch call; a network failure is a problem with status 0. The title
 * of a body that is not problem+json is left empty for the page to word (Alert does). */
export async function call<T>(
  pending: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<Outcome<T>> {
  try {
    const { data, error, response } = await pending;
    if (response.ok) return { ok: true, data: data as T, response };
    return { ok: false, problem: toProblem(response.status, error, "") };
  } catch {
    return { ok: false, problem: { status: 0, title: "", errors: [] } };
  }
}
