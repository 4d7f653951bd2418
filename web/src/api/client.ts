// The typed API client: paths and bodies come from the OpenAPI document (schema.d.ts is
// generated at build time), so an API change that breaks a page breaks the build.
import createClient from "openapi-fetch";
import type { paths } from "./schema";
import { getAccessToken, refresh } from "./session";

/**
 * Adds the access token; on a 401 refreshes once (through the cookie) and retries once
 * with the new token. The request is cloned before it is sent, since sending consumes
 * its body.
 */
export async function authFetch(request: Request): Promise<Response> {
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
  baseUrl: "/api",
  credentials: "same-origin",
  fetch: authFetch,
});

/** An ETag for If-Match from a version number, as the API gives them out ("3"). */
export function etag(version: number): string {
  return `"${version}"`;
}
