import { afterEach, describe, expect, it, vi } from "vitest";
import { authFetch, needsToken } from "./client";
import { getAccessToken, refresh, sessionState, signedIn, signedOut } from "./session";

/** An unsigned JWT with the two claims the site reads; the site never verifies tokens. */
function token(sub: string, role: string, more: object = {}): string {
  const part = (o: object) => btoa(JSON.stringify(o)).replace(/=+$/, "");
  return `${part({ alg: "none" })}.${part({ sub, role, ...more })}.sig`;
}

const user = { id: "U1", email: "a@example.com", name: "Kim", user_type: "runner" as const, created_at: "2026-01-01T00:00:00Z" };

afterEach(() => {
  vi.unstubAllGlobals();
  signedOut();
});

describe("a 401 from an API call", () => {
  it("refreshes once through the cookie, then retries once with the new token", async () => {
    signedIn(token("U1", "runner"), user);
    const fresh = token("U1", "runner") + "2";
    const calls: { url: string; auth: string | null; csrf: string | null }[] = [];
    vi.stubGlobal(
      "fetch",
      vi.fn(async (input: Request | string, init?: RequestInit) => {
        const req = typeof input === "string" ? new Request(`http://site${input}`, init) : input;
        calls.push({ url: req.url, auth: req.headers.get("authorization"), csrf: req.headers.get("x-requested-with") });
        if (req.url.endsWith("/api/auth/refresh")) {
          return Response.json({ access_token: fresh, refresh_token: "r", token_type: "Bearer", expires_in: 900 });
        }
        return req.headers.get("authorization") === `Bearer ${fresh}`
          ? Response.json({ total: 1 })
          : new Response(null, { status: 401 });
      }),
    );
    // Two calls at once: one refresh between them (a refresh token is single use).
    const [a, b] = await Promise.all([
      authFetch(new Request("http://site/api/me/points")),
      authFetch(new Request("http://site/api/me/entries")),
    ]);
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    const refreshes = calls.filter((c) => c.url.endsWith("/api/auth/refresh"));
    expect(refreshes).toHaveLength(1);
    expect(refreshes[0]?.csrf).toBe("mrmrthon");
    expect(getAccessToken()).toBe(fresh);
    // What the login said about the account is kept when the token is for the same one.
    expect(sessionState().me?.name).toBe("Kim");
  });

  it("is signed out when the refresh fails, and the 401 is what the page gets", async () => {
    signedIn(token("U1", "runner"), user);
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => new Response(JSON.stringify({ title: "Unauthorized", status: 401 }), { status: 401 })),
    );
    const res = await authFetch(new Request("http://site/api/me/points"));
    expect(res.status).toBe(401);
    expect(getAccessToken()).toBeNull();
    expect(sessionState()).toEqual({ ready: true, me: null });
  });

  it("is not retried without a token (nothing to refresh)", async () => {
    const fetch = vi.fn(async () => new Response(null, { status: 401 }));
    vi.stubGlobal("fetch", fetch);
    const res = await authFetch(new Request("http://site/api/me/points"));
    expect(res.status).toBe(401);
    expect(fetch).toHaveBeenCalledTimes(1);
  });
});

