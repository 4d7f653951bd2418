import { useState } from "preact/hooks";
import { api } from "../api/client";
import { useSession } from "../api/session";
import { Alert, Loading, More, Notice, PageLoading, useLoad, usePaged, useTitle } from "../components";
import { useI18n } from "../i18n";
import { call } from "../lib/call";
import { courseLabel, type Marathon, placesLeft, registrationBlock } from "../lib/marathon";
import type { Problem } from "../lib/problem";
import { pacePerKm } from "../lib/time";

export function MarathonList({ when, organizer, empty }: { when?: "upcoming" | "past"; organizer?: string; empty: string }) {
  const { t, date, number } = useI18n();
  const paged = usePaged(
    (cursor) => call(api.GET("/marathons", { params: { query: { when, organizer, cursor, limit: 20 } } })),
    (m) => m.id,
    [when, organizer],
  );
  return (
    <>
      <Alert problem={paged.problem} />
      {!paged.loading && paged.items.length === 0 && !paged.problem && <p>{empty}</p>}
      <ul class="cards">
        {paged.items.map((m) => (
          <li key={m.id} class="card">
            <h3>
              <a href={organizer ? `/organizer/marathons/${m.id}` : `/marathons/${m.id}`}>{m.name}</a>
            </h3>
            <p>
              {date(m.date)} · {m.location} · {courseLabel(t, m.course, m.distance_m, number)}
            </p>
            <p class="muted">
              <StatusBadge m={m} /> {t.marathon.left}: {number(placesLeft(m))} / {number(m.capacity)}
            </p>
          </li>
        ))}
      </ul>
      <More paged={paged} />
    </>
  );
}

export function StatusBadge({ m }: { m: Marathon }) {
  const { t } = useI18n();
  const block = registrationBlock(m);
  const label = m.status === "cancelled" ? t.status.cancelled : block === "closed" ? t.status.closed : t.status.open;
  return <span class={`badge badge-${m.status === "cancelled" ? "cancelled" : block ? "closed" : "open"}`}>{label}</span>;
}

export function Home() {
  const { t } = useI18n();
  useTitle(t.home.title);
  return (
    <>
      <h1>{t.home.title}</h1>
      <section aria-labelledby="upcoming">
        <h2 id="upcoming">{t.home.upcoming}</h2>
        <MarathonList when="upcoming" empty={t.home.emptyUpcoming} />
      </section>
      <section aria-labelledby="past">
        <h2 id="past">{t.home.past}</h2>
        <MarathonList when="past" empty={t.home.emptyPast} />
      </section>
    </>
  );
}

export function MarathonDetails({ m }: { m: Marathon }) {
  const { t, date, dateTime, number } = useI18n();
  return (
    <dl class="details">
      <dt>{t.marathon.status}</dt>
      <dd>
        <StatusBadge m={m} />
      </dd>
      <dt>{t.marathon.date}</dt>
      <dd>{date(m.date)}</dd>
      <dt>{t.marathon.location}</dt>
      <dd>{m.location}</dd>
      <dt>{t.marathon.course}</dt>
      <dd>{courseLabel(t, m.course, m.distance_m, number)}</dd>
      <dt>{t.marathon.points}</dt>
      <dd>{number(m.points)}</dd>
      <dt>{t.marathon.capacity}</dt>
      <dd>{number(m.capacity)}</dd>
      <dt>{t.marathon.entries}</dt>
      <dd>{number(m.entry_count)}</dd>
      <dt>{t.marathon.left}</dt>
      <dd data-left={placesLeft(m)}>{number(placesLeft(m))}</dd>
      <dt>{t.marathon.closes}</dt>
      <dd>{dateTime(m.registration_closes_at)}</dd>
    </dl>
  );
}

export function MarathonPage({ id }: { id: string }) {
  const { t } = useI18n();
  const session = useSession();
  const { outcome, reload } = useLoad(() => call(api.GET("/marathons/{id}", { params: { path: { id } } })), [id]);
  const m = outcome?.ok ? outcome.data : null;
  useTitle(m?.name);
  if (!outcome) return <PageLoading />;
  if (!outcome.ok)
    return (
      <>
        <h1>{t.common.notFound}</h1>
        <Alert problem={outcome.problem} />
      </>
    );
  const marathon = outcome.data;
  const me = session.me;
  return (
    <>
      <h1>{marathon.name}</h1>
      <MarathonDetails m={marathon} />
      <p>
        <a href={`/marathons/${id}/results`}>{t.marathon.results}</a>
        {me?.id === marathon.organizer_id && (
          <>
            {" · "}
            <a href={`/organizer/marathons/${id}`}>{t.marathon.manage}</a>
          </>
        )}
      </p>
      {session.ready && !me && <p>{t.marathon.loginToRegister}</p>}
      {me?.user_type === "runner" && <Register m={marathon} onChange={reload} />}
    </>
  );
}

