import { useLocation } from "preact-iso";
import { useCallback, useEffect, useState } from "preact/hooks";
import { api, etag } from "../api/client";
import type { components } from "../api/schema";
import { useSession } from "../api/session";
import { Alert, Field, FieldError, Guard, More, Notice, PageLoading, usePaged, useTitle } from "../components";
import { useI18n } from "../i18n";
import { call } from "../lib/call";
import { type Course, courseLabel, type Marathon } from "../lib/marathon";
import { fieldErrors, type Problem } from "../lib/problem";
import { fromLocalInput, toLocalInput } from "../lib/time";
import { MarathonDetails, MarathonList } from "./public";

type NewMarathon = components["schemas"]["NewMarathon"];
type MarathonChanges = components["schemas"]["MarathonChanges"];
type Result = components["schemas"]["Result"];
type Entry = components["schemas"]["EntryView"];

const CLASSIC = ["full", "half", "10k", "5k"] as const;
/** record-api's answer to an organizer whose address is not verified yet (issue 15). */
const UNVERIFIED_EMAIL = "https://mrmrthon.dev/problems/unverified-email";

export function OrganizerPage() {
  const { t } = useI18n();
  const session = useSession();
  useTitle(t.org.title);
  return (
    <Guard role="organizer">
      {() => (
        <>
          <h1>{t.org.title}</h1>
          <p>
            <a href="/organizer/marathons/new" class="button primary">
              {t.org.create}
            </a>
          </p>
          <MarathonList organizer={session.me!.id} empty={t.org.empty} />
        </>
      )}
    </Guard>
  );
}

/** Reads the marathon form into a full NewMarathon; the API validates the values. */
function readForm(form: HTMLFormElement): NewMarathon {
  const d = new FormData(form);
  const course = String(d.get("course"));
  const closes = String(d.get("registration_closes_at") ?? "");
  return {
    name: String(d.get("name")),
    date: String(d.get("date")),
    location: String(d.get("location")),
    course: (CLASSIC as readonly string[]).includes(course)
      ? (course as (typeof CLASSIC)[number])
      : Number(d.get("distance_m")),
    points: Number(d.get("points")),
    capacity: Number(d.get("capacity")),
    // An unreadable value goes as typed, so the API names the field.
    registration_closes_at: fromLocalInput(closes) ?? closes,
  };
}

function sameCourse(a: Course, b: Course): boolean {
  return a === b;
}

/** Only what differs from the marathon as read: absent fields stay as they are. */
function changes(before: Marathon, after: NewMarathon): MarathonChanges {
  const out: MarathonChanges = {};
  if (after.name !== before.name) out.name = after.name;
  if (after.date !== before.date) out.date = after.date;
  if (after.location !== before.location) out.location = after.location;
  if (!sameCourse(after.course, before.course)) out.course = after.course;
  if (after.points !== before.points) out.points = after.points;
  if (after.capacity !== before.capacity) out.capacity = after.capacity;
  if (Date.parse(after.registration_closes_at) !== Date.parse(before.registration_closes_at))
    out.registration_closes_at = after.registration_closes_at;
  return out;
}

