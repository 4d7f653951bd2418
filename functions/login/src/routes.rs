//! The HTTP face of login: axum routes run by lambda_http (API Gateway HTTP API, payload
//! 2.0), each registered with its documentation, and the request and response types the
//! OpenAPI document is derived from. The use cases (`auth`) know nothing of HTTP.

use std::sync::Arc;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::greeting::Language;
use domain::password;
use domain::{Email, User, UserName};
use infra::http::openapi::trimmed_text;
use infra::http::{ApiJson, Origin, Problem, ProblemType};
use infra::served_routes;
use infra::tokens::{Jwk, Jwks};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::{InfoBuilder, OpenApi, OpenApiBuilder};
use utoipa::{ToSchema, openapi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{self, Auth, AuthError};
use crate::refresh_cookie;

/// Every route, once for both uses: `$each` is `routes` (utoipa-axum: each route with its
/// documentation) or `served_routes` (the route alone, for the router a cold start builds).
macro_rules! every_route {
    ($each:ident, $router:expr) => {
        $router
            .routes($each!(signup))
            .routes($each!(login))
            .routes($each!(refresh))
            .routes($each!(logout))
            .routes($each!(crate::account::change_password))
            .routes($each!(crate::account::logout_all))
            .routes($each!(crate::account::delete_account))
            .routes($each!(crate::reset::request_reset))
            .routes($each!(crate::reset::confirm_reset))
            .routes($each!(crate::verify::verify_email))
            .routes($each!(crate::verify::resend_verification))
            .routes($each!(jwks))
    };
}

/// login's routes with their documentation; template.yaml lists the same (a test holds
/// them together).
pub fn routes() -> OpenApiRouter<Arc<Auth>> {
    let info = InfoBuilder::new()
        .title("mrmrthon login")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "Accounts and tokens: signup, login, refresh, logout, and the JWKS the other \
             functions verify access tokens with.",
        ))
        .build();
    every_route!(
        routes,
        OpenApiRouter::with_openapi(OpenApiBuilder::new().info(info).build())
    )
}

/// The router the function serves: the same routes, no document built (see
/// `infra::http::Served`).
pub fn router(auth: Arc<Auth>) -> axum::Router {
    infra::http::served(every_route!(served_routes, infra::http::Served::new()), auth)
}

/// login's OpenAPI document, as its router serves it.
pub fn openapi() -> OpenApi {
    infra::http::document(routes())
}

fn user_name() -> Schema {
    trimmed_text(UserName::MAX_CHARS, "The name shown to others.").into()
}

pub(crate) fn new_password() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(password::MIN_CHARS))
        // Characters here; the domain also caps the UTF-8 bytes at the same number.
        .max_length(Some(password::MAX_BYTES))
        .description(Some(format!(
            "At least {} characters, at most {} bytes in UTF-8.",
            password::MIN_CHARS,
            password::MAX_BYTES
        )))
        .build()
        .into()
}

fn email() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(openapi::SchemaFormat::KnownFormat(
            openapi::KnownFormat::Email,
        )))
        .max_length(Some(Email::MAX_LEN))
        .description(Some("Compared without case; one account per address."))
        .build()
        .into()
}

// No `Debug`: it holds a password.
/// A new account. Every field is required.
#[derive(Default, Deserialize, ToSchema)]
pub struct SignupBody {
    #[schema(schema_with = email, required = true)]
    pub email: Option<String>,
    #[schema(schema_with = new_password, required = true)]
    pub password: Option<String>,
    #[schema(schema_with = user_name, required = true)]
    pub name: Option<String>,
    #[schema(schema_with = user_type_input, required = true)]
    pub user_type: Option<serde_json::Value>,
}

/// `user_type` on input: the word, or the original system's code (answers show the word).
fn user_type_input() -> Schema {
    use utoipa::openapi::schema::OneOfBuilder;
    OneOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(["runner", "organizer"])),
        )
        .item(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .enum_values(Some([0, 1]))
                .description(Some("The original system's codes: 0 runner, 1 organizer.")),
        )
        .description(Some(
            "What the account may do: \"runner\" or \"organizer\", or the original system's codes \
             0 (runner) and 1 (organizer). Responses always show the word.",
        ))
        .into()
}

