import { useState } from "preact/hooks";
import { api } from "../api/client";
import type { components } from "../api/schema";
import { Alert, Field, FieldError, Guard, Loading, More, Notice, useLoad, usePaged, useTitle } from "../components";
import { useI18n } from "../i18n";
import { call } from "../lib/call";
import { fieldErrors, type Problem } from "../lib/problem";
import { formatDuration, pacePerKm, parseDuration } from "../lib/time";
import { PersonalBests } from "./leaderboard";

type RecordView = components["schemas"]["RecordView"];

export function MyEntriesPage() {
  const { t } = useI18n();
  useTitle(t.me.entriesTitle);
  return <Guard role="runner">{() => <MyEntries />}</Guard>;
}

function MyEntries() {
  const { t, date, dateTime } = useI18n();
  const [problem, setProblem] = useState<Problem | null>(null);
  const [notice, setNotice] = useState("");
  const paged = usePaged(
    (cursor) => call(api.GET("/me/entries", { params: { query: { cursor } } })),
    (e) => e.marathon_id,
    [],
  );
  const cancel = async (id: string, name: string) => {
    if (!confirm(t.me.confirmCancelEntry(name))) return;
    const o = await call(api.DELETE("/marathons/{id}/entries/me", { params: { path: { id } } }));
    if (!o.ok) return setProblem(o.problem);
    setProblem(null);
    setNotice(t.me.entryCancelled);
    paged.setItems((items) => items.filter((e) => e.marathon_id !== id));
  };
  return (
    <>
      <h1>{t.me.entriesTitle}</h1>
      <Notice>{notice}</Notice>
      <Alert problem={problem ?? paged.problem} />
      {!paged.loading && paged.items.length === 0 && <p>{t.me.entriesEmpty}</p>}
      <ul class="cards">
        {paged.items.map((e) => (
          <li key={e.marathon_id} class="card">
            <h2 class="h3">
              <a href={`/marathons/${e.marathon_id}`}>{e.marathon_name}</a>
            </h2>
            <p>
              {date(e.marathon_date)} · {t.me.registeredAt} {dateTime(e.registered_at)}
            </p>
            <button
              type="button"
              data-action="cancel-entry"
              aria-label={`${t.me.cancelEntry}: ${e.marathon_name}`}
              onClick={() => cancel(e.marathon_id, e.marathon_name)}
            >
              {t.me.cancelEntry}
            </button>
          </li>
        ))}
      </ul>
      <More paged={paged} />
    </>
  );
}

export function MyResultsPage() {
  const { t } = useI18n();
  useTitle(t.me.resultsTitle);
  return <Guard role="runner">{() => <MyResults />}</Guard>;
}

