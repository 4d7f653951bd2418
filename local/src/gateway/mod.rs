//! One origin on 127.0.0.1, as CloudFront is on AWS: `/api/<path>` is the HTTP API and
//! every other path the static site (`site`).
//!
//! The API: the prefix is stripped (CloudFront's viewer-request function on AWS) and the
//! rest routed by the routes template.yaml declares (`route`), each request turned into a
//! payload 2.0 event for its function and the response mapped back (`event`). Unknown
//! routes answer 404 `{"message":"Not Found"}` and bodies over 10 MiB 413, as API Gateway
//! does. `x-correlation-id` is passed through, or generated and added to the request, and
//! returned on the response.

pub mod event;
pub mod route;
pub mod site;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderName, HeaderValue, StatusCode};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::json;
use time::OffsetDateTime;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::correlation;
use crate::error::{Error, Result};
use crate::hops::{Hop, HopKind, Hops, Outcome};
use crate::invoke::{InvokeError, Invoker};
use crate::provision::{Function, Provisioned};
use event::{Incoming, Routing};
pub use route::{Route, Routes};
pub use site::{Site, SiteHeaders};

/// The API's paths on the one origin: `/api/auth/login` is the API's `/auth/login`. As
/// CloudFront's `/api/*` behaviour, `/api` alone is not one of them (it is a site path).
pub const API_PREFIX: &str = "/api";

/// API Gateway's payload limit for HTTP APIs.
pub const MAX_BODY: usize = 10 * 1024 * 1024;

/// A running gateway; `stop` (or dropping it) shuts it down.
pub struct Gateway {
    addr: SocketAddr,
    routes: Routes,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

struct Shared {
    routes: Routes,
    functions: HashMap<String, Function>,
    invoker: Arc<dyn Invoker>,
    hops: Hops,
    site: Site,
}

impl Gateway {
    /// Serves the template's routes under `/api/` and `site` elsewhere on
    /// 127.0.0.1:`port` (0 picks a free port).
    pub async fn start(
        port: u16,
        provisioned: &Provisioned,
        invoker: Arc<dyn Invoker>,
        hops: Hops,
        site: Site,
    ) -> Result<Gateway> {
        let routes = Routes::from_provisioned(provisioned)?;
        Gateway::serve(port, routes, provisioned.functions(), invoker, hops, site).await
    }

    /// `start` with the routes and functions given rather than provisioned.
    pub async fn serve(
        port: u16,
        routes: Routes,
        functions: &[Function],
        invoker: Arc<dyn Invoker>,
        hops: Hops,
        site: Site,
    ) -> Result<Gateway> {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port))
            .await
            .map_err(|e| {
                Error::Process(format!(
                    "the gateway (site and HTTP API) cannot listen on 127.0.0.1:{port}: {e} (is another `make dev` running?)"
                ))
            })?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::Process(format!("cannot read the gateway's address: {e}")))?;
        let shared = Arc::new(Shared {
            routes: routes.clone(),
            functions: functions
                .iter()
                .map(|f| (f.logical_id.clone(), f.clone()))
                .collect(),
            invoker,
            hops,
            site,
        });
        let app = Router::new().fallback(handle).with_state(shared);
        let (shutdown, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
            if let Err(e) = served {
                eprintln!("the HTTP API stopped: {e}");
            }
        });
        Ok(Gateway {
            addr,
            routes,
            shutdown: Some(shutdown),
            task: Some(task),
        })
    }

    /// The HTTP API's base URL, `http://127.0.0.1:PORT/api`: a route's URL is this plus its
    /// path (`{url}/auth/login`).
    pub fn url(&self) -> String {
        format!("{}{API_PREFIX}", self.origin())
    }

    /// The site's URL, `http://127.0.0.1:PORT/`.
    pub fn site_url(&self) -> String {
        format!("{}/", self.origin())
    }

    /// `http://127.0.0.1:PORT`.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn routes(&self) -> &Routes {
        &self.routes
    }

    /// Stops accepting requests and lets the ones in flight finish (bounded).
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take()
            && tokio::time::timeout(std::time::Duration::from_secs(5), task)
                .await
                .is_err()
        {
            eprintln!("the HTTP API did not stop within 5 s");
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    match api_path(request.uri().path()) {
        Some(path) => {
            let path = path.to_owned();
            api(&shared, peer, request, path).await
        }
        None => shared.site.serve(request).await,
    }
}

/// The API's path of a request path under `/api/`, prefix stripped (`/api/` itself is the
/// API's `/`).
fn api_path(path: &str) -> Option<&str> {
    path.strip_prefix(API_PREFIX).filter(|rest| rest.starts_with('/'))
}

