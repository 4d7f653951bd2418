//! Who is calling: source IP and user agent from the gateway, and the correlation id
//! that follows a request through every hop.

use axum::extract::FromRequestParts;
use domain::activity::RequestOrigin;
use http::request::Parts;
use lambda_http::request::RequestContext;

pub const CORRELATION_HEADER: &str = "x-correlation-id";

pub struct Origin(pub RequestOrigin);

impl<S: Send + Sync> FromRequestParts<S> for Origin {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let header = |name: &str| {
            parts.headers.get(name).and_then(|v| v.to_str().ok()).map(|v| {
                v.chars()
                    .filter(|c| !c.is_control())
                    .take(512)
                    .collect::<String>()
            })
        };
        let context = parts.extensions.get::<RequestContext>();
        let (source_ip, request_id) = match context {
            Some(RequestContext::ApiGatewayV2(ctx)) => (ctx.http.source_ip.clone(), ctx.request_id.clone()),
            _ => (None, None),
        };
        Ok(Self(RequestOrigin {
            source_ip,
            user_agent: header("user-agent"),
            correlation_id: header(CORRELATION_HEADER).or(request_id),
        }))
    }
}
