// The typed API client: paths and bodies come from the OpenAPI document (schema.d.ts is
// generated at build time), so an API change that breaks a page breaks the build.
import createClient from "openapi-fetch";
import { PUBLIC_OPERATIONS } from "./operations";
import type { paths } from "./schema";
import { getAccessToken, refresh, refreshInFlight } from "./session";

const API_PREFIX = "/api";

// The document's path templates as patterns: a parameter is one path segment.
const publicRoutes = PUBLIC_OPERATIONS.map(([method, template]) => {
  const pattern = template
    .split(/\{[^}]+\}/)
    .map((literal) => literal.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
    .join("[^/]+");
  return { method, path: new RegExp(`^${pattern}$`) };
});

/** Whether a request to the API needs the access token: every operation the OpenAPI
 * document does not mark public (a public one is answered alike with or without it). */
export function needsToken(request: Request): boolean {
  const path = new URL(request.url).pathname;
  if (!path.startsWith(`${API_PREFIX}/`)) return true;
  const apiPath = path.slice(API_PREFIX.length);
  return !publicRoutes.some((r) => r.method === request.method && r.path.test(apiPath));
}

/**
 * Adds the access token; on a 401 refreshes once (through the cookie) and retries once
 * with the new token. The request is cloned before it is sent, since sending consumes
 * its body.
 *
 * A call that needs a token waits for a refresh under way (above all the start-up one),
 * so it goes with the token that refresh brings rather than none. A public call never
 * waits: a page of results asks for the marathon and its ranking at once.
 */
export async function authFetch(request: Request): Promise<Response> {
  const pending = refreshInFlight();
  if (pending && needsToken(request)) await pending;
  const token = getAccessToken();
  if (token) request.headers.set("Authorization", `Bearer ${token}`);
  const retry = token ? request.clone() : null;
  const response = await fetch(request);
  if (response.status !== 401 || !retry) return response;
  // Another call may have refreshed meanwhile: then its token is tried, not a new refresh.
  if (getAccessToken() === token && !(await refresh())) return response;
  const current = getAccessToken();
  if (!current) return response;
  retry.headers.set("Authorization", `Bearer ${current}`);
  return fetch(retry);
}

export const api = createClient<paths>({
  baseUrl: API_PREFIX,
  credentials: "same-origin",
  fetch: authFetch,
});

/** An ETag for If-Match from a version number, as the API gives them out ("3"). */
export function etag(version: number): string {
  return `"${version}"`;
}
