// The organizer's bulk results import (DESIGN: Bulk results import): choose a CSV file,
// upload it to the presigned URL, read the dry run's report, commit, follow the commit to
// its end, then the ranking.
import { useLocation } from "preact-iso";
import { useCallback, useEffect, useState } from "preact/hooks";
import { api } from "../api/client";
import type { components } from "../api/schema";
import { Alert, Field, Guard, Notice, PageLoading, useTitle } from "../components";
import { useI18n } from "../i18n";
import { call } from "../lib/call";
import type { Marathon } from "../lib/marathon";
import type { Problem } from "../lib/problem";
import { MAX_FILE_BYTES, putFile } from "../lib/upload";

type ImportView = components["schemas"]["ImportView"];
type Mode = components["schemas"]["Mode"];

/** record-api's answer to an organizer whose address is not verified yet (issue 15). */
const UNVERIFIED_EMAIL = "https://mrmrthon.dev/problems/unverified-email";
/** How often the import is read while its dry run or commit runs. */
const POLL_MS = 1000;

/** The columns the import reads, with the other names it accepts (DESIGN). */
const COLUMNS: [key: string, name: string, aliases: string][] = [
  ["bib", "bib", "bib_number, bib_no, race_number, number, no"],
  ["status", "status", ""],
  ["chip_time", "chip_time", "chip, net_time, finish_time, time"],
  ["gun_time", "gun_time", "gun, gross_time, clock_time"],
  ["split", "split_<label>", ""],
  ["email", "email", ""],
];

const SAMPLE = `Place,Bib,Name,Status,Chip Time,Gun Time,Split 10K
1,101,Kim Minji,finished,2:41:07,2:41:30,0:37:55
2,205,Lee Jun,FIN,2:58:43.4,2:59:20,0:41:02
,318,Park Seo,dnf,,,
,422,Choi Ara,dns,,,
`;

export function ImportPage({ id }: { id: string }) {
  const { t } = useI18n();
  useTitle(t.imp.titleShort);
  return <Guard role="organizer">{() => <Import key={id} id={id} />}</Guard>;
}