function Register({ m, onChange }: { m: Marathon; onChange: () => void }) {
  const { t } = useI18n();
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);
  const mine = useLoad(
    () => call(api.GET("/marathons/{id}/entries/me", { params: { path: { id: m.id } } })),
    [m.id, done],
  );
  if (!mine.outcome) return <Loading />;
  if (mine.outcome.ok) return <Notice>{done ? t.marathon.registeredNow : t.marathon.registered}</Notice>;
  if (mine.outcome.problem.status !== 404) return <Alert problem={mine.outcome.problem} />;
  const block = registrationBlock(m);
  const register = async () => {
    setBusy(true);
    const o = await call(api.POST("/marathons/{id}/entries", { params: { path: { id: m.id } } }));
    setBusy(false);
    if (!o.ok) return setProblem(o.problem);
    setProblem(null);
    setDone(true);
    onChange();
  };
  return (
    <div>
      {block && <p>{t.marathon[block]}</p>}
      <button type="button" data-action="register" class="primary" onClick={register} disabled={busy || !!block}>
        {t.marathon.register}
      </button>
      <Alert problem={problem} />
    </div>
  );
}

export function ResultsPage({ id }: { id: string }) {
  // Keyed: another marathon's ranking starts with an empty search.
  return <Results key={id} id={id} />;
}

/** Every category the API knows, as labelled: F, M, X × U20, SEN, 35..90. */
const CATEGORIES = ["F", "M", "X"].flatMap((sex) =>
  ["U20", "SEN", "35", "40", "45", "50", "55", "60", "65", "70", "75", "80", "85", "90"].map((band) => sex + band),
);

function Results({ id }: { id: string }) {
  const { t, number } = useI18n();
  const [query, setQuery] = useState("");
  const [category, setCategory] = useState("");
  const marathon = useLoad(() => call(api.GET("/marathons/{id}", { params: { path: { id } } })), [id]);
  // the API searches (a bib, or part of a name) and filters by category; places stay overall
  const q = query.trim();
  const paged = usePaged(
    (cursor) =>
      call(
        api.GET("/marathons/{id}/results", {
          params: {
            path: { id },
            query: { cursor, limit: 50, ...(q ? { q } : {}), ...(category ? { category } : {}) },
          },
        }),
      ),
    (r) => r.runner_id,
    [id, q, category],
  );
  const name = marathon.outcome?.ok ? marathon.outcome.data.name : "";
  const title = t.results.title(name || "…");
  useTitle(title);
  const rows = paged.items;
  return (
    <>
      <h1>{title}</h1>
      <p>
        <a href={`/marathons/${id}`}>{t.results.back}</a>
      </p>
      {marathon.outcome && !marathon.outcome.ok && <Alert problem={marathon.outcome.problem} />}
      <div class="field search">
        <label for="results-search">{t.results.search}</label>
        <input
          id="results-search"
          type="search"
          name="q"
          value={query}
          onChange={(e) => setQuery(e.currentTarget.value)}
          aria-describedby="results-search-hint"
        />
        <p class="hint" id="results-search-hint">
          {t.results.searchHint}
        </p>
      </div>
      <div class="field">
        <label for="results-category">{t.results.category}</label>
        <select id="results-category" name="category" value={category} onChange={(e) => setCategory(e.currentTarget.value)}>
          <option value="">{t.results.allCategories}</option>
          {CATEGORIES.map((c) => (
            <option key={c} value={c}>
              {c}
            </option>
          ))}
        </select>
      </div>
      {(q || category) && !paged.loading && <p role="status">{t.results.matches(rows.length)}</p>}
      <Alert problem={paged.problem} />
      {!paged.loading && rows.length === 0 && !paged.problem && <p>{q || category ? t.results.noMatch : t.results.empty}</p>}
      {rows.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t.results.rank}</th>
                <th scope="col">{t.results.bib}</th>
                <th scope="col">{t.results.runner}</th>
                <th scope="col">{t.results.category}</th>
                <th scope="col">{t.results.chip}</th>
                <th scope="col">{t.results.points}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.runner_id} data-runner-id={r.runner_id} data-status={r.status}>
                  <td>{r.rank != null ? number(r.rank) : t.results.statuses[r.status]}</td>
                  <td class="num">{r.bib ?? ""}</td>
                  <td>
                    <a href={`/marathons/${id}/results/${r.runner_id}`}>{r.runner_name}</a>
                  </td>
                  <td>
                    {r.category ?? ""}
                    {r.category_rank != null && ` (${number(r.category_rank)})`}
                  </td>
                  <td class="num">{r.chip_time ?? ""}</td>
                  <td class="num">{number(r.points)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <More paged={paged} />
    </>
  );
}

