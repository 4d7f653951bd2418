//! Bulk results import (issue 16): the owning organizer opens an import and gets a
//! presigned URL to PUT the results file to (S3, not this API: its body limit stays 64
//! KiB); results-import answers the dry run on the import (GET), and the commit route
//! starts the commit (a marker object results-import is triggered by). Its HTTP types are
//! here, beside the routes, as the import's whole contract; its rules are
//! in `usecases::imports`.

use axum::Json;
use axum::extract::State as Extract;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::import::{Import, ImportMode, ImportState};
use infra::http::openapi::ulid;
use infra::http::{ApiJson, ApiPath, Caller, Problem};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::openapi::schema::Schema;
use utoipa::{IntoParams, ToSchema};

use super::{marathon_id, reader};
use crate::state::State;
use crate::usecases::imports;

fn marathon_id_schema() -> Schema {
    ulid("The marathon's id.").into()
}

fn import_id_schema() -> Schema {
    ulid("The import's id.").into()
}

/// `/marathons/{id}/imports/{import_id}…`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ImportPath {
    #[param(schema_with = marathon_id_schema)]
    pub id: String,
    #[param(schema_with = import_id_schema)]
    pub import_id: String,
}

/// `/marathons/{id}/imports`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ImportsPath {
    #[param(schema_with = marathon_id_schema)]
    pub id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The file adds and corrects results; the others stay.
    #[default]
    Merge,
    /// The file is the whole result list: results it does not name are removed.
    Replace,
}

/// Opens an import.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportBody {
    #[serde(default)]
    pub mode: Mode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportStatus {
    /// Waiting for the file (or for its dry run).
    AwaitingUpload,
    /// Dry run done: `summary` and `errors` say what a commit would do.
    Validated,
    /// The file as a whole cannot be read: `file_error` says why. Upload another.
    Rejected,
    Committing,
    Committed,
}

/// One refused row: never applied.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RowErrorView {
    /// The file's line (the header is line 1).
    pub line: u64,
    /// The column as the file's header names it.
    pub column: String,
    /// Why: unknown bib, duplicate bib, bad time, status and times do not match...
    pub reason: String,
}

/// What the dry run found.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SummaryView {
    pub rows: u32,
    pub valid: u32,
    pub failed: u32,
    pub new: u32,
    pub corrections: u32,
    pub unchanged: u32,
    /// Results a replace removes (0 for a merge).
    pub removals: u32,
}

/// An import's state, dry-run report and progress.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportView {
    pub id: String,
    pub marathon_id: String,
    pub mode: Mode,
    pub state: ImportStatus,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<SummaryView>,
    /// The first 1,000 row errors, in file order.
    pub errors: Vec<RowErrorView>,
    /// Every row error the dry run found.
    pub error_count: u32,
    /// Valid rows the commit has applied (written, or already as the file says).
    pub applied: u32,
    /// Rows refused by the dry run: never applied.
    pub failed: u32,
    /// Valid rows not applied yet.
    pub pending: u32,
    /// Results removed by a replace.
    pub removed: u32,
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub committed_at: Option<OffsetDateTime>,
}

impl From<Import> for ImportView {
    fn from(i: Import) -> Self {
        let (failed, pending) = (i.failed(), i.pending());
        Self {
            id: i.id.to_string(),
            marathon_id: i.marathon_id.to_string(),
            mode: match i.mode {
                ImportMode::Merge => Mode::Merge,
                ImportMode::Replace => Mode::Replace,
            },
            state: match i.state {
                ImportState::AwaitingUpload => ImportStatus::AwaitingUpload,
                ImportState::Validated => ImportStatus::Validated,
                ImportState::Rejected => ImportStatus::Rejected,
                ImportState::Committing => ImportStatus::Committing,
                ImportState::Committed => ImportStatus::Committed,
            },
            created_at: i.created_at,
            updated_at: i.updated_at,
            file_error: i.file_error,
            summary: i.summary.map(|s| SummaryView {
                rows: s.rows,
                valid: s.valid,
                failed: s.failed,
                new: s.new,
                corrections: s.corrections,
                unchanged: s.unchanged,
                removals: s.removals,
            }),
            errors: i
                .errors
                .into_iter()
                .map(|e| RowErrorView {
                    line: e.line,
                    column: e.column,
                    reason: e.reason,
                })
                .collect(),
            error_count: i.error_count,
            applied: i.applied,
            failed,
            pending,
            removed: i.removed,
            committed_at: i.committed_at,
        }
    }
}