function MyResults() {
  const { t, date, number } = useI18n();
  const paged = usePaged(
    (cursor) => call(api.GET("/me/results", { params: { query: { cursor } } })),
    (r) => r.marathon_id,
    [],
  );
  return (
    <>
      <h1>{t.me.resultsTitle}</h1>
      <Alert problem={paged.problem} />
      {!paged.loading && paged.items.length === 0 && <p>{t.me.resultsEmpty}</p>}
      {paged.items.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t.results.marathon}</th>
                <th scope="col">{t.marathon.date}</th>
                <th scope="col">{t.results.time}</th>
                <th scope="col">{t.results.points}</th>
              </tr>
            </thead>
            <tbody>
              {paged.items.map((r) => (
                <tr key={r.marathon_id} data-marathon-id={r.marathon_id}>
                  <td>
                    <a href={`/marathons/${r.marathon_id}/results/${r.runner_id}`}>{r.marathon_name}</a>
                  </td>
                  <td>{date(r.marathon_date)}</td>
                  <td class="num">{r.finish_time}</td>
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

export function MyPointsPage() {
  const { t } = useI18n();
  useTitle(t.me.pointsTitle);
  return <Guard role="runner">{() => <MyPoints />}</Guard>;
}

function MyPoints() {
  const { t, dateTime, number } = useI18n();
  const { outcome } = useLoad(() => call(api.GET("/me/points")), []);
  // An award names its marathon by id only; the runner's results carry the names.
  const results = useLoad(() => call(api.GET("/me/results", { params: { query: { limit: 100 } } })), []);
  const names = new Map(results.outcome?.ok ? results.outcome.data.items.map((r) => [r.marathon_id, r.marathon_name]) : []);
  return (
    <>
      <h1>{t.me.pointsTitle}</h1>
      {!outcome && <Loading />}
      {outcome && !outcome.ok && <Alert problem={outcome.problem} />}
      {outcome?.ok && (
        <>
          <p class="total">
            {t.runner.total}: <strong data-total>{outcome.data.total}</strong>
          </p>
          <h2>{t.me.history}</h2>
          {outcome.data.history.length === 0 ? (
            <p>{t.me.historyEmpty}</p>
          ) : (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">{t.results.marathon}</th>
                    <th scope="col">{t.results.points}</th>
                    <th scope="col">{t.me.updatedAt}</th>
                  </tr>
                </thead>
                <tbody>
                  {outcome.data.history.map((a) => (
                    <tr key={a.result_id}>
                      <td>
                        <a href={`/marathons/${a.marathon_id}`}>{names.get(a.marathon_id) ?? a.marathon_id}</a>
                      </td>
                      <td class="num">{number(a.points)}</td>
                      <td>{dateTime(a.updated_at)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
    </>
  );
}

export function MyRecordsPage() {
  const { t } = useI18n();
  useTitle(t.me.recordsTitle);
  return <Guard role="runner">{() => <MyRecords />}</Guard>;
}

function MyRecords() {
  const { t, date, number } = useI18n();
  const [editing, setEditing] = useState<RecordView | null>(null);
  const [notice, setNotice] = useState("");
  const [problem, setProblem] = useState<Problem | null>(null);
  // every saved or deleted record may change a personal best
  const [changes, setChanges] = useState(0);
  const paged = usePaged(
    (cursor) => call(api.GET("/me/records", { params: { query: { cursor } } })),
    (r) => r.id,
    [],
  );
  const remove = async (r: RecordView) => {
    if (!confirm(t.me.confirmDeleteRecord)) return;
    const o = await call(api.DELETE("/me/records/{id}", { params: { path: { id: r.id } } }));
    if (!o.ok) return setProblem(o.problem);
    setProblem(null);
    setNotice(t.me.deleted);
    setChanges((c) => c + 1);
    paged.setItems((items) => items.filter((x) => x.id !== r.id));
  };
  const saved = (r: RecordView, created: boolean) => {
    setNotice(t.me.saved);
    setChanges((c) => c + 1);
    setEditing(null);
    paged.setItems((items) => (created ? [r, ...items] : items.map((x) => (x.id === r.id ? r : x))));
  };
  return (
    <>
      <h1>{t.me.recordsTitle}</h1>
      <Notice>{notice}</Notice>
      <Alert problem={problem ?? paged.problem} />
      {!paged.loading && paged.items.length === 0 && <p>{t.me.recordsEmpty}</p>}
      {paged.items.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t.marathon.date}</th>
                <th scope="col">{t.me.kind}</th>
                <th scope="col">{t.me.distance}</th>
                <th scope="col">{t.results.time}</th>
                <th scope="col">{t.me.pace}</th>
                <th scope="col">{t.me.notes}</th>
                <th scope="col">
                  <span class="visually-hidden">{t.common.edit}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {paged.items.map((r) => {
                const pace = pacePerKm(r.duration_seconds, r.distance_m);
                return (
                  <tr key={r.id} data-record-id={r.id}>
                    <td>{date(r.date)}</td>
                    <td>{t.me.kinds[r.kind]}</td>
                    <td class="num">{number(r.distance_m)}</td>
                    <td class="num">{formatDuration(r.duration_seconds)}</td>
                    <td class="num" data-pace>
                      {pace ? t.me.perKm(pace) : "–"}
                    </td>
                    <td>{r.notes}</td>
                    <td class="actions">
                      <button
                        type="button"
                        data-action="edit-record"
                        aria-label={`${t.common.edit}: ${date(r.date)}`}
                        onClick={() => setEditing(r)}
                      >
                        {t.common.edit}
                      </button>
                      <button
                        type="button"
                        data-action="delete-record"
                        aria-label={`${t.common.delete}: ${date(r.date)}`}
                        onClick={() => remove(r)}
                      >
                        {t.common.delete}
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <More paged={paged} />
      <PersonalBests version={changes} />
      <RecordForm
        key={editing?.id ?? "new"}
        record={editing}
        onSubmit={() => setNotice("")}
        onSaved={saved}
        onCancel={() => setEditing(null)}
      />
    </>
  );
}

function RecordForm({
  record,
  onSubmit,
  onSaved,
  onCancel,
}: {
  record: RecordView | null;
  onSubmit: () => void;
  onSaved: (r: RecordView, created: boolean) => void;
  onCancel: () => void;
}) {
  const { t } = useI18n();
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const errors = fieldErrors(problem);
  const prefix = record ? "edit" : "new";
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    const durationText = String(data.get("duration"));
    // The API reads "H:MM:SS" itself; seconds are sent when the text parses, so the pace
    // shown afterwards is computed from the same number the API stored.
    const seconds = parseDuration(durationText);
    const body = {
      kind: data.get("kind") === "race" ? ("race" as const) : ("training" as const),
      date: String(data.get("date")),
      distance_m: Number(data.get("distance_m")),
      duration: seconds ?? durationText,
      notes: String(data.get("notes") ?? ""),
    };
    setBusy(true);
    onSubmit();
    const o = record
      ? await call(api.PATCH("/me/records/{id}", { params: { path: { id: record.id } }, body }))
      : await call(api.POST("/me/records", { body }));
    setBusy(false);
    if (!o.ok) return setProblem(o.problem);
    setProblem(null);
    if (!record) form.reset();
    onSaved(o.data, !record);
  };
  return (
    <section aria-labelledby={`${prefix}-record-heading`}>
      <h2 id={`${prefix}-record-heading`}>{record ? t.me.editRecord : t.me.addRecord}</h2>
      <form onSubmit={submit} class="form" data-form={`${prefix}-record`}>
        <div class="field">
          <label for={`${prefix}-kind`}>{t.me.kind}</label>
          <select id={`${prefix}-kind`} name="kind">
            <option value="training">{t.me.kinds.training}</option>
            <option value="race" selected={record?.kind === "race"}>
              {t.me.kinds.race}
            </option>
          </select>
          <FieldError id={`${prefix}-kind`} error={errors.kind} />
        </div>
        <Field idPrefix={prefix} name="date" type="date" label={t.marathon.date} required defaultValue={record?.date} error={errors.date} />
        <Field
          idPrefix={prefix}
          name="distance_m"
          type="number"
          min={1}
          max={1000000}
          step={1}
          inputMode="numeric"
          label={t.me.distance}
          required
          defaultValue={record ? String(record.distance_m) : undefined}
          error={errors.distance_m}
        />
        <Field
          idPrefix={prefix}
          name="duration"
          label={t.me.duration}
          placeholder="0:45:30"
          pattern="\s*\d{1,2}:[0-5]\d:[0-5]\d\s*"
          required
          defaultValue={record ? formatDuration(record.duration_seconds) : undefined}
          error={errors.duration}
        />
        <div class="field">
          <label for={`${prefix}-notes`}>{t.me.notes}</label>
          <textarea id={`${prefix}-notes`} name="notes" maxLength={2000} rows={2} defaultValue={record?.notes ?? ""} />
          <FieldError id={`${prefix}-notes`} error={errors.notes} />
        </div>
        <Alert problem={problem} />
        <div class="buttons">
          <button type="submit" class="primary" disabled={busy}>
            {t.common.save}
          </button>
          {record && (
            <button type="button" onClick={onCancel}>
              {t.common.cancel}
            </button>
          )}
        </div>
      </form>
    </section>
  );
}
