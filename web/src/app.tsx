import { LocationProvider, Route, Router, useLocation } from "preact-iso";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { useSession } from "./api/session";
import { Notice, useTitle } from "./components";
import { flash, useFlash } from "./flash";
import { I18nContext, initialLang, type Lang, makeI18n, rememberLang, useI18n } from "./i18n";
import { AccountPage } from "./pages/account";
import { LoginPage, LogoutButton, SignupPage } from "./pages/auth";
import { LeaderboardPage } from "./pages/leaderboard";
import { ManageMarathonPage, NewMarathonPage, OrganizerPage } from "./pages/organizer";
import { Home, MarathonPage, ResultPage, ResultsPage, RunnerPage } from "./pages/public";
import { ForgotPasswordPage, ResetPasswordPage, VerifyEmailPage } from "./pages/recovery";
import { MyEntriesPage, MyPointsPage, MyRecordsPage, MyResultsPage } from "./pages/runner";

export function App() {
  const [lang, setLang] = useState<Lang>(initialLang);
  const i18n = useMemo(
    () =>
      makeI18n(lang, (next) => {
        rememberLang(next);
        setLang(next);
      }),
    [lang],
  );
  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);
  return (
    <I18nContext.Provider value={i18n}>
      <LocationProvider>
        <Layout />
      </LocationProvider>
    </I18nContext.Provider>
  );
}

function Layout() {
  const { t } = useI18n();
  const { path } = useLocation();
  const message = useFlash();
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);
  // After a navigation, focus moves to the new page (screen readers announce it) and the
  // one-shot message of the previous action is dropped on the next one.
  const shown = useRef<string | null>(null);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    main.current?.focus();
    if (shown.current && shown.current === message) flash(null);
    shown.current = message;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [path]);
  return (
    <>
      <a class="skip" href="#main">
        {t.skip}
      </a>
      <Header />
      <main id="main" ref={main} tabIndex={-1}>
        {message && <Notice>{message}</Notice>}
        <Router>
          <Route path="/" component={Home} />
          <Route path="/marathons/:id" component={MarathonPage} />
          <Route path="/marathons/:id/results" component={ResultsPage} />
          <Route path="/marathons/:id/results/:runner_id" component={ResultPage} />
          <Route path="/runners/:id" component={RunnerPage} />
          <Route path="/leaderboard" component={LeaderboardPage} />
          <Route path="/signup" component={SignupPage} />
          <Route path="/login" component={LoginPage} />
          <Route path="/account" component={AccountPage} />
          <Route path="/forgot-password" component={ForgotPasswordPage} />
          <Route path="/reset-password" component={ResetPasswordPage} />
          <Route path="/verify-email" component={VerifyEmailPage} />
          <Route path="/me/entries" component={MyEntriesPage} />
          <Route path="/me/results" component={MyResultsPage} />
          <Route path="/me/points" component={MyPointsPage} />
          <Route path="/me/records" component={MyRecordsPage} />
          <Route path="/organizer" component={OrganizerPage} />
          <Route path="/organizer/marathons/new" component={NewMarathonPage} />
          <Route path="/organizer/marathons/:id" component={ManageMarathonPage} />
          <Route default component={NotFound} />
        </Router>
      </main>
    </>
  );
}

function Header() {
  const { t, lang, setLang } = useI18n();
  const { path } = useLocation();
  const { me, ready } = useSession();
  const link = (href: string, label: string) => (
    <li>
      <a href={href} aria-current={path === href ? "page" : undefined}>
        {label}
      </a>
    </li>
  );
  return (
    <header class="site-header">
      <a href="/" class="brand">
        {t.site}
      </a>
      <nav aria-label={t.nav.main}>
        <ul>
          {link("/", t.nav.home)}
          {link("/leaderboard", t.nav.leaderboard)}
          {me?.user_type === "runner" && (
            <>
              {link("/me/entries", t.nav.entries)}
              {link("/me/results", t.nav.results)}
              {link("/me/points", t.nav.points)}
              {link("/me/records", t.nav.records)}
            </>
          )}
          {me?.user_type === "organizer" && link("/organizer", t.nav.organizer)}
          {me && link("/account", t.nav.account)}
          {ready && !me && (
            <>
              {link("/login", t.nav.login)}
              {link("/signup", t.nav.signup)}
            </>
          )}
          {/* /account has its own: one button[data-action=logout] per page. */}
          {me && path !== "/account" && (
            <li>
              <LogoutButton />
            </li>
          )}
        </ul>
      </nav>
      <div class="lang" role="group" aria-label={t.nav.language}>
        <button type="button" data-lang="ko" lang="ko" aria-pressed={lang === "ko"} onClick={() => setLang("ko")}>
          한국어
        </button>
        <button type="button" data-lang="en" lang="en" aria-pressed={lang === "en"} onClick={() => setLang("en")}>
          English
        </button>
      </div>
    </header>
  );
}

function NotFound() {
  const { t } = useI18n();
  useTitle(t.common.notFound);
  return (
    <>
      <h1>{t.common.notFound}</h1>
      <p>{t.common.notFoundBody}</p>
      <p>
        <a href="/">{t.common.backHome}</a>
      </p>
    </>
  );
}