/**
 * One runner's result. The API has no read of a single result, so this walks the ranking
 * (100 a page) until the runner's row appears; a marathon's field is small enough.
 */
export function ResultPage({ id, runner_id }: { id: string; runner_id: string }) {
  const { t, date, number } = useI18n();
  const { outcome } = useLoad(async () => {
    let cursor: string | undefined;
    for (;;) {
      const o = await call(
        api.GET("/marathons/{id}/results", { params: { path: { id }, query: { cursor, limit: 100 } } }),
      );
      if (!o.ok) return o;
      const found = o.data.items.find((r) => r.runner_id === runner_id);
      if (found) return { ...o, data: found };
      if (!o.data.next_cursor) return { ...o, data: null };
      cursor = o.data.next_cursor;
    }
  }, [id, runner_id]);
  const r = outcome?.ok ? outcome.data : null;
  const marathon = useLoad(() => call(api.GET("/marathons/{id}", { params: { path: { id } } })), [id]);
  const m = marathon.outcome?.ok ? marathon.outcome.data : null;
  useTitle(r ? t.results.one(r.runner_name) : undefined);
  if (!outcome) return <PageLoading />;
  if (!outcome.ok || !r)
    return (
      <>
        <h1>{t.results.notFound}</h1>
        {!outcome.ok && <Alert problem={outcome.problem} />}
        <p>
          <a href={`/marathons/${id}/results`}>{t.results.all}</a>
        </p>
      </>
    );
  const pace = m && r.finish_seconds != null ? pacePerKm(r.finish_seconds, m.distance_m) : null;
  return (
    <>
      <h1>{t.results.one(r.runner_name)}</h1>
      <dl class="details result" data-runner-id={r.runner_id}>
        <dt>{t.results.marathon}</dt>
        <dd>
          <a href={`/marathons/${id}`}>{r.marathon_name}</a> ({date(r.marathon_date)})
        </dd>
        <dt>{t.results.runner}</dt>
        <dd>
          <a href={`/runners/${r.runner_id}`}>{r.runner_name}</a>
        </dd>
        <dt>{t.results.rank}</dt>
        <dd>{r.rank != null ? number(r.rank) : t.results.statuses[r.status]}</dd>
        {r.bib != null && (
          <>
            <dt>{t.results.bib}</dt>
            <dd>{r.bib}</dd>
          </>
        )}
        {r.category && (
          <>
            <dt>{t.results.category}</dt>
            <dd>
              {r.category}
              {r.category_rank != null && ` (${t.results.categoryRank} ${number(r.category_rank)})`}
            </dd>
          </>
        )}
        <dt>{t.results.status}</dt>
        <dd>{t.results.statuses[r.status]}</dd>
        <dt>{t.results.chip}</dt>
        <dd>{r.chip_time ?? "—"}</dd>
        {r.gun_time && (
          <>
            <dt>{t.results.gun}</dt>
            <dd>{r.gun_time}</dd>
          </>
        )}
        {r.age_grade != null && (
          <>
            <dt>{t.results.ageGrade}</dt>
            <dd>{r.age_grade.toFixed(2)}%</dd>
          </>
        )}
        {pace && (
          <>
            <dt>{t.results.pace}</dt>
            <dd>{t.me.perKm(pace)}</dd>
          </>
        )}
        <dt>{t.results.points}</dt>
        <dd>{number(r.points)}</dd>
      </dl>
      <p class="hint">{t.results.share}</p>
      <p>
        <a href={`/marathons/${id}/results`}>{t.results.all}</a>
      </p>
    </>
  );
}

export function RunnerPage({ id }: { id: string }) {
  const { t } = useI18n();
  const { outcome } = useLoad(() => call(api.GET("/runners/{id}/points", { params: { path: { id } } })), [id]);
  const p = outcome?.ok ? outcome.data : null;
  useTitle(p ? t.runner.title(p.name) : undefined);
  if (!outcome) return <PageLoading />;
  if (!outcome.ok || !p)
    return (
      <>
        <h1>{t.common.notFound}</h1>
        {!outcome.ok && <Alert problem={outcome.problem} />}
      </>
    );
  return (
    <>
      <h1>{t.runner.title(p.name)}</h1>
      <p class="total">
        {t.runner.total}: <strong data-total>{p.total}</strong>
      </p>
    </>
  );
}