function MarathonForm({
  initial,
  problem,
  busy,
  submitLabel,
  onSubmit,
}: {
  initial: Marathon | null;
  problem: Problem | null;
  busy: boolean;
  submitLabel: string;
  onSubmit: (values: NewMarathon) => void;
}) {
  const { t } = useI18n();
  const initialCourse = initial ? (typeof initial.course === "string" ? initial.course : "custom") : "full";
  const [custom, setCustom] = useState(initialCourse === "custom");
  const errors = fieldErrors(problem);
  return (
    <form
      class="form"
      onSubmit={(e) => {
        e.preventDefault();
        onSubmit(readForm(e.currentTarget));
      }}
    >
      <Field name="name" label={t.org.name} required maxLength={200} defaultValue={initial?.name} error={errors.name} />
      <Field name="date" type="date" label={t.org.date} required defaultValue={initial?.date} error={errors.date} />
      <Field
        name="location"
        label={t.org.location}
        required
        maxLength={200}
        defaultValue={initial?.location}
        error={errors.location}
      />
      <div class="field">
        <label for="f-course">{t.org.course}</label>
        <select
          id="f-course"
          name="course"
          onChange={(e) => setCustom(e.currentTarget.value === "custom")}
          aria-describedby={errors.course ? "f-course-error" : undefined}
        >
          {CLASSIC.map((c) => (
            <option key={c} value={c} selected={initialCourse === c}>
              {t.courses[c]}
            </option>
          ))}
          <option value="custom" selected={initialCourse === "custom"}>
            {t.org.customCourse}
          </option>
        </select>
        <FieldError id="f-course" error={errors.course} />
      </div>
      {custom && (
        <Field
          name="distance_m"
          type="number"
          min={1}
          max={1000000}
          step={1}
          label={t.org.distance}
          required
          defaultValue={initial ? String(initial.distance_m) : undefined}
        />
      )}
      <Field
        name="points"
        type="number"
        min={0}
        max={100000}
        step={1}
        label={t.org.points}
        required
        defaultValue={initial ? String(initial.points) : undefined}
        error={errors.points}
      />
      <Field
        name="capacity"
        type="number"
        min={1}
        max={100000}
        step={1}
        label={t.org.capacity}
        required
        defaultValue={initial ? String(initial.capacity) : undefined}
        error={errors.capacity}
      />
      <Field
        name="registration_closes_at"
        type="datetime-local"
        label={t.org.closes}
        required
        defaultValue={initial ? toLocalInput(initial.registration_closes_at) : undefined}
        error={errors.registration_closes_at}
      />
      <Alert problem={problem} />
      <button type="submit" class="primary" disabled={busy}>
        {submitLabel}
      </button>
    </form>
  );
}

export function NewMarathonPage() {
  const { t } = useI18n();
  useTitle(t.org.newTitle);
  return <Guard role="organizer">{() => <NewMarathon />}</Guard>;
}

function NewMarathon() {
  const { t } = useI18n();
  const { route } = useLocation();
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const create = async (body: NewMarathon) => {
    setBusy(true);
    const o = await call(api.POST("/marathons", { body }));
    setBusy(false);
    if (!o.ok) return setProblem(o.problem);
    route(`/organizer/marathons/${o.data.id}`);
  };
  return (
    <>
      <h1>{t.org.newTitle}</h1>
      <MarathonForm initial={null} problem={problem} busy={busy} submitLabel={t.org.createSubmit} onSubmit={create} />
    </>
  );
}

export function ManageMarathonPage({ id }: { id: string }) {
  const { t } = useI18n();
  useTitle(t.org.title);
  // Keyed: another marathon is another page, with none of this one's state.
  return <Guard role="organizer">{() => <ManageMarathon key={id} id={id} />}</Guard>;
}

interface Conflict {
  fresh: Marathon;
  mine: MarathonChanges;
}

