// The pages a mailed link or a forgotten password lands on: they work without a session
// and on a fresh load (the link is the first thing the browser opens).
import type { ComponentChildren } from "preact";
import { useLocation } from "preact-iso";
import { useEffect, useRef, useState } from "preact/hooks";
import { api } from "../api/client";
import { refresh, sessionState, useSession } from "../api/session";
import { Alert, Field, Loading, Notice, useTitle } from "../components";
import { useI18n } from "../i18n";
import { call, type Outcome } from "../lib/call";
import { onceFor } from "../lib/once";
import { fieldErrors, type Problem } from "../lib/problem";
import { readToken } from "../lib/token";

/** A link that cannot work, said in words (the API's problem names only the field). */
function BadLink({ body, children }: { body: string; children?: ComponentChildren }) {
  const { t } = useI18n();
  return (
    <>
      <Alert problem={{ status: 400, title: t.recovery.badLink, detail: body, errors: [] }} />
      {children}
    </>
  );
}

/** Whether the API refused the link's token (400 naming the field `token`). */
function tokenRefused(problem: Problem | null): boolean {
  return !!problem && problem.status === 400 && problem.errors.some((e) => e.field === "token");
}

export function ForgotPasswordPage() {
  const { t } = useI18n();
  const [problem, setProblem] = useState<Problem | null>(null);
  const [sent, setSent] = useState(false);
  const [busy, setBusy] = useState(false);
  useTitle(t.recovery.forgotTitle);
  const errors = fieldErrors(problem);
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    setBusy(true);
    const o = await call(api.POST("/auth/password-reset", { body: { email: String(form.get("email")) } }));
    setBusy(false);
    if (!o.ok) {
      setProblem(o.problem);
      return;
    }
    // The API answers any address alike, and so does the page (whether an account
    // uses it is not told to whoever asks).
    setProblem(null);
    setSent(true);
  };
  return (
    <>
      <h1>{t.recovery.forgotTitle}</h1>
      {sent ? (
        <Notice>{t.recovery.forgotSent}</Notice>
      ) : (
        <>
          <p>{t.recovery.forgotIntro}</p>
          <form onSubmit={submit} class="form narrow">
            <Field name="email" type="email" label={t.auth.email} autoComplete="email" required error={errors.email} />
            <Alert problem={problem} />
            <button type="submit" class="primary" disabled={busy}>
              {t.recovery.forgotSubmit}
            </button>
          </form>
        </>
      )}
      <p>
        <a href="/login">{t.recovery.backToLogin}</a>
      </p>
    </>
  );
}

export function ResetPasswordPage() {
  const { t } = useI18n();
  const { query } = useLocation();
  const token = readToken(query.token);
  useTitle(t.recovery.resetTitle);
  return (
    <>
      <h1>{t.recovery.resetTitle}</h1>
      {token ? (
        <ResetForm token={token} />
      ) : (
        <BadLink body={t.recovery.noToken}>
          <p>
            <a href="/forgot-password">{t.recovery.requestNew}</a>
          </p>
        </BadLink>
      )}
    </>
  );
}