/// Where and how to upload the file.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Upload {
    /// A presigned S3 URL: PUT the file's bytes there, with the header below.
    pub url: String,
    /// Always "PUT".
    pub method: String,
    /// Always "text/csv": the Content-Type the URL is signed for.
    pub content_type: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: OffsetDateTime,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportCreated {
    pub import: ImportView,
    pub upload: Upload,
}

/// Opens an import and gives the URL to upload its results file to.
#[utoipa::path(
    post,
    path = "/marathons/{id}/imports",
    operation_id = "create_import",
    tag = "imports",
    request_body = ImportBody,
    security(("bearer" = [])),
    params(ImportsPath),
    responses(
        (status = 201, description = "Opened: PUT the file (CSV with a header naming at least bib, status and chip time; UTF-8, comma or semicolon; up to 20,000 rows and 10 MiB) to `upload.url` with `Content-Type: text/csv`. Its dry run then shows on the import.", body = ImportCreated, headers(
            ("Location" = String, description = "/marathons/{id}/imports/{import_id}"),
        )),
        (status = 403, description = "Only the marathon's organizer may import results, once their email address is verified."),
        (status = 404, description = "No such marathon."),
        (status = 409, description = "The marathon is cancelled, or its race day has not come yet."),
    )
)]
pub async fn create(
    Extract(api): Extract<State>,
    caller: Caller,
    ApiPath(ImportsPath { id }): ApiPath<ImportsPath>,
    ApiJson(body): ApiJson<ImportBody>,
) -> Result<Response, Problem> {
    let mode = match body.mode {
        Mode::Merge => ImportMode::Merge,
        Mode::Replace => ImportMode::Replace,
    };
    let opened = imports::open(api.ports(), &reader(caller), &marathon_id(&id)?, mode).await?;
    let import = opened.import;
    let location = format!("/marathons/{}/imports/{}", import.marathon_id, import.id);
    let created = ImportCreated {
        import: import.into(),
        upload: Upload {
            url: opened.upload_url,
            method: "PUT".into(),
            content_type: "text/csv".into(),
            expires_at: opened.expires_at,
        },
    };
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(created)).into_response())
}

/// The import: its dry-run report (summary and per-row errors) and its progress.
#[utoipa::path(
    get,
    path = "/marathons/{id}/imports/{import_id}",
    operation_id = "get_import",
    tag = "imports",
    security(("bearer" = [])),
    params(ImportPath),
    responses(
        (status = 200, description = "The import.", body = ImportView),
        (status = 403, description = "Only the marathon's organizer may read its imports."),
        (status = 404, description = "No such marathon or import."),
    )
)]
pub async fn show(
    Extract(api): Extract<State>,
    caller: Caller,
    ApiPath(ImportPath { id, import_id }): ApiPath<ImportPath>,
) -> Result<Json<ImportView>, Problem> {
    let import = imports::status(api.ports(), &reader(caller), &marathon_id(&id)?, &import_id).await?;
    Ok(Json(import.into()))
}

/// Commits the validated import: its valid rows are written as results (each as a
/// `PUT /marathons/{id}/results/{runner_id}` would), a replace removes the others.
/// Idempotent: committing again has no further effect, and resumes a commit that stopped.
#[utoipa::path(
    post,
    path = "/marathons/{id}/imports/{import_id}/commit",
    operation_id = "commit_import",
    tag = "imports",
    security(("bearer" = [])),
    params(ImportPath),
    responses(
        (status = 200, description = "Committed before: nothing more is done.", body = ImportView),
        (status = 202, description = "Committing: follow `applied` and `pending` on the import.", body = ImportView),
        (status = 403, description = "Only the marathon's organizer may commit, once their email address is verified."),
        (status = 404, description = "No such marathon or import."),
        (status = 409, description = "The import has no dry run to commit yet (no file, or a file that cannot be read)."),
    )
)]
pub async fn commit(
    Extract(api): Extract<State>,
    caller: Caller,
    ApiPath(ImportPath { id, import_id }): ApiPath<ImportPath>,
) -> Result<Response, Problem> {
    let import = imports::commit(api.ports(), &reader(caller), &marathon_id(&id)?, &import_id).await?;
    // 200 when there was nothing more to do, 202 while the commit runs
    let status = if import.state == ImportState::Committed {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    Ok((status, Json(ImportView::from(import))).into_response())
}