/// A request for the API, `path` without the `/api` prefix: what API Gateway receives
/// from CloudFront, so the event's `rawPath` is `path` too.
async fn api(shared: &Shared, peer: SocketAddr, request: Request, path: String) -> Response {
    let started = Instant::now();
    let request_id = ulid::Ulid::new().to_string();
    let (mut parts, body) = request.into_parts();
    let method = parts.method.clone();
    let correlation_id = match parts
        .headers
        .get(correlation::HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
    {
        Some(given) => given.to_owned(),
        None => {
            let generated = correlation::generate();
            if let Ok(value) = HeaderValue::from_str(&generated) {
                parts.headers.insert(correlation::HEADER, value);
            }
            generated
        }
    };
    let finish = |target: &str, status: StatusCode, outcome: Outcome, response: Response| {
        shared.hops.record(
            Hop::new(
                HopKind::Http,
                target,
                format!("{method} {path} -> {}", status.as_u16()),
            )
            .outcome(outcome)
            .took(started.elapsed())
            .correlation([correlation_id.clone()]),
        );
        with_ids(response, &correlation_id, &request_id)
    };

    let too_large = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
        .is_some_and(|n| n > MAX_BODY);
    let body = if too_large {
        None
    } else {
        match Limited::new(body, MAX_BODY).collect().await {
            Ok(collected) => Some(collected.to_bytes()),
            Err(e) if e.is::<LengthLimitError>() => None,
            Err(e) => {
                let status = StatusCode::BAD_REQUEST;
                return finish(
                    "-",
                    status,
                    Outcome::Failed(format!("unreadable body: {e}")),
                    message(status, "Bad Request"),
                );
            }
        }
    };
    let Some(body) = body else {
        let status = StatusCode::PAYLOAD_TOO_LARGE;
        return finish(
            "-",
            status,
            Outcome::Failed("body over 10 MiB".into()),
            message(status, "Request Entity Too Large"),
        );
    };

    let Some(matched) = shared.routes.find(method.as_str(), &path) else {
        let status = StatusCode::NOT_FOUND;
        return finish(
            "-",
            status,
            Outcome::Failed("no route".into()),
            message(status, "Not Found"),
        );
    };
    let function_name = matched.route.function.clone();
    let Some(function) = shared.functions.get(&function_name) else {
        let status = StatusCode::INTERNAL_SERVER_ERROR;
        return finish(
            &function_name,
            status,
            Outcome::Failed("unknown function".into()),
            message(status, "Internal Server Error"),
        );
    };
    let protocol = format!("{:?}", parts.version);
    let event = event::request_event(
        &Incoming {
            method: &method,
            path: &path,
            query: parts.uri.query().unwrap_or_default(),
            protocol: &protocol,
            headers: &parts.headers,
            body: &body,
            source_ip: peer.ip(),
        },
        Routing {
            route_key: &matched.route.key,
            path_parameters: matched.path_parameters,
            request_id: &request_id,
            at: OffsetDateTime::now_utc(),
        },
    );

    match shared.invoker.invoke(function, event).await {
        Ok(payload) => match event::response(&payload) {
            Ok(mapped) => {
                let status = StatusCode::from_u16(mapped.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                let outcome = if status.is_server_error() {
                    Outcome::Failed(format!("the function answered {}", status.as_u16()))
                } else {
                    Outcome::Ok
                };
                let mut response = Response::new(Body::from(mapped.body));
                *response.status_mut() = status;
                for (name, value) in mapped.headers {
                    response.headers_mut().append(name, value);
                }
                finish(&function_name, status, outcome, response)
            }
            Err(why) => {
                eprintln!("!! {function_name} answered {method} {path} with an unusable response: {why}");
                let status = StatusCode::INTERNAL_SERVER_ERROR;
                finish(
                    &function_name,
                    status,
                    Outcome::Failed(why),
                    message(status, "Internal Server Error"),
                )
            }
        },
        Err(error) => {
            let (status, text) = match &error {
                InvokeError::Timeout { .. } => (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable"),
                _ => (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"),
            };
            finish(
                &function_name,
                status,
                Outcome::Failed(error.to_string()),
                message(status, text),
            )
        }
    }
}

/// API Gateway's own error bodies: `{"message":"Not Found"}`.
fn message(status: StatusCode, text: &str) -> Response {
    (
        status,
        [(http::header::CONTENT_TYPE, "application/json")],
        json!({ "message": text }).to_string(),
    )
        .into_response()
}

/// Every response carries the correlation id and API Gateway's request id header.
fn with_ids(mut response: Response, correlation_id: &str, request_id: &str) -> Response {
    let headers = response.headers_mut();
    if !headers.contains_key(correlation::HEADER)
        && let Ok(value) = HeaderValue::from_str(correlation_id)
    {
        headers.insert(correlation::HEADER, value);
    }
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert(HeaderName::from_static("apigw-requestid"), value);
    }
    response
}