function ResetForm({ token }: { token: string }) {
  const { t } = useI18n();
  const [problem, setProblem] = useState<Problem | null>(null);
  const [mismatch, setMismatch] = useState(false);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);
  const errors = fieldErrors(problem);
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const newPassword = String(form.get("new_password"));
    // The confirmation is the page's own check: a typo here would lock the owner out.
    if (newPassword !== String(form.get("new_password_confirmation"))) {
      setProblem(null);
      setMismatch(true);
      formRef.current?.querySelector<HTMLInputElement>("[name=new_password_confirmation]")?.focus();
      return;
    }
    setMismatch(false);
    setBusy(true);
    const o = await call(api.POST("/auth/password-reset/confirm", { body: { token, new_password: newPassword } }));
    setBusy(false);
    if (!o.ok) {
      setProblem(o.problem);
      return;
    }
    setProblem(null);
    setDone(true);
    // Every session of the account ended. If this browser was signed in to it, find out
    // now rather than at the next 401 (another account's session just goes on).
    if (sessionState().me) void refresh();
  };
  if (done) {
    return (
      <>
        <Notice>{t.recovery.resetDone}</Notice>
        <p>
          <a href="/login">{t.nav.login}</a>
        </p>
      </>
    );
  }
  if (tokenRefused(problem)) {
    return (
      <BadLink body={t.recovery.badResetToken}>
        <p>
          <a href="/forgot-password">{t.recovery.requestNew}</a>
        </p>
      </BadLink>
    );
  }
  return (
    <form onSubmit={submit} class="form narrow" ref={formRef}>
      <Field
        name="new_password"
        type="password"
        label={t.account.newPassword}
        hint={t.auth.passwordHint}
        autoComplete="new-password"
        minLength={10}
        required
        error={errors.new_password}
      />
      {/* Not sent: no API field, so its name is the form's own. */}
      <Field
        name="new_password_confirmation"
        type="password"
        label={t.recovery.newPasswordAgain}
        autoComplete="new-password"
        required
        error={mismatch ? t.recovery.mismatch : undefined}
      />
      {mismatch && <Alert problem={{ status: 400, title: t.recovery.mismatch, errors: [] }} />}
      <Alert problem={problem} />
      <button type="submit" class="primary" disabled={busy}>
        {t.recovery.resetSubmit}
      </button>
    </form>
  );
}

export function VerifyEmailPage() {
  const { t } = useI18n();
  const { query } = useLocation();
  const token = readToken(query.token);
  useTitle(t.recovery.verifyTitle);
  return (
    <>
      <h1>{t.recovery.verifyTitle}</h1>
      {token ? <Verify token={token} /> : <BadLink body={t.recovery.noToken} />}
    </>
  );
}

// One POST per token for the page's lifetime: a token works once, so a second post (a
// re-render, the page mounted again, the language switched) would answer "already used".
const verifications = new Map<string, Promise<Outcome<unknown>>>();

async function verify(token: string): Promise<Outcome<unknown>> {
  const o = await call(api.POST("/auth/verify-email", { body: { token } }));
  // Tokens issued from now on say the address is verified: a signed-in browser takes a
  // new one, so /account shows it (if the token was another account's, nothing changes).
  if (o.ok && sessionState().me) await refresh();
  return o;
}

/** Tried again: the request did not reach the API, or the API failed on its side. */
function retryable(o: Outcome<unknown>): boolean {
  return !o.ok && (o.problem.status === 0 || o.problem.status >= 500);
}

function Verify({ token }: { token: string }) {
  const { t } = useI18n();
  const { ready, me } = useSession();
  const [outcome, setOutcome] = useState<Outcome<unknown> | null>(null);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    // After the start's silent refresh has answered, so the refresh above is a new one.
    if (!ready) return;
    let live = true;
    setOutcome(null);
    void onceFor(verifications, token, verify, retryable).then((o) => {
      if (live) setOutcome(o);
    });
    return () => {
      live = false;
    };
  }, [token, ready, attempt]);
  if (!outcome) return <Loading text={t.recovery.verifying} />;
  if (outcome.ok) {
    return (
      <>
        <Notice>{t.recovery.verifyDone}</Notice>
        <p>{me ? <a href="/account">{t.recovery.toAccount}</a> : <a href="/login">{t.nav.login}</a>}</p>
      </>
    );
  }
  if (tokenRefused(outcome.problem)) {
    return (
      <BadLink body={t.recovery.badVerifyToken}>
        <p>{t.recovery.verifyResendHint}</p>
        <p>
          <a href="/account">{t.recovery.toAccount}</a>
        </p>
      </BadLink>
    );
  }
  return (
    <>
      <Alert problem={outcome.problem} />
      {retryable(outcome) && (
        <button type="button" onClick={() => setAttempt((n) => n + 1)}>
          {t.recovery.retry}
        </button>
      )}
    </>
  );
}