function Import({ id }: { id: string }) {
  const { t } = useI18n();
  const { query, route, path } = useLocation();
  const [marathon, setMarathon] = useState<Marathon | null>(null);
  const [loadProblem, setLoadProblem] = useState<Problem | null>(null);
  const [view, setView] = useState<ImportView | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const [uploading, setUploading] = useState(false);
  const importId = view?.id ?? query.import;

  useEffect(() => {
    call(api.GET("/marathons/{id}", { params: { path: { id } } })).then((o) =>
      o.ok ? setMarathon(o.data) : setLoadProblem(o.problem),
    );
  }, [id]);
  useTitle(marathon ? t.imp.title(marathon.name) : t.imp.titleShort);

  const failed = useCallback(
    (p: Problem) =>
      setProblem(p.type === UNVERIFIED_EMAIL ? { ...p, title: t.org.unverifiedTitle, detail: t.org.unverifiedDetail } : p),
    [t],
  );

  const read = useCallback(
    async (import_id: string) => {
      const o = await call(api.GET("/marathons/{id}/imports/{import_id}", { params: { path: { id, import_id } } }));
      if (o.ok) setView(o.data);
      else failed(o.problem);
      return o.ok;
    },
    [id, failed],
  );

  // An import named in the address (a reload, a link) is read back where it stands.
  useEffect(() => {
    if (query.import && !view) read(query.import);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [query.import]);

  // While the dry run or the commit runs (the file's S3 event starts both), the import
  // is read again until it settles.
  const running = !uploading && (view?.state === "awaiting_upload" || view?.state === "committing");
  useEffect(() => {
    if (!running || !view) return;
    const timer = setTimeout(() => read(view.id), POLL_MS);
    return () => clearTimeout(timer);
  }, [running, view, read]);

  const start = async (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    const file = data.get("file");
    const mode = (String(data.get("mode") ?? "merge") || "merge") as Mode;
    if (!(file instanceof File) || file.size === 0)
      return setProblem({ status: 400, title: t.imp.noFile, errors: [] });
    if (file.size > MAX_FILE_BYTES) return setProblem({ status: 413, title: t.imp.tooLarge, errors: [] });
    setBusy(true);
    setProblem(null);
    const opened = await call(api.POST("/marathons/{id}/imports", { params: { path: { id } }, body: { mode } }));
    if (!opened.ok) {
      setBusy(false);
      return failed(opened.problem);
    }
    setUploading(true);
    setView(opened.data.import);
    // the address names the import: a reload comes back to its report
    route(`${path}?import=${opened.data.import.id}`, true);
    const refused = await putFile(opened.data.upload, file);
    setUploading(false);
    setBusy(false);
    if (refused) {
      setView(null);
      return setProblem({ ...refused, title: refused.title || t.imp.uploadFailed });
    }
    await read(opened.data.import.id);
  };

  const commit = async () => {
    if (!view) return;
    const removals = view.summary?.removals ?? 0;
    if (view.mode === "replace" && removals > 0 && !confirm(t.imp.confirmReplace(removals))) return;
    setBusy(true);
    setProblem(null);
    const o = await call(
      api.POST("/marathons/{id}/imports/{import_id}/commit", { params: { path: { id, import_id: view.id } } }),
    );
    setBusy(false);
    if (!o.ok) return failed(o.problem);
    setView(o.data);
  };

  const again = () => {
    setView(null);
    setProblem(null);
    route(path, true);
  };

  if (!marathon)
    return loadProblem ? (
      <>
        <h1>{t.common.notFound}</h1>
        <Alert problem={loadProblem} />
      </>
    ) : (
      <PageLoading />
    );

  return (
    <>
      <h1>{t.imp.title(marathon.name)}</h1>
      <p>
        <a href={`/organizer/marathons/${id}`}>{t.org.editTitle(marathon.name)}</a> ·{" "}
        <a href={`/marathons/${id}/results`}>{t.marathon.results}</a>
      </p>
      <p>{t.imp.intro}</p>
      {!importId && <Format />}
      <Alert problem={problem} />
      {!importId ? (
        <UploadForm busy={busy} onSubmit={start} />
      ) : !view ? (
        <PageStatus text={t.common.loading} />
      ) : (
        <Progress view={view} uploading={uploading} busy={busy} marathonId={id} onCommit={commit} onAgain={again} />
      )}
    </>
  );
}

function PageStatus({ text }: { text: string }) {
  return (
    <p role="status" aria-live="polite">
      {text}
    </p>
  );
}

/** The columns the file needs, and a sample. */
function Format() {
  const { t } = useI18n();
  return (
    <section aria-labelledby="format-heading">
      <h2 id="format-heading">{t.imp.formatHeading}</h2>
      <p>{t.imp.formatIntro}</p>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">{t.imp.column}</th>
              <th scope="col">{t.imp.alsoNamed}</th>
              <th scope="col">{t.imp.meaning}</th>
            </tr>
          </thead>
          <tbody>
            {COLUMNS.map(([key, name, aliases]) => (
              <tr key={key}>
                <th scope="row">
                  <code>{name}</code>
                </th>
                <td>{aliases ? <code>{aliases}</code> : "–"}</td>
                <td>{t.imp.columns[key]}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p>{t.imp.limits}</p>
      <h3 id="sample-heading">{t.imp.sample}</h3>
      <pre class="sample" aria-labelledby="sample-heading" tabIndex={0}>
        {SAMPLE}
      </pre>
    </section>
  );
}

function UploadForm({ busy, onSubmit }: { busy: boolean; onSubmit: (e: Event) => void }) {
  const { t } = useI18n();
  return (
    <section aria-labelledby="upload-heading">
      <h2 id="upload-heading">{t.imp.uploadHeading}</h2>
      <form class="form" onSubmit={onSubmit}>
        <fieldset class="choices">
          <legend>{t.imp.mode}</legend>
          {(["merge", "replace"] as const).map((m) => (
            <div key={m} class="choice">
              <input type="radio" id={`f-mode-${m}`} name="mode" value={m} defaultChecked={m === "merge"} />
              <label for={`f-mode-${m}`}>{m === "merge" ? t.imp.merge : t.imp.replace}</label>
            </div>
          ))}
        </fieldset>
        <Field name="file" type="file" accept=".csv,.txt,text/csv" required label={t.imp.file} hint={t.imp.fileHint} />
        <button type="submit" class="primary" disabled={busy}>
          {t.imp.upload}
        </button>
      </form>
    </section>
  );
}

function Progress({
  view,
  uploading,
  busy,
  marathonId,
  onCommit,
  onAgain,
}: {
  view: ImportView;
  uploading: boolean;
  busy: boolean;
  marathonId: string;
  onCommit: () => void;
  onAgain: () => void;
}) {
  const { t } = useI18n();
  const valid = view.summary?.valid ?? view.applied + view.pending;
  return (
    <section aria-labelledby="report-heading" data-import-id={view.id} data-state={view.state}>
      <h2 id="report-heading">
        {t.imp.reportHeading} · {t.imp.modeNames[view.mode]}
      </h2>
      {uploading && <PageStatus text={t.imp.uploading} />}
      {!uploading && view.state === "awaiting_upload" && <PageStatus text={t.imp.checking} />}
      {view.state === "rejected" && (
        <div role="alert" class="alert">
          <p class="alert-title">{t.imp.rejected}</p>
          {view.file_error && <p>{view.file_error}</p>}
          <p>{t.imp.rejectedHint}</p>
        </div>
      )}
      {view.summary && <Summary view={view} />}
      {view.summary && <RowErrors view={view} />}
      {view.state === "validated" && (
        <>
          {view.error_count > 0 && <p>{t.imp.errorsNote}</p>}
          <p>
            <button type="button" class="primary" data-action="commit-import" onClick={onCommit} disabled={busy}>
              {t.imp.commit}
            </button>
          </p>
        </>
      )}
      {view.state === "committing" && (
        <>
          <label for="commit-progress">{t.imp.progress}</label>
          <progress id="commit-progress" value={view.applied} max={Math.max(valid, 1)} />
          <PageStatus text={t.imp.committing(view.applied, valid)} />
        </>
      )}
      {view.state === "committed" && (
        <>
          <Notice>{t.imp.committed(view.applied, view.removed)}</Notice>
          <p>
            <a href={`/marathons/${marathonId}/results`} class="button primary" data-action="ranking">
              {t.imp.ranking}
            </a>
          </p>
        </>
      )}
      {(view.state === "committed" || view.state === "rejected" || view.state === "validated") && (
        <p>
          <button type="button" onClick={onAgain} disabled={busy}>
            {t.imp.another}
          </button>
        </p>
      )}
    </section>
  );
}

function Summary({ view }: { view: ImportView }) {
  const { t, number } = useI18n();
  const summary = view.summary!;
  const keys = ["rows", "valid", "failed", "new", "corrections", "unchanged", "removals"] as const;
  return (
    <dl class="summary">
      {keys
        .filter((k) => k !== "removals" || view.mode === "replace")
        .map((k) => (
          <div key={k}>
            <dt>{t.imp.summary[k]}</dt>
            <dd class="num" data-summary={k}>
              {number(summary[k])}
            </dd>
          </div>
        ))}
    </dl>
  );
}

function RowErrors({ view }: { view: ImportView }) {
  const { t, number } = useI18n();
  return (
    <section aria-labelledby="errors-heading">
      <h3 id="errors-heading">{t.imp.errorsHeading}</h3>
      {view.error_count === 0 ? (
        <p>{t.imp.noErrors}</p>
      ) : (
        <>
          {view.errors.length < view.error_count && <p>{t.imp.errorsShown(view.errors.length, view.error_count)}</p>}
          <div class="table-wrap">
            <table class="row-errors">
              <thead>
                <tr>
                  <th scope="col">{t.imp.line}</th>
                  <th scope="col">{t.imp.column}</th>
                  <th scope="col">{t.imp.reason}</th>
                </tr>
              </thead>
              <tbody>
                {view.errors.map((e) => (
                  <tr key={`${e.line}:${e.column}:${e.reason}`} data-line={e.line}>
                    <td class="num">{number(e.line)}</td>
                    <td>
                      <code>{e.column}</code>
                    </td>
                    <td>{e.reason}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