function ManageMarathon({ id }: { id: string }) {
  const { t, number, dateTime, date } = useI18n();
  const [marathon, setMarathon] = useState<Marathon | null>(null);
  const [loadProblem, setLoadProblem] = useState<Problem | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [notice, setNotice] = useState("");
  const [busy, setBusy] = useState(false);
  const [conflict, setConflict] = useState<Conflict | null>(null);
  // Bumped to reset the form to the marathon's stored values.
  const [formKey, setFormKey] = useState(0);

  const read = useCallback(async () => {
    const o = await call(api.GET("/marathons/{id}", { params: { path: { id } } }));
    if (!o.ok) {
      setLoadProblem(o.problem);
      return null;
    }
    return o.data;
  }, [id]);

  useEffect(() => {
    read().then((m) => {
      if (m) setMarathon(m);
    });
  }, [read]);
  useTitle(marathon ? t.org.editTitle(marathon.name) : t.org.title);

  if (!marathon)
    return loadProblem ? (
      <>
        <h1>{t.common.notFound}</h1>
        <Alert problem={loadProblem} />
      </>
    ) : (
      <PageLoading />
    );

  const onPrecondition = async (mine: MarathonChanges) => {
    const fresh = await read();
    if (fresh) setConflict({ fresh, mine });
  };

  const save = async (values: NewMarathon) => {
    const body = changes(marathon, values);
    setNotice("");
    if (Object.keys(body).length === 0) {
      setProblem(null);
      return setNotice(t.org.nothingChanged);
    }
    setBusy(true);
    const o = await call(
      api.PATCH("/marathons/{id}", { params: { path: { id }, header: { "If-Match": etag(marathon.version) } }, body }),
    );
    setBusy(false);
    if (!o.ok) {
      if (o.problem.status === 412) {
        setProblem(null);
        return onPrecondition(body);
      }
      return setProblem(o.problem);
    }
    setProblem(null);
    setConflict(null);
    setMarathon(o.data);
    setFormKey((k) => k + 1);
    setNotice(t.org.saved);
  };

  const cancelMarathon = async () => {
    if (!confirm(t.org.confirmCancel(marathon.name))) return;
    setBusy(true);
    const o = await call(
      api.DELETE("/marathons/{id}", { params: { path: { id }, header: { "If-Match": etag(marathon.version) } } }),
    );
    setBusy(false);
    if (!o.ok) {
      if (o.problem.status === 412) return onPrecondition({});
      return setProblem(o.problem);
    }
    setProblem(null);
    setMarathon(o.data);
    setFormKey((k) => k + 1);
    setNotice(t.org.cancelledNow);
  };

  const show = (field: string, m: Marathon | MarathonChanges): string => {
    const v = (m as Record<string, unknown>)[field];
    if (v === undefined || v === null) return "–";
    if (field === "course") return courseLabel(t, v as Course, typeof v === "number" ? v : 0, number);
    if (field === "registration_closes_at") return dateTime(String(v));
    if (field === "date") return date(String(v));
    return typeof v === "number" ? number(v) : String(v);
  };

  return (
    <>
      <h1>{t.org.editTitle(marathon.name)}</h1>
      <p>
        <a href={`/marathons/${id}`}>{t.org.view}</a> · <a href={`/marathons/${id}/results`}>{t.marathon.results}</a>
      </p>
      <MarathonDetails m={marathon} />
      <Notice>{notice}</Notice>
      {conflict && (
        <div role="alert" class="alert">
          <p class="alert-title">{t.org.conflictTitle}</p>
          <p>{t.org.conflictBody}</p>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">{t.org.field}</th>
                  <th scope="col">{t.org.current}</th>
                  <th scope="col">{t.org.yours}</th>
                </tr>
              </thead>
              <tbody>
                {Object.keys(t.org.fieldNames).map((f) => (
                  <tr key={f} class={f in conflict.mine ? "changed" : undefined}>
                    <th scope="row">{t.org.fieldNames[f]}</th>
                    <td>{show(f, conflict.fresh)}</td>
                    <td>{f in conflict.mine ? show(f, conflict.mine) : "–"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div class="buttons">
            <button
              type="button"
              onClick={() => {
                setMarathon(conflict.fresh);
                setConflict(null);
                setFormKey((k) => k + 1);
              }}
            >
              {t.org.useFresh}
            </button>
            <button
              type="button"
              onClick={() => {
                // The next save is checked against the fresh version. Inputs the user edited
                // keep their text; untouched ones follow the fresh values (a changed
                // defaultValue moves an input's value until it is edited: HTML's dirty flag).
                setMarathon(conflict.fresh);
                setConflict(null);
                setNotice(t.org.keepMineDone);
              }}
            >
              {t.org.keepMine}
            </button>
          </div>
        </div>
      )}
      <section aria-labelledby="edit-heading">
        <h2 id="edit-heading">{t.org.editHeading}</h2>
        <MarathonForm
          key={formKey}
          initial={marathon}
          problem={problem}
          busy={busy}
          submitLabel={t.org.saveChanges}
          onSubmit={save}
        />
        {marathon.status === "open" && (
          <p>
            <button type="button" data-action="cancel-marathon" class="danger" onClick={cancelMarathon} disabled={busy}>
              {t.org.cancelMarathon}
            </button>
          </p>
        )}
      </section>
      <Participants id={id} />
    </>
  );
}

/** Every result of the marathon, by runner: the participants' forms need each one's version. */
async function allResults(id: string): Promise<{ ok: true; map: Map<string, Result> } | { ok: false; problem: Problem }> {
  const map = new Map<string, Result>();
  let cursor: string | undefined;
  for (;;) {
    const o = await call(api.GET("/marathons/{id}/results", { params: { path: { id }, query: { cursor, limit: 100 } } }));
    if (!o.ok) return o;
    for (const r of o.data.items) map.set(r.runner_id, r);
    if (!o.data.next_cursor) return { ok: true, map };
    cursor = o.data.next_cursor;
  }
}

function Participants({ id }: { id: string }) {
  const { t } = useI18n();
  const [results, setResults] = useState<Map<string, Result>>(new Map());
  const [problem, setProblem] = useState<Problem | null>(null);
  const paged = usePaged(
    (cursor) => call(api.GET("/marathons/{id}/entries", { params: { path: { id }, query: { cursor, limit: 100 } } })),
    (e) => e.runner_id,
    [id],
  );
  const reloadResults = useCallback(async () => {
    const o = await allResults(id);
    if (o.ok) setResults(o.map);
    else setProblem(o.problem);
  }, [id]);
  useEffect(() => {
    reloadResults();
  }, [reloadResults]);
  const setOne = (runner: string, r: Result | null) =>
    setResults((before) => {
      const next = new Map(before);
      if (r) next.set(runner, r);
      else next.delete(runner);
      return next;
    });
  return (
    <section aria-labelledby="participants-heading">
      <h2 id="participants-heading">{t.org.participants}</h2>
      <Alert problem={problem ?? paged.problem} />
      {!paged.loading && paged.items.length === 0 && !paged.problem && <p>{t.org.participantsEmpty}</p>}
      {paged.items.length > 0 && (
        <div class="table-wrap">
          <table class="participants">
            <thead>
              <tr>
                <th scope="col">{t.results.runner}</th>
                <th scope="col">{t.results.time}</th>
              </tr>
            </thead>
            <tbody>
              {paged.items.map((e) => (
                <ParticipantRow
                  key={e.runner_id}
                  marathonId={id}
                  entry={e}
                  result={results.get(e.runner_id) ?? null}
                  onResult={setOne}
                  onConflict={reloadResults}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <More paged={paged} />
    </section>
  );
}

function ParticipantRow({
  marathonId,
  entry,
  result,
  onResult,
  onConflict,
}: {
  marathonId: string;
  entry: Entry;
  result: Result | null;
  onResult: (runner: string, r: Result | null) => void;
  onConflict: () => Promise<void>;
}) {
  const { t, number } = useI18n();
  const [problem, setProblem] = useState<Problem | null>(null);
  const [notice, setNotice] = useState("");
  const [busy, setBusy] = useState(false);
  const errors = fieldErrors(problem);
  const prefix = `r-${entry.runner_id}`;
  const path = { id: marathonId, runner_id: entry.runner_id };
  // A result not yet recorded is at "0" (contract.rs): recording twice at once conflicts.
  const ifMatch = etag(result?.version ?? 0);

  const failed = async (p: Problem) => {
    if (p.status === 412) {
      await onConflict();
      setProblem({ ...p, title: t.org.resultConflict, detail: undefined });
    } else if (p.type === UNVERIFIED_EMAIL) {
      // the API's words are English: say it in the page's language, and where to go
      setProblem({ ...p, title: t.org.unverifiedTitle, detail: t.org.unverifiedDetail });
    } else setProblem(p);
  };

  const save = async (e: Event) => {
    e.preventDefault();
    const d = new FormData(e.currentTarget as HTMLFormElement);
    const bonus = String(d.get("bonus_points") ?? "").trim();
    const text = (field: string) => String(d.get(field) ?? "").trim() || null;
    setBusy(true);
    setNotice("");
    const o = await call(
      api.PUT("/marathons/{id}/results/{runner_id}", {
        params: { path, header: { "If-Match": ifMatch } },
        body: {
          status: (text("status") ?? "finished") as Result["status"],
          // the chip time, under its older name (a dnf or dns sends none)
          finish_time: text("finish_time"),
          gun_time: text("gun_time"),
          bonus_points: bonus === "" ? 0 : Number(bonus),
        },
      }),
    );
    setBusy(false);
    if (!o.ok) return failed(o.problem);
    setProblem(null);
    onResult(entry.runner_id, o.data);
    setNotice(t.org.recorded(entry.runner_name));
  };

  const remove = async () => {
    if (!result || !confirm(t.org.confirmDeleteResult(entry.runner_name))) return;
    setBusy(true);
    setNotice("");
    const o = await call(
      api.DELETE("/marathons/{id}/results/{runner_id}", { params: { path, header: { "If-Match": ifMatch } } }),
    );
    setBusy(false);
    if (!o.ok) return failed(o.problem);
    setProblem(null);
    onResult(entry.runner_id, null);
    setNotice(t.org.resultDeleted(entry.runner_name));
  };

  return (
    <tr data-runner-id={entry.runner_id}>
      <th scope="row">
        <a href={`/runners/${entry.runner_id}`}>{entry.runner_name}</a>
        {entry.bib != null && (
          <p class="muted">
            {t.results.bib} {entry.bib}
          </p>
        )}
        {result && (
          <p class="muted">
            {result.status === "finished" ? result.chip_time : t.results.statuses[result.status]} ·{" "}
            {number(result.points)} {t.results.points}
          </p>
        )}
      </th>
      <td>
        {/* Keyed by the result's version: a save or a fresh read resets the inputs. */}
        <form key={result?.version ?? 0} class="row-form" onSubmit={save}>
          <div class="field">
            <label for={`${prefix}-status`}>{t.org.status}</label>
            <select
              id={`${prefix}-status`}
              name="status"
              defaultValue={result?.status ?? "finished"}
              aria-invalid={errors.status ? "true" : undefined}
              aria-describedby={errors.status ? `${prefix}-status-error` : undefined}
            >
              {(["finished", "dnf", "dns", "dq"] as const).map((s) => (
                <option key={s} value={s}>
                  {t.results.statuses[s]}
                </option>
              ))}
            </select>
            <FieldError id={`${prefix}-status`} error={errors.status} />
          </div>
          <Field
            idPrefix={prefix}
            name="finish_time"
            label={t.org.finishTime}
            placeholder="3:12:45"
            defaultValue={result?.chip_time ?? undefined}
            error={errors.finish_time ?? errors.chip_time}
          />
          <Field
            idPrefix={prefix}
            name="gun_time"
            label={t.org.gunTime}
            placeholder="3:13:30"
            defaultValue={result?.gun_time ?? undefined}
            error={errors.gun_time}
          />
          <Field
            idPrefix={prefix}
            name="bonus_points"
            type="number"
            min={0}
            max={10000}
            step={1}
            label={t.org.bonus}
            defaultValue={String(result?.bonus_points ?? 0)}
            error={errors.bonus_points}
          />
          <div class="buttons">
            <button
              type="submit"
              class="primary"
              disabled={busy}
              aria-label={`${t.org.record}: ${entry.runner_name}`}
            >
              {t.org.record}
            </button>
            {result && (
              <button
                type="button"
                data-action="delete-result"
                class="danger"
                onClick={remove}
                disabled={busy}
                aria-label={`${t.org.deleteResult}: ${entry.runner_name}`}
              >
                {t.org.deleteResult}
              </button>
            )}
          </div>
          <Alert problem={problem} />
          <Notice>{notice}</Notice>
        </form>
      </td>
    </tr>
  );
}
