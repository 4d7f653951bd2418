import { useLocation } from "preact-iso";
import { useState } from "preact/hooks";
import { api } from "../api/client";
import { logout, signedIn } from "../api/session";
import { Alert, Field, FieldError, useTitle } from "../components";
import { flash } from "../flash";
import { type Lang, useI18n } from "../i18n";
import { call } from "../lib/call";
import { fieldErrors, type Problem } from "../lib/problem";

/** Signs in; on success the session holds the token and the user, and the greeting the
 * login answer gives in the chosen language is shown on the next page. */
async function signIn(email: string, password: string, lang: Lang): Promise<Problem | null> {
  const o = await call(
    api.POST("/auth/login", {
      body: { email, password },
      params: { header: { "Accept-Language": lang } },
    }),
  );
  if (!o.ok) return o.problem;
  // The body's refresh_token is not kept: the HttpOnly cookie carries it.
  signedIn(o.data.access_token, o.data.user);
  flash(o.data.message);
  return null;
}

/** Only same-site paths: `next` comes from the address bar. */
function nextPath(query: Record<string, string>): string {
  const next = query.next ?? "";
  return next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

export function LoginPage() {
  const { t, lang } = useI18n();
  const { query, route } = useLocation();
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  useTitle(t.auth.loginTitle);
  const errors = fieldErrors(problem);
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    setBusy(true);
    const p = await signIn(String(form.get("email")), String(form.get("password")), lang);
    setBusy(false);
    setProblem(p);
    if (!p) route(nextPath(query));
  };
  return (
    <>
      <h1>{t.auth.loginTitle}</h1>
      <form onSubmit={submit} class="form narrow">
        <Field name="email" type="email" label={t.auth.email} autoComplete="username" required error={errors.email} />
        <Field
          name="password"
          type="password"
          label={t.auth.password}
          autoComplete="current-password"
          required
          error={errors.password}
        />
        <Alert problem={problem} />
        <button type="submit" class="primary" disabled={busy}>
          {t.auth.loginSubmit}
        </button>
      </form>
      <p>
        <a href="/forgot-password">{t.auth.forgot}</a>
      </p>
      <p>
        {t.auth.noAccount} <a href="/signup">{t.nav.signup}</a>
      </p>
    </>
  );
}

export function SignupPage() {
  const { t, lang } = useI18n();
  const { route } = useLocation();
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  useTitle(t.auth.signupTitle);
  const errors = fieldErrors(problem);
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const body = {
      email: String(form.get("email")),
      password: String(form.get("password")),
      name: String(form.get("name")),
      user_type: form.get("user_type") === "organizer" ? ("organizer" as const) : ("runner" as const),
    };
    setBusy(true);
    const o = await call(api.POST("/auth/signup", { body }));
    if (!o.ok) {
      setBusy(false);
      return setProblem(o.problem);
    }
    // The account exists: sign in with the same credentials straight away.
    const p = await signIn(body.email, body.password, lang);
    setBusy(false);
    setProblem(p);
    if (!p) route(body.user_type === "organizer" ? "/organizer" : "/");
  };
  return (
    <>
      <h1>{t.auth.signupTitle}</h1>
      <form onSubmit={submit} class="form narrow">
        <Field name="email" type="email" label={t.auth.email} autoComplete="email" required error={errors.email} />
        <Field
          name="password"
          type="password"
          label={t.auth.password}
          hint={t.auth.passwordHint}
          autoComplete="new-password"
          minLength={10}
          required
          error={errors.password}
        />
        <Field name="name" label={t.auth.name} autoComplete="nickname" required maxLength={100} error={errors.name} />
        <div class="field">
          <label for="f-user_type">{t.auth.userType}</label>
          <select id="f-user_type" name="user_type" aria-describedby={errors.user_type ? "f-user_type-error" : undefined}>
            <option value="runner">{t.roles.runner}</option>
            <option value="organizer">{t.roles.organizer}</option>
          </select>
          <FieldError id="f-user_type" error={errors.user_type} />
        </div>
        <Alert problem={problem} />
        <button type="submit" class="primary" disabled={busy}>
          {t.auth.signupSubmit}
        </button>
      </form>
      <p>
        {t.auth.haveAccount} <a href="/login">{t.nav.login}</a>
      </p>
    </>
  );
}

export function LogoutButton() {
  const { t } = useI18n();
  const { route } = useLocation();
  return (
    <button
      type="button"
      data-action="logout"
      class="link-button"
      onClick={async () => {
        await logout();
        flash(t.auth.loggedOut);
        route("/");
      }}
    >
      {t.auth.logout}
    </button>
  );
}