// Holds a secret: a log line or a panic message must never show it.
impl std::fmt::Debug for SignupBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const REDACTED: &str = "[redacted]";
        f.debug_struct("SignupBody")
            .field("email", &self.email)
            .field("password", &REDACTED)
            .field("name", &self.name)
            .field("user_type", &self.user_type)
            .finish()
    }
}

/// What an account may do.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Runner,
    Organizer,
}

impl From<domain::Role> for Role {
    fn from(role: domain::Role) -> Self {
        match role {
            domain::Role::Runner => Self::Runner,
            domain::Role::Organizer => Self::Organizer,
        }
    }
}

/// Credentials. Any email and password are taken: a wrong one is a 401, whatever it is.
#[derive(Default, Deserialize, ToSchema)]
pub struct LoginBody {
    #[schema(value_type = String, required = true, nullable = false)]
    pub email: Option<String>,
    #[schema(value_type = String, required = true, nullable = false)]
    pub password: Option<String>,
}

// Holds a secret: a log line or a panic message must never show it.
impl std::fmt::Debug for LoginBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const REDACTED: &str = "[redacted]";
        f.debug_struct("LoginBody")
            .field("email", &self.email)
            .field("password", &REDACTED)
            .finish()
    }
}

/// A refresh token from login or an earlier refresh. The body may be left out when the
/// token travels in the `mrmrthon_refresh` cookie instead.
#[derive(Default, Deserialize, ToSchema)]
pub struct RefreshBody {
    #[schema(value_type = String, required = true, nullable = false)]
    pub refresh_token: Option<String>,
}

// Holds a secret: a log line or a panic message must never show it.
impl std::fmt::Debug for RefreshBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const REDACTED: &str = "[redacted]";
        f.debug_struct("RefreshBody")
            .field("refresh_token", &REDACTED)
            .finish()
    }
}

impl From<SignupBody> for auth::SignupRequest {
    fn from(body: SignupBody) -> Self {
        Self {
            email: body.email,
            password: body.password,
            name: body.name,
            user_type: body.user_type,
        }
    }
}

impl From<LoginBody> for auth::LoginRequest {
    fn from(body: LoginBody) -> Self {
        Self {
            email: body.email,
            password: body.password,
        }
    }
}

/// `X-Requested-With`'s one value: what a request relying on the cookie must send (a schema
/// only: `refresh_cookie` compares the header with `CSRF_VALUE`).
#[derive(Debug, Serialize, ToSchema)]
pub enum RequestedWith {
    #[serde(rename = "mrmrthon")]
    Mrmrthon,
}

/// An account as the API shows it (never its password).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = User)]
pub struct UserView {
    pub id: String,
    #[schema(format = Email)]
    pub email: String,
    pub name: String,
    pub user_type: Role,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Whether the owner proved the address (the mailed link, `POST /auth/verify-email`).
    /// Until then the account gets only security mails, and an organizer may not record
    /// results.
    pub email_verified: bool,
}

impl UserView {
    pub fn new(user: User, email_verified: bool) -> Self {
        Self {
            id: user.id.to_string(),
            email: user.email.as_str().to_owned(),
            name: user.name.as_str().to_owned(),
            user_type: user.user_type.into(),
            created_at: user.created_at,
            email_verified,
        }
    }
}

// No `Debug`: it holds both tokens.
/// An access token and the refresh token that renews it.
#[derive(Serialize, ToSchema)]
pub struct TokenPair {
    /// A JWT (RS256) for `Authorization: Bearer`.
    pub access_token: String,
    /// Single use: each refresh answers a new one.
    pub refresh_token: String,
    #[schema(value_type = String, example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds the access token lives.
    pub expires_in: u64,
}

// Holds a secret: a log line or a panic message must never show it.
impl std::fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const REDACTED: &str = "[redacted]";
        f.debug_struct("TokenPair")
            .field("access_token", &REDACTED)
            .field("refresh_token", &REDACTED)
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

impl From<auth::TokenPair> for TokenPair {
    fn from(pair: auth::TokenPair) -> Self {
        Self {
            access_token: pair.access_token,
            refresh_token: pair.refresh_token,
            token_type: pair.token_type,
            expires_in: pair.expires_in,
        }
    }
}