describe("the silent refresh on start", () => {
  it("restores the account from the answer's User, sending the CSRF header and no body", async () => {
    let sent: Request | null = null;
    const organizer = { ...user, id: "O7", user_type: "organizer" as const, email_verified: true };
    vi.stubGlobal(
      "fetch",
      vi.fn(async (input: string, init?: RequestInit) => {
        sent = new Request(`http://site${input}`, init);
        return Response.json({
          access_token: token("O7", "organizer"),
          refresh_token: "r",
          token_type: "Bearer",
          expires_in: 900,
          user: organizer,
        });
      }),
    );
    expect(await refresh()).toBe(true);
    expect(sent!.method).toBe("POST");
    expect(sent!.headers.get("x-requested-with")).toBe("mrmrthon");
    expect(await sent!.text()).toBe("");
    // After a reload /account shows the name and email again.
    expect(sessionState()).toEqual({ ready: true, me: organizer });
    expect(getAccessToken()).toBe(token("O7", "organizer"));
  });

  it("without a User in the answer (an older API), restores the account from the token's claims", async () => {
    let sent: Request | null = null;
    vi.stubGlobal(
      "fetch",
      vi.fn(async (input: string, init?: RequestInit) => {
        sent = new Request(`http://site${input}`, init);
        return Response.json({ access_token: token("O7", "organizer"), refresh_token: "r", token_type: "Bearer", expires_in: 900 });
      }),
    );
    expect(await refresh()).toBe(true);
    expect(sent!.method).toBe("POST");
    expect(sent!.headers.get("x-requested-with")).toBe("mrmrthon");
    expect(await sent!.text()).toBe("");
    expect(sessionState()).toEqual({ ready: true, me: { id: "O7", user_type: "organizer" } });
  });

  it("takes email_verified from a token that carries it, over what the login said", async () => {
    signedIn(token("U1", "runner"), { ...user, email_verified: false });
    vi.stubGlobal(
      "fetch",
      vi.fn(async () =>
        Response.json({
          access_token: token("U1", "runner", { email_verified: true }),
          refresh_token: "r",
          token_type: "Bearer",
          expires_in: 900,
        }),
      ),
    );
    expect(await refresh()).toBe(true);
    expect(sessionState().me).toMatchObject({ id: "U1", name: "Kim", email_verified: true });
  });

  it("keeps what the login said about verification when the token does not say", async () => {
    signedIn(token("U1", "runner"), { ...user, email_verified: false });
    vi.stubGlobal(
      "fetch",
      vi.fn(async () =>
        Response.json({ access_token: token("U1", "runner"), refresh_token: "r", token_type: "Bearer", expires_in: 900 }),
      ),
    );
    expect(await refresh()).toBe(true);
    expect(sessionState().me?.email_verified).toBe(false);
  });

  it("settles as signed out when the API refuses (no cookie yet)", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => new Response(null, { status: 415 })));
    expect(await refresh()).toBe(false);
    expect(sessionState()).toEqual({ ready: true, me: null });
  });
});

describe("calls made while the start-up refresh is under way", () => {
  it("a public GET goes at once; a call that needs a token waits and carries the refreshed token", async () => {
    let answerRefresh!: () => void;
    const answered = new Promise<void>((resolve) => (answerRefresh = resolve));
    const sent: { path: string; auth: string | null }[] = [];
    const fresh = token("U1", "runner");
    vi.stubGlobal(
      "fetch",
      vi.fn(async (input: Request | string, init?: RequestInit) => {
        const req = typeof input === "string" ? new Request(`http://site${input}`, init) : input;
        const path = new URL(req.url).pathname;
        sent.push({ path, auth: req.headers.get("authorization") });
        if (path === "/api/auth/refresh") {
          await answered;
          return Response.json({ access_token: fresh, refresh_token: "r", token_type: "Bearer", expires_in: 900, user });
        }
        return Response.json({});
      }),
    );
    const starting = refresh();
    const marathon = authFetch(new Request("http://site/api/marathons/M1"));
    const ranking = authFetch(new Request("http://site/api/marathons/M1/results?limit=50"));
    const points = authFetch(new Request("http://site/api/me/points"));
    await Promise.all([marathon, ranking]);
    // The refresh has not answered, yet the public page has what it asked for.
    expect(sent.map((s) => s.path)).toEqual(["/api/auth/refresh", "/api/marathons/M1", "/api/marathons/M1/results"]);
    expect(sent[1]?.auth).toBeNull();
    answerRefresh();
    expect(await starting).toBe(true);
    expect((await points).status).toBe(200);
    expect(sent.slice(3)).toEqual([{ path: "/api/me/points", auth: `Bearer ${fresh}` }]);
    // One refresh for all of them (a refresh token is single use).
    expect(sent.filter((s) => s.path === "/api/auth/refresh")).toHaveLength(1);
  });

  it("tells public operations from those that need a token, as the OpenAPI document marks them", () => {
    const req = (method: string, path: string) => new Request(`http://site/api${path}`, { method });
    expect(needsToken(req("GET", "/marathons"))).toBe(false);
    expect(needsToken(req("GET", "/marathons/01JABC"))).toBe(false);
    expect(needsToken(req("GET", "/marathons/01JABC/results?cursor=x"))).toBe(false);
    expect(needsToken(req("GET", "/runners/U1/points"))).toBe(false);
    expect(needsToken(req("POST", "/auth/login"))).toBe(false);
    expect(needsToken(req("POST", "/marathons"))).toBe(true);
    expect(needsToken(req("PATCH", "/marathons/01JABC"))).toBe(true);
    expect(needsToken(req("GET", "/marathons/01JABC/entries"))).toBe(true);
    expect(needsToken(req("GET", "/marathons/01JABC/entries/me"))).toBe(true);
    expect(needsToken(req("GET", "/me/points"))).toBe(true);
    expect(needsToken(req("POST", "/auth/password"))).toBe(true);
    // A parameter is one segment: a longer path is another operation.
    expect(needsToken(req("GET", "/marathons/a/b"))).toBe(true);
  });
});
