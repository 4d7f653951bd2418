// The pages a mailed link or a forgotten password lands on: they work without a session
// and on a fresh load (the link is the first thing the browser opens).
import type { ComponentChildren } from "preact";
import { useLocation } from "preact-iso";
import { useRef, useState } from "preact/hooks";
import { api } from "../api/client";
import { refresh, sessionState } from "../api/session";
import { Alert, Field, Notice, useTitle } from "../components";
import { useI18n } from "../i18n";
import { call } from "../lib/call";
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