/// The tokens, the account and a greeting in the caller's language.
#[derive(Serialize, ToSchema)]
pub struct Session {
    #[serde(flatten)]
    pub tokens: TokenPair,
    pub user: UserView,
    /// Korean unless Accept-Language prefers English.
    pub message: &'static str,
}

/// A refresh's answer: the new tokens (where they always were) and the account they sign
/// in, as login shows it, for a client that kept only the refresh cookie.
#[derive(Serialize, ToSchema)]
pub struct RefreshedSession {
    #[serde(flatten)]
    pub tokens: TokenPair,
    pub user: UserView,
}

/// The public keys access tokens are signed with (RFC 7517).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Jwks)]
pub struct JwksView {
    pub keys: Vec<JwkView>,
}

/// One RS256 public key.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Jwk)]
pub struct JwkView {
    #[schema(example = "RSA")]
    pub kty: String,
    #[serde(rename = "use", skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub key_use: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub alg: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub kid: Option<String>,
    /// Modulus, base64url.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub n: Option<String>,
    /// Public exponent, base64url.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub e: Option<String>,
}

impl From<&Jwks> for JwksView {
    fn from(jwks: &Jwks) -> Self {
        Self {
            keys: jwks.keys.iter().map(JwkView::from).collect(),
        }
    }
}

impl From<&Jwk> for JwkView {
    fn from(key: &Jwk) -> Self {
        Self {
            kty: key.kty.clone(),
            key_use: key.key_use.clone(),
            alg: key.alg.clone(),
            kid: key.kid.clone(),
            n: key.n.clone(),
            e: key.e.clone(),
        }
    }
}

/// Creates an account.
#[utoipa::path(
    post,
    path = "/auth/signup",
    operation_id = "signup",
    tag = "auth",
    request_body = SignupBody,
    responses(
        (status = 201, description = "Created.", body = UserView, headers(
            ("Cache-Control" = String, description = "no-store"),
        )),
        (status = 409, description = "An account with this email already exists."),
    )
)]
async fn signup(
    State(auth): State<Arc<Auth>>,
    Origin(origin): Origin,
    ApiJson(request): ApiJson<SignupBody>,
) -> Result<Response, Problem> {
    let user = auth.signup(request.into(), origin).await?;
    Ok((StatusCode::CREATED, no_store(), Json(UserView::new(user, false))).into_response())
}

/// Logs in: tokens and a greeting.
#[utoipa::path(
    post,
    path = "/auth/login",
    operation_id = "login",
    tag = "auth",
    request_body = LoginBody,
    params(("Accept-Language" = Option<String>, Header, description = "en for an English greeting; Korean otherwise.")),
    responses(
        (status = 200, description = "Logged in.", body = Session, headers(
            ("Cache-Control" = String, description = "no-store"),
            ("Set-Cookie" = String, description = "mrmrthon_refresh=<the refresh token>; Path=/api/auth; HttpOnly; Secure; SameSite=Strict; Max-Age=<its lifetime in seconds>: the refresh token for a browser, which sends it back to refresh and logout."),
        )),
        (status = 401, description = "Email or password is incorrect, or attempts on the account are delayed or it is locked for a while after failed ones (the same answer)."),
    )
)]
async fn login(
    State(auth): State<Arc<Auth>>,
    Origin(origin): Origin,
    headers: HeaderMap,
    ApiJson(request): ApiJson<LoginBody>,
) -> Result<Response, Problem> {
    let language =
        Language::from_accept_language(headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()));
    let session = auth.login(request.into(), origin, language).await?;
    let session = Session {
        tokens: session.tokens.into(),
        user: UserView::new(session.user, session.email_verified),
        message: session.message,
    };
    let cookie = refresh_cookie::set(&session.tokens.refresh_token);
    Ok((no_store(), [(header::SET_COOKIE, cookie)], Json(session)).into_response())
}

