// /account: who is signed in, the password, the sessions, the address's verification and
// the account's deletion.
// Security mails link here, so it works on a fresh load (Guard asks to sign in first).
import { useLocation } from "preact-iso";
import { useState } from "preact/hooks";
import { api } from "../api/client";
import { type Me, refresh, signedOut, useSession } from "../api/session";
import { Alert, Field, FieldError, Guard, Notice, useLoad, useTitle } from "../components";
import { flash } from "../flash";
import { useI18n } from "../i18n";
import { call } from "../lib/call";
import { fieldErrors, type Problem } from "../lib/problem";
import { LogoutButton } from "./auth";

export function AccountPage() {
  const { t } = useI18n();
  useTitle(t.auth.accountTitle);
  return <Guard>{() => <Account />}</Guard>;
}

function Account() {
  const { t, dateTime } = useI18n();
  const me = useSession().me as Me;
  return (
    <>
      <h1>{t.auth.accountTitle}</h1>
      <dl class="details">
        {me.name && (
          <>
            <dt>{t.auth.name}</dt>
            <dd>{me.name}</dd>
          </>
        )}
        {me.email && (
          <>
            <dt>{t.auth.email}</dt>
            <dd>{me.email}</dd>
          </>
        )}
        {me.email_verified !== undefined && (
          <>
            <dt>{t.account.verification}</dt>
            <dd data-email-verified={String(me.email_verified)}>
              {me.email_verified ? t.account.verified : t.account.unverified}
            </dd>
          </>
        )}
        <dt>{t.auth.role}</dt>
        <dd>{t.roles[me.user_type]}</dd>
        <dt>{t.auth.id}</dt>
        <dd>
          <code>{me.id}</code>
        </dd>
        {me.created_at && (
          <>
            <dt>{t.auth.since}</dt>
            <dd>{dateTime(me.created_at)}</dd>
          </>
        )}
      </dl>
      {me.email_verified === false && <ResendVerification />}
      {!me.name && <p class="hint">{t.auth.unknownAfterReload}</p>}
      {me.user_type === "runner" && (
        <p>
          <a href={`/runners/${me.id}`}>{t.auth.publicPage}</a>
        </p>
      )}
      {me.user_type === "runner" && (
        <section aria-labelledby="race-heading">
          <h2 id="race-heading">{t.account.raceHeading}</h2>
          <RaceProfile />
        </section>
      )}
      <section aria-labelledby="password-heading">
        <h2 id="password-heading">{t.account.passwordHeading}</h2>
        <ChangePassword />
      </section>
      <section aria-labelledby="sessions-heading">
        <h2 id="sessions-heading">{t.account.sessionsHeading}</h2>
        <LogoutEverywhere />
      </section>
      <section aria-labelledby="delete-heading">
        <h2 id="delete-heading">{t.account.deleteHeading}</h2>
        <DeleteAccount />
      </section>
    </>
  );
}

function DeleteAccount() {
  const { t } = useI18n();
  const { route } = useLocation();
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const errors = fieldErrors(problem);
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    if (!confirm(t.account.confirmDelete)) return;
    setBusy(true);
    const o = await call(
      api.DELETE("/auth/account", { body: { password: String(form.get("password")) } }),
    );
    if (!o.ok) {
      setBusy(false);
      setProblem(o.problem);
      return;
    }
    // Every session ended and the cookie is cleared: nobody is signed in any more.
    signedOut();
    flash(t.account.deleted);
    route("/");
  };
  return (
    <form onSubmit={submit} class="form narrow" data-form="delete-account">
      <p class="warning" role="note">
        {t.account.deleteWarning}
      </p>
      <Field
        name="password"
        type="password"
        label={t.account.deletePassword}
        autoComplete="current-password"
        required
        error={errors.password}
      />
      <Alert problem={problem} />
      <button type="submit" class="danger" data-action="delete-account" disabled={busy}>
        {t.account.deleteSubmit}
      </button>
    </form>
  );
}

