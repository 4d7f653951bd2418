import type { ComponentChildren, InputHTMLAttributes } from "preact";
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { type Role, useSession } from "./api/session";
import { useI18n } from "./i18n";
import type { Outcome } from "./lib/call";
import type { Problem } from "./lib/problem";

/** A problem from the API, for screen readers too (CONTRACT: [role=alert]). */
export function Alert({ problem }: { problem: Problem | null | undefined }) {
  const { t } = useI18n();
  if (!problem) return null;
  const title = problem.title || t.common.error(problem.status);
  const detail = problem.detail ?? (problem.status === 0 ? t.common.networkDetail : undefined);
  return (
    <div role="alert" class="alert">
      <p class="alert-title">{title}</p>
      {detail && <p>{detail}</p>}
      {problem.errors.length > 0 && (
        <ul>
          {problem.errors.map((e) => (
            <li key={`${e.field}:${e.message}`}>
              <code>{e.field}</code>: {e.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** A success or progress message. */
export function Notice({ children }: { children: ComponentChildren }) {
  if (!children) return null;
  return (
    <p role="status" class="notice">
      {children}
    </p>
  );
}

type InputProps = InputHTMLAttributes<HTMLInputElement> & {
  name: string;
  label: string;
  error?: string;
  hint?: string;
  idPrefix?: string;
};

/** An input with its label, hint and field error (aria-describedby ties them together). */
export function Field({ name, label, error, hint, idPrefix = "f", ...rest }: InputProps) {
  const id = `${idPrefix}-${name}`;
  const described = [hint && `${id}-hint`, error && `${id}-error`].filter(Boolean).join(" ") || undefined;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input id={id} name={name} aria-invalid={error ? "true" : undefined} aria-describedby={described} {...rest} />
      {hint && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {error && (
        <p class="field-error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}

export function FieldError({ id, error }: { id: string; error?: string }) {
  return error ? (
    <p class="field-error" id={`${id}-error`}>
      {error}
    </p>
  ) : null;
}

/** Sets the document title with the site's name. */
export function useTitle(title: string | undefined): void {
  const { t } = useI18n();
  useEffect(() => {
    document.title = title ? `${title} · ${t.site}` : t.site;
  }, [title, t]);
}

/** Runs `load` whenever `deps` change and keeps its outcome; `reload` runs it again.
 * The request starts as the page renders (a layout effect), not after the first paint as
 * a plain effect would: on a slow phone that frame is a few hundred milliseconds. */
export function useLoad<T>(load: () => Promise<Outcome<T>>, deps: unknown[]) {
  const [outcome, setOutcome] = useState<Outcome<T> | null>(null);
  const generation = useRef(0);
  const run = useCallback(() => {
    const mine = ++generation.current;
    load().then((o) => {
      // An older request answering late must not overwrite a newer one.
      if (mine === generation.current) setOutcome(o);
    });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  useLayoutEffect(() => {
    setOutcome(null);
    run();
  }, [run]);
  return { outcome, reload: run, setOutcome };
}

export interface Page<T> {
  items: T[];
  next_cursor?: string | null;
}

/**
 * A cursor-paged list: the first page on mount, more on demand. Rows are kept in the
 * order they came and deduplicated by key, so a row never moves or doubles when the next
 * page overlaps the last (the "more" button stays where it is, under the rows).
 */
export function usePaged<T>(
  fetchPage: (cursor: string | undefined) => Promise<Outcome<Page<T>>>,
  key: (item: T) => string,
  deps: unknown[],
) {
  const [items, setItems] = useState<T[]>([]);
  const [cursor, setCursor] = useState<string | null | undefined>(undefined);
  const [loading, setLoading] = useState(true);
  const [problem, setProblem] = useState<Problem | null>(null);
  const generation = useRef(0);

  const load = useCallback(
    async (from: string | undefined, reset: boolean) => {
      const mine = reset ? ++generation.current : generation.current;
      setLoading(true);
      const o = await fetchPage(from);
      if (mine !== generation.current) return;
      setLoading(false);
      if (!o.ok) {
        setProblem(o.problem);
        return;
      }
      setProblem(null);
      setCursor(o.data.next_cursor ?? null);
      setItems((before) => {
        const base = reset ? [] : before;
        const seen = new Set(base.map(key));
        return [...base, ...o.data.items.filter((i) => !seen.has(key(i)))];
      });
    },
    // eslint-disable-next-line react-hooks/exhaustive-deps
    deps,
  );

  // As in useLoad: the first page is asked for as the page renders.
  useLayoutEffect(() => {
    setItems([]);
    setCursor(undefined);
    load(undefined, true);
  }, [load]);

  return {
    items,
    setItems,
    loading,
    problem,
    hasMore: !!cursor,
    more: () => cursor && load(cursor, false),
    reload: () => load(undefined, true),
  };
}

/** The "more" button and the loading line under a paged list. */
export function More({ paged }: { paged: { loading: boolean; hasMore: boolean; more: () => unknown } }) {
  const { t } = useI18n();
  return (
    <div class="more">
      {paged.hasMore && (
        <button type="button" onClick={() => paged.more()} disabled={paged.loading}>
          {t.common.more}
        </button>
      )}
      {paged.loading && <p role="status">{t.common.loading}</p>}
    </div>
  );
}

/** Shows its children only to a signed-in account of the given role. */
export function Guard({ role, children }: { role?: Role; children: () => ComponentChildren }) {
  const { t } = useI18n();
  const session = useSession();
  if (!session.ready) return <PageLoading />;
  if (!session.me) {
    const next = encodeURIComponent(location.pathname + location.search);
    return (
      <section>
        <h1>{t.common.needLogin}</h1>
        <p>{t.common.needLoginBody}</p>
        <p>
          <a href={`/login?next=${next}`}>{t.nav.login}</a> · <a href="/signup">{t.nav.signup}</a>
        </p>
      </section>
    );
  }
  if (role && session.me.user_type !== role) {
    return (
      <section>
        <h1>{t.common.needLogin}</h1>
        <p>{t.common.needRole(t.roles[role])}</p>
      </section>
    );
  }
  return <>{children()}</>;
}

/** A whole page still loading: its h1 says so (every page has exactly one h1). */
export function PageLoading() {
  const { t } = useI18n();
  return (
    <h1 class="loading" aria-busy="true">
      {t.common.loading}
    </h1>
  );
}

export function Loading({ text }: { text?: string }) {
  const { t } = useI18n();
  return <p role="status">{text ?? t.common.loading}</p>;
}