/// Trades a refresh token for a new pair. Presenting one already used revokes its family.
/// The token comes from the body, or, when the body has none, from the `mrmrthon_refresh`
/// cookie (then with `X-Requested-With: mrmrthon`).
#[utoipa::path(
    post,
    path = "/auth/refresh",
    operation_id = "refresh_session",
    tag = "auth",
    request_body = Option<RefreshBody>,
    params(
        ("mrmrthon_refresh" = Option<String>, Cookie, nullable = false, description = COOKIE_PARAM_DOC),
        ("X-Requested-With" = inline(Option<RequestedWith>), Header, nullable = false, description = CSRF_HEADER_DOC),
    ),
    responses(
        (status = 200, description = "New tokens, and the account they sign in.", body = RefreshedSession, headers(
            ("Cache-Control" = String, description = "no-store"),
            ("Set-Cookie" = String, description = "mrmrthon_refresh=<the refresh token>; Path=/api/auth; HttpOnly; Secure; SameSite=Strict; Max-Age=<its lifetime in seconds>: the refresh token for a browser, which sends it back to refresh and logout."),
        )),
        (status = 401, description = "No refresh token, or one that is invalid, expired or revoked: log in again.", headers(
            ("Set-Cookie" = String, description = "mrmrthon_refresh=; Path=/api/auth; Max-Age=0; HttpOnly; Secure; SameSite=Strict: the cookie is cleared."),
        )),
        (status = 403, description = FORBIDDEN_DOC),
    )
)]
async fn refresh(
    State(auth): State<Arc<Auth>>,
    Origin(origin): Origin,
    headers: HeaderMap,
    OptionalJson(body): OptionalJson<RefreshBody>,
) -> Response {
    let refreshed = match presented(&headers, body) {
        Ok(request) => auth.refresh(request, origin).await.map_err(Problem::from),
        Err(problem) => Err(problem),
    };
    match refreshed {
        Ok(refreshed) => {
            let cookie = refresh_cookie::set(&refreshed.tokens.refresh_token);
            let session = RefreshedSession {
                tokens: refreshed.tokens.into(),
                user: UserView::new(refreshed.user, refreshed.email_verified),
            };
            (no_store(), [(header::SET_COOKIE, cookie)], Json(session)).into_response()
        }
        Err(problem) => clear_cookie_if_unauthorized(problem),
    }
}

/// Logs out: the refresh token's family is revoked, and the cookie cleared. The token comes
/// as for a refresh.
#[utoipa::path(
    post,
    path = "/auth/logout",
    operation_id = "logout",
    tag = "auth",
    request_body = Option<RefreshBody>,
    params(
        ("mrmrthon_refresh" = Option<String>, Cookie, nullable = false, description = COOKIE_PARAM_DOC),
        ("X-Requested-With" = inline(Option<RequestedWith>), Header, nullable = false, description = CSRF_HEADER_DOC),
    ),
    responses(
        (status = 204, description = "Logged out (also when it already was).", headers(
            ("Set-Cookie" = String, description = "mrmrthon_refresh=; Path=/api/auth; Max-Age=0; HttpOnly; Secure; SameSite=Strict: the cookie is cleared."),
        )),
        (status = 401, description = "No refresh token, or one that is not ours.", headers(
            ("Set-Cookie" = String, description = "mrmrthon_refresh=; Path=/api/auth; Max-Age=0; HttpOnly; Secure; SameSite=Strict: the cookie is cleared."),
        )),
        (status = 403, description = FORBIDDEN_DOC),
    )
)]
async fn logout(
    State(auth): State<Arc<Auth>>,
    Origin(origin): Origin,
    headers: HeaderMap,
    OptionalJson(body): OptionalJson<RefreshBody>,
) -> Response {
    let logged_out = match presented(&headers, body) {
        Ok(request) => auth.logout(request, origin).await.map_err(Problem::from),
        Err(problem) => Err(problem),
    };
    match logged_out {
        Ok(()) => (
            StatusCode::NO_CONTENT,
            [(header::SET_COOKIE, refresh_cookie::clear())],
        )
            .into_response(),
        Err(problem) => clear_cookie_if_unauthorized(problem),
    }
}

const COOKIE_PARAM_DOC: &str = "The refresh token login or refresh set, used when the body has none \
                                (the body wins). Such a request must carry X-Requested-With: mrmrthon.";
const CSRF_HEADER_DOC: &str = "Required when the token comes from the cookie (a page of another origin \
                               cannot send it without a CORS preflight, which the API never grants).";
const FORBIDDEN_DOC: &str = "The token would come from the cookie, but the request lacks X-Requested-With: \
                             mrmrthon, or its Origin is another site than the one it addresses. Nothing is done.";