/** The runner's private race profile (sex, birth date or year), for categories. */
function RaceProfile() {
  const { t } = useI18n();
  const loaded = useLoad(() => call(api.GET("/me/race-profile")), []);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [notice, setNotice] = useState("");
  const [busy, setBusy] = useState(false);
  const errors = fieldErrors(problem);
  if (!loaded.outcome) return null;
  if (!loaded.outcome.ok) return <Alert problem={loaded.outcome.problem} />;
  const current = loaded.outcome.data;
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const text = (field: string) => String(form.get(field) ?? "").trim() || null;
    setBusy(true);
    setNotice("");
    const o = await call(
      api.PUT("/me/race-profile", {
        body: { sex: text("sex") as typeof current.sex, birth: text("birth") },
      }),
    );
    setBusy(false);
    if (!o.ok) return setProblem(o.problem);
    setProblem(null);
    setNotice(t.account.raceSaved);
  };
  return (
    <form onSubmit={submit} class="form narrow">
      <p class="hint">{t.account.raceHint}</p>
      <div class="field">
        <label for="f-sex">{t.account.sex}</label>
        <select
          id="f-sex"
          name="sex"
          defaultValue={current.sex ?? ""}
          aria-invalid={errors.sex ? "true" : undefined}
          aria-describedby={errors.sex ? "f-sex-error" : undefined}
        >
          <option value="">{t.account.sexNone}</option>
          {(["female", "male", "x"] as const).map((s) => (
            <option key={s} value={s}>
              {t.account.sexes[s]}
            </option>
          ))}
        </select>
        <FieldError id="f-sex" error={errors.sex} />
      </div>
      <Field
        name="birth"
        label={t.account.birth}
        hint={t.account.birthHint}
        defaultValue={current.birth ?? ""}
        error={errors.birth}
      />
      <Alert problem={problem} />
      <Notice>{notice}</Notice>
      <button type="submit" class="primary" disabled={busy}>
        {t.account.raceSave}
      </button>
    </form>
  );
}

function ChangePassword() {
  const { t } = useI18n();
  const { route } = useLocation();
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const errors = fieldErrors(problem);
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    setBusy(true);
    const o = await call(
      api.POST("/auth/password", {
        body: {
          current_password: String(form.get("current_password")),
          new_password: String(form.get("new_password")),
        },
      }),
    );
    if (!o.ok) {
      setBusy(false);
      setProblem(o.problem);
      return;
    }
    // The API ended every session of the account, this one's too (it cleared the cookie):
    // only the new password signs in again.
    signedOut();
    flash(t.account.passwordChanged);
    route("/login");
  };
  return (
    <form onSubmit={submit} class="form narrow">
      <p class="hint">{t.account.changeHint}</p>
      <Field
        name="current_password"
        type="password"
        label={t.account.currentPassword}
        autoComplete="current-password"
        required
        error={errors.current_password}
      />
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
      <Alert problem={problem} />
      <button type="submit" class="primary" disabled={busy}>
        {t.account.changeSubmit}
      </button>
    </form>
  );
}

function LogoutEverywhere() {
  const { t } = useI18n();
  const { route } = useLocation();
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async () => {
    if (!confirm(t.account.confirmLogoutAll)) return;
    setBusy(true);
    const o = await call(api.POST("/auth/logout-all"));
    if (!o.ok) {
      setBusy(false);
      setProblem(o.problem);
      return;
    }
    // Every refresh token is revoked and this one's cookie cleared: signed out here too.
    signedOut();
    flash(t.account.loggedOutAll);
    route("/");
  };
  return (
    <>
      <p class="hint">{t.account.logoutAllHint}</p>
      <Alert problem={problem} />
      <div class="buttons">
        <button type="button" data-action="logout-all" class="danger" onClick={run} disabled={busy}>
          {t.account.logoutAll}
        </button>
        <LogoutButton />
      </div>
    </>
  );
}

function ResendVerification() {
  const { t } = useI18n();
  const [problem, setProblem] = useState<Problem | null>(null);
  const [notice, setNotice] = useState("");
  const [busy, setBusy] = useState(false);
  const run = async () => {
    setBusy(true);
    const o = await call(api.POST("/auth/verify-email/resend"));
    setBusy(false);
    if (o.ok) {
      setProblem(null);
      setNotice(o.data.sent ? t.account.resent : t.account.resendTooSoon);
      return;
    }
    if (o.problem.status === 409) {
      // Verified meanwhile (the link opened elsewhere): a new token says so, and the
      // status above follows.
      setProblem(null);
      setNotice(t.account.alreadyVerified);
      void refresh();
      return;
    }
    setProblem(o.problem);
  };
  return (
    <div class="verification">
      <p class="hint">{t.account.unverifiedHint}</p>
      <Notice>{notice}</Notice>
      <Alert problem={problem} />
      <button type="button" data-action="resend-verification" onClick={run} disabled={busy}>
        {t.account.resend}
      </button>
    </div>
  );
}
