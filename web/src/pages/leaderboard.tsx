import { useLocation } from "preact-iso";
import { useState } from "preact/hooks";
import { api } from "../api/client";
import { Alert, Loading, More, useLoad, usePaged, useTitle } from "../components";
import { useI18n } from "../i18n";
import { call } from "../lib/call";
import { seasonChoices, seasonFromQuery, tiedRanks } from "../lib/leaderboard";
import { courseLabel } from "../lib/marathon";

/** `/leaderboard?season=YYYY`: a season's standings, this year's by default. */
export function LeaderboardPage() {
  const { query, route } = useLocation();
  const current = new Date().getUTCFullYear();
  const season = seasonFromQuery(query.season) ?? current;
  // Keyed: another season starts from its first page.
  return <Standings key={season} season={season} current={current} pick={(y) => route(`/leaderboard?season=${y}`)} />;
}

function Standings({ season, current, pick }: { season: number; current: number; pick: (year: number) => void }) {
  const { t, number } = useI18n();
  const [chosen, setChosen] = useState(String(season));
  const title = t.leaderboard.title(season);
  useTitle(title);
  const paged = usePaged(
    (cursor) => call(api.GET("/leaderboard", { params: { query: { season, cursor, limit: 50 } } })),
    (r) => r.runner_id,
    [season],
  );
  const tied = tiedRanks(paged.items.map((r) => r.rank));
  return (
    <>
      <h1>{title}</h1>
      <form
        class="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          pick(Number(chosen));
        }}
      >
        <div class="field">
          <label for="leaderboard-season">{t.leaderboard.season}</label>
          <select id="leaderboard-season" name="season" value={chosen} onChange={(e) => setChosen(e.currentTarget.value)}>
            {seasonChoices(current, season).map((y) => (
              <option key={y} value={String(y)}>
                {y}
              </option>
            ))}
          </select>
        </div>
        <button type="submit">{t.leaderboard.show}</button>
      </form>
      <p class="hint">{t.leaderboard.hint}</p>
      <Alert problem={paged.problem} />
      {!paged.loading && paged.items.length === 0 && !paged.problem && <p>{t.leaderboard.empty}</p>}
      {paged.items.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t.leaderboard.rank}</th>
                <th scope="col">{t.leaderboard.runner}</th>
                <th scope="col">{t.leaderboard.points}</th>
              </tr>
            </thead>
            <tbody>
              {paged.items.map((r, i) => (
                <tr key={r.runner_id} data-runner-id={r.runner_id} data-rank={r.rank}>
                  <td>
                    {number(r.rank)}
                    {tied[i] && <span class="muted"> ({t.leaderboard.tie})</span>}
                  </td>
                  <td>{r.name ? <a href={`/runners/${r.runner_id}`}>{r.name}</a> : <span class="muted">—</span>}</td>
                  <td class="num" data-points>
                    {number(r.points)}
                  </td>
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

/** The signed-in runner's best time per distance (`GET /me/bests`); `version` reloads it. */
export function PersonalBests({ version }: { version: unknown }) {
  const { t, date, number } = useI18n();
  const { outcome } = useLoad(() => call(api.GET("/me/bests")), [version]);
  return (
    <section aria-labelledby="bests">
      <h2 id="bests">{t.bests.title}</h2>
      {!outcome && <Loading />}
      {outcome && !outcome.ok && <Alert problem={outcome.problem} />}
      {outcome?.ok && outcome.data.items.length === 0 && <p>{t.bests.empty}</p>}
      {outcome?.ok && outcome.data.items.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t.bests.course}</th>
                <th scope="col">{t.bests.time}</th>
                <th scope="col">{t.bests.date}</th>
                <th scope="col">{t.bests.source}</th>
              </tr>
            </thead>
            <tbody>
              {outcome.data.items.map((b) => (
                <tr key={b.distance_m} data-distance={b.distance_m}>
                  <td>{courseLabel(t, b.course, b.distance_m, number)}</td>
                  <td class="num" data-best-time>
                    {b.time}
                  </td>
                  <td>{date(b.date)}</td>
                  <td>
                    {b.source === "official" && b.marathon_id ? (
                      <a href={`/marathons/${b.marathon_id}`}>{b.marathon_name ?? t.bests.official}</a>
                    ) : (
                      t.bests.record
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