/// The token a refresh or logout request presents (`refresh_cookie::presented`). A body
/// without one is a validation error naming the field, as before the cookie; no token at
/// all is a 401 (not logged in).
fn presented(headers: &HeaderMap, body: Option<RefreshBody>) -> Result<auth::RefreshRequest, Problem> {
    let sent_body = body.is_some();
    let from_body = body.and_then(|body| body.refresh_token);
    match refresh_cookie::presented(headers, from_body) {
        Ok(Some(token)) => Ok(auth::RefreshRequest {
            refresh_token: Some(token),
        }),
        Ok(None) if sent_body => Ok(auth::RefreshRequest::default()),
        Ok(None) => Err(Problem::new(
            ProblemType::Unauthorized,
            "no refresh token: send it in the body or the mrmrthon_refresh cookie, or log in again",
        )),
        Err(refusal) => {
            tracing::warn!(%refusal, "refresh cookie refused");
            Err(Problem::new(ProblemType::Forbidden, refusal.to_string()))
        }
    }
}

/// A refresh token that is refused is of no more use in the browser either.
fn clear_cookie_if_unauthorized(problem: Problem) -> Response {
    if problem.status() == StatusCode::UNAUTHORIZED {
        ([(header::SET_COOKIE, refresh_cookie::clear())], problem).into_response()
    } else {
        problem.into_response()
    }
}

/// A JSON body that may be left out: no body at all (whatever its Content-Type, or none) is
/// `None`, and so is JSON `null`; any other is read by `ApiJson`, with its answers (415
/// unless JSON, 400, 413).
pub struct OptionalJson<T>(pub Option<T>);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for OptionalJson<T> {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = request.into_parts();
        let bytes = Bytes::from_request(Request::from_parts(parts.clone(), body), state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    Problem::new(
                        ProblemType::PayloadTooLarge,
                        format!("the body must be at most {} bytes", infra::http::MAX_BODY_BYTES),
                    )
                } else {
                    Problem::new(ProblemType::MalformedJson, "the body could not be read")
                }
            })?;
        if bytes.is_empty() {
            return Ok(Self(None));
        }
        // JSON `null` is no body too: the document's optional body admits it.
        let ApiJson(value) =
            ApiJson::from_request(Request::from_parts(parts, Body::from(bytes)), state).await?;
        Ok(Self(value))
    }
}

/// The keys to verify access tokens with.
#[utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    operation_id = "show_jwks",
    tag = "auth",
    responses(
        (status = 200, description = "The JWKS.", body = JwksView, headers(
            ("Cache-Control" = String, description = "public, max-age=300"),
        )),
    )
)]
async fn jwks(State(auth): State<Arc<Auth>>) -> Response {
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(JwksView::from(auth.signer.jwks())),
    )
        .into_response()
}

/// Responses carrying tokens must never be cached.
pub(crate) fn no_store() -> [(header::HeaderName, &'static str); 1] {
    [(header::CACHE_CONTROL, "no-store")]
}

impl From<AuthError> for Problem {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::Invalid(errors) => errors.into(),
            AuthError::EmailTaken => {
                Problem::new(ProblemType::Conflict, "an account with this email already exists")
            }
            AuthError::BadCredentials => {
                Problem::new(ProblemType::InvalidCredentials, "email or password is incorrect")
            }
            AuthError::BadRefreshToken => Problem::new(
                ProblemType::Unauthorized,
                "the refresh token is invalid, expired or revoked; log in again",
            ),
            AuthError::WrongCurrentPassword => Problem::new(
                ProblemType::Forbidden,
                "the current password is incorrect, or too many attempts were made: wait a moment and try again",
            ),
            AuthError::AlreadyVerified => {
                Problem::new(ProblemType::Conflict, "the address is already verified")
            }
            AuthError::AccountChanged => Problem::new(
                ProblemType::Conflict,
                "the account changed meanwhile (its sessions ended or its password changed): nothing was done, try again",
            ),
            AuthError::NoAccount => Problem::new(ProblemType::Unauthorized, "the account no longer exists"),
            AuthError::Store(error) => error.into(),
            AuthError::Internal(cause) => Problem::internal(&cause),
        }
    }
}
