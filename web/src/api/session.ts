// Who is signed in. The access token lives only in this module (CONTRACT: memory only);
// the refresh token is the HttpOnly cookie the login function sets, which this code never
// sees. Components subscribe to changes with useSession().
import { useEffect, useState } from "preact/hooks";
import type { components } from "./schema";

export type User = components["schemas"]["User"];
export type Role = components["schemas"]["Role"];
type RefreshedSession = components["schemas"]["RefreshedSession"];

/** What is known of the signed-in account: all of User, from the login's or the refresh's
 * answer; only what the access token says (its subject, role and, in tokens that carry it,
 * whether the address is verified) if a refresh answer lacks the User (an older API). */
export interface Me {
  id: string;
  user_type: Role;
  name?: string;
  email?: string;
  created_at?: string;
  /** Unknown (undefined) when neither the login answer nor the token said. */
  email_verified?: boolean;
}

export interface SessionState {
  /** false until the first silent refresh has answered. */
  ready: boolean;
  me: Me | null;
}

let accessToken: string | null = null;
let state: SessionState = { ready: false, me: null };
const listeners = new Set<(s: SessionState) => void>();

function publish(next: SessionState): void {
  state = next;
  for (const l of listeners) l(state);
}

export function getAccessToken(): string | null {
  return accessToken;
}

export function sessionState(): SessionState {
  return state;
}

export function useSession(): SessionState {
  const [s, set] = useState(state);
  useEffect(() => {
    listeners.add(set);
    set(state);
    return () => {
      listeners.delete(set);
    };
  }, []);
  return s;
}

/** After a login: `user` is the answer's User (a Me, whichever fields the API gives). */
export function signedIn(token: string, user: Me): void {
  accessToken = token;
  publish({ ready: true, me: { ...user } });
}

export function signedOut(): void {
  accessToken = null;
  publish({ ready: true, me: null });
}

export interface Claims {
  sub: string;
  role: Role;
  email_verified?: boolean;
}

/** The claims the site reads from an access token: `sub`, `role` and `email_verified`
 * (shared/infra tokens; older tokens lack the last). */
export function claims(token: string): Claims | null {
  try {
    const part = token.split(".")[1];
    if (!part) return null;
    const json = atob(part.replace(/-/g, "+").replace(/_/g, "/"));
    const c = JSON.parse(json) as { sub?: unknown; role?: unknown; email_verified?: unknown };
    if (typeof c.sub !== "string" || (c.role !== "runner" && c.role !== "organizer")) return null;
    return typeof c.email_verified === "boolean"
      ? { sub: c.sub, role: c.role, email_verified: c.email_verified }
      : { sub: c.sub, role: c.role };
  } catch {
    return null;
  }
}

// The cookie-based endpoints need this header (CONTRACT: CSRF).
export const CSRF_HEADER = { "X-Requested-With": "mrmrthon" } as const;

let refreshing: Promise<boolean> | null = null;

/** The refresh under way (the start-up one, or one a 401 started), if any. */
export function refreshInFlight(): Promise<boolean> | null {
  return refreshing;
}

/**
 * Trades the refresh cookie for a new access token and the signed-in User; true when it
 * worked. Concurrent callers share one request: the refresh token is single use, and two
 * requests with the same one would revoke the family. Any failure (no cookie yet, 4xx,
 * network) is "signed out". Plain fetch, not the API client: its 401 handling would
 * refresh again.
 */
export function refresh(): Promise<boolean> {
  refreshing ??= (async () => {
    try {
      const res = await fetch("/api/auth/refresh", {
        method: "POST",
        credentials: "same-origin",
        headers: CSRF_HEADER,
      });
      if (!res.ok) {
        signedOut();
        return false;
      }
      const session = (await res.json()) as Partial<RefreshedSession> & { access_token: string };
      const c = claims(session.access_token);
      if (!c) {
        signedOut();
        return false;
      }
      accessToken = session.access_token;
      // The answer says who is signed in (a reloaded page knows the name and email again).
      if (session.user?.id === c.sub) {
        publish({ ready: true, me: { ...session.user } });
        return true;
      }
      // An answer without the User: keep what a login told us about the same account, with
      // the claims; the token's email_verified is newer than the login's.
      const known = state.me?.id === c.sub ? state.me : null;
      const me: Me = { ...known, id: c.sub, user_type: c.role };
      if (c.email_verified !== undefined) me.email_verified = c.email_verified;
      publish({ ready: true, me });
      return true;
    } catch {
      signedOut();
      return false;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

/** Revokes the refresh cookie's family, then forgets the token whatever the answer. */
export async function logout(): Promise<void> {
  try {
    await fetch("/api/auth/logout", {
      method: "POST",
      credentials: "same-origin",
      headers: CSRF_HEADER,
    });
  } finally {
    signedOut();
  }
}
