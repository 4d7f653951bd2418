//! The static site beside the API, as CloudFront serves it on AWS: every path outside
//! `/api/` is a file of the built site (`web/dist`), read by tower-http's `ServeDir`
//! (content types, conditional and range requests, no directory listing, `..` refused).
//! An extension-less path that is not a file answers `index.html` (the SPA's deep links,
//! CloudFront's viewer-request function on AWS); a missing file with an extension is a 404.
//! Only GET and HEAD. Every answer carries the security headers of the template's
//! `AWS::CloudFront::ResponseHeadersPolicy` (`SiteHeaders`).

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use serde_yaml::Value;
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

use crate::error::Result;
use crate::template::Template;

/// The site's Content-Security-Policy when the template declares none (CONTRACT.md; the
/// template's `SiteResponseHeadersPolicy` carries the same value on AWS).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";
pub const REFERRER_POLICY: &str = "strict-origin-when-cross-origin";
pub const FRAME_OPTIONS: &str = "DENY";

/// The logical id of the site's response headers policy in template.yaml; any other
/// resource of that type is read when this one is absent.
pub const HEADERS_POLICY: &str = "SiteResponseHeadersPolicy";
const HEADERS_POLICY_TYPE: &str = "AWS::CloudFront::ResponseHeadersPolicy";

/// Vite's content-hashed files: a new build gives them new names.
const ASSETS_PREFIX: &str = "/assets/";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Everything else (index.html first) is revalidated on each use, so a rebuild shows at once.
const REVALIDATE: &str = "no-cache";

/// The security headers of the site's responses (HSTS is AWS's only: the local site is
/// plain HTTP).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteHeaders {
    pub content_security_policy: String,
    pub referrer_policy: String,
    pub frame_options: String,
    pub nosniff: bool,
}

impl Default for SiteHeaders {
    fn default() -> SiteHeaders {
        SiteHeaders {
            content_security_policy: CONTENT_SECURITY_POLICY.to_owned(),
            referrer_policy: REFERRER_POLICY.to_owned(),
            frame_options: FRAME_OPTIONS.to_owned(),
            nosniff: true,
        }
    }
}

impl SiteHeaders {
    /// The `SecurityHeadersConfig` of the template's response headers policy, so the local
    /// site answers what CloudFront will; each header the template does not give (or gives
    /// other than as a plain string) keeps the default.
    pub fn from_template(template: &Template) -> SiteHeaders {
        let mut headers = SiteHeaders::default();
        let policy = template
            .resources
            .get(HEADERS_POLICY)
            .filter(|r| r.kind == HEADERS_POLICY_TYPE)
            .or_else(|| {
                template
                    .resources
                    .values()
                    .find(|r| r.kind == HEADERS_POLICY_TYPE)
            });
        let Some(policy) = policy else {
            return headers;
        };
        let security = &policy.properties["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"];
        let text = |outer: &str, inner: &str| security[outer][inner].as_str().map(str::to_owned);
        // The CSP may be a `!Sub` naming AWS endpoints (the imports bucket's upload
        // origin): its text is kept, and `on_emulator` says what those are locally.
        let csp = text("ContentSecurityPolicy", "ContentSecurityPolicy").or_else(|| {
            match crate::intrinsics::intrinsic(&security["ContentSecurityPolicy"]["ContentSecurityPolicy"]) {
                Some((name, Value::String(text))) if name == "Fn::Sub" => Some(text.clone()),
                _ => None,
            }
        });
        if let Some(csp) = csp {
            headers.content_security_policy = csp;
        }
        if let Some(referrer) = text("ReferrerPolicy", "ReferrerPolicy") {
            headers.referrer_policy = referrer;
        }
        if let Some(frame) = text("FrameOptions", "FrameOption") {
            headers.frame_options = frame;
        }
        if security.is_mapping() {
            headers.nosniff = !matches!(security.get("ContentTypeOptions"), None | Some(Value::Null));
        }
        headers
    }

    /// The headers as the local stack serves them: every AWS endpoint the CSP names (a
    /// source with a `${...}` placeholder or on `amazonaws.com`, such as the imports
    /// bucket's origin the organizer's browser uploads to) is the emulator at `endpoint`
    /// here, as the presigned URLs the functions sign locally point at it.
    pub fn on_emulator(mut self, endpoint: &str) -> SiteHeaders {
        let emulator = endpoint.trim_end_matches('/');
        let directives: Vec<String> = self
            .content_security_policy
            .split(';')
            .map(|directive| {
                let mut seen = Vec::new();
                for source in directive.split_whitespace() {
                    let aws = source.contains("${") || source.contains(".amazonaws.com");
                    let source = if aws { emulator } else { source };
                    if !seen.contains(&source) {
                        seen.push(source);
                    }
                }
                seen.join(" ")
            })
            .filter(|d| !d.is_empty())
            .collect();
        self.content_security_policy = directives.join("; ");
        self
    }

    /// `from_template` of the template at `path`.
    pub fn from_template_path(path: &Path) -> Result<SiteHeaders> {
        Ok(SiteHeaders::from_template(&Template::from_path(path)?))
    }

    fn apply(&self, headers: &mut HeaderMap) {
        let mut set = |name: HeaderName, value: &str| {
            if let Ok(value) = HeaderValue::from_str(value) {
                headers.insert(name, value);
            }
        };
        set(header::CONTENT_SECURITY_POLICY, &self.content_security_policy);
        set(header::REFERRER_POLICY, &self.referrer_policy);
        set(header::X_FRAME_OPTIONS, &self.frame_options);
        if self.nosniff {
            set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
        }
    }
}

/// Where the built site is and the headers it is served with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    pub dir: PathBuf,
    pub headers: SiteHeaders,
}

impl Site {
    pub fn new(dir: impl Into<PathBuf>, headers: SiteHeaders) -> Site {
        Site {
            dir: dir.into(),
            headers,
        }
    }

    /// The repository's `web/dist`, with template.yaml's headers.
    pub fn repository() -> Result<Site> {
        let root = crate::emulator::repo_root();
        Ok(Site::new(
            root.join("web").join("dist"),
            SiteHeaders::from_template_path(&crate::stack::template_path())?,
        ))
    }

    /// Answers `request` (any path outside `/api/`).
    pub async fn serve(&self, request: Request) -> Response {
        let mut response = self.respond(request).await;
        self.headers.apply(response.headers_mut());
        response
    }

    async fn respond(&self, request: Request) -> Response {
        if request.method() != Method::GET && request.method() != Method::HEAD {
            return (
                StatusCode::METHOD_NOT_ALLOWED,
                [
                    (header::ALLOW, "GET, HEAD"),
                    (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                ],
                "Method Not Allowed\n",
            )
                .into_response();
        }
        let index = self.dir.join("index.html");
        if !index.is_file() {
            return building(&self.dir);
        }
        let path = request.uri().path().to_owned();
        // Kept for the SPA fallback: the same method and conditional/range headers.
        let (method, headers) = (request.method().clone(), request.headers().clone());
        // Directories are not pages: without index.html appended they are "not found",
        // and so fall back to the SPA like any extension-less path.
        // Both services are infallible: a file they cannot read is their own 500.
        let Ok(served) = ServeDir::new(&self.dir)
            .append_index_html_on_directories(false)
            .oneshot(request)
            .await;
        let mut response = if served.status() != StatusCode::NOT_FOUND {
            served.map(Body::new)
        } else if has_extension(&path) {
            not_found()
        } else {
            let mut fallback = Request::new(Body::empty());
            *fallback.method_mut() = method;
            *fallback.headers_mut() = headers;
            let Ok(index) = ServeFile::new(&index).oneshot(fallback).await;
            index.map(Body::new)
        };
        let cache = if path.starts_with(ASSETS_PREFIX) && response.status().is_success() {
            IMMUTABLE
        } else {
            REVALIDATE
        };
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
        response
    }
}

/// Whether the path's last segment names a file type (`/assets/app.js`, not `/marathons/7`),
/// the test CloudFront's viewer-request function makes on AWS.
fn has_extension(path: &str) -> bool {
    path.rsplit('/').next().is_some_and(|last| last.contains('.'))
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "Not Found\n",
    )
        .into_response()
}

/// No `index.html` yet: `make dev` builds the site (or cannot: it says why in its terminal).
/// The page reloads itself every 3 s, so it turns into the site once built.
fn building(dir: &Path) -> Response {
    let page = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"refresh\" content=\"3\">\n<title>mrmrthon: the site is being built</title>\n\
         </head>\n<body>\n<h1>The site is being built</h1>\n\
         <p>There is no {} yet. <code>make dev</code> builds it (<code>npm run build</code> in \
         <code>web/</code>); its terminal shows the progress. This page reloads itself.</p>\n\
         <p>The HTTP API is already served under <a href=\"/api/docs\">/api/</a>.</p>\n</body>\n</html>\n",
        html_escape(&dir.join("index.html").display().to_string())
    );
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::RETRY_AFTER, "3"),
        ],
        page,
    )
        .into_response()
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_are_read_from_the_last_segment() {
        assert!(has_extension("/assets/index-1a2b.js"));
        assert!(has_extension("/favicon.ico"));
        assert!(!has_extension("/marathons/01J9/results"));
        assert!(!has_extension("/v1.2/marathons"));
        assert!(!has_extension("/"));
    }

    #[test]
    fn headers_come_from_the_templates_policy_else_the_contracts_values() {
        let none = Template::from_yaml("Resources: {}\n").unwrap();
        assert_eq!(SiteHeaders::from_template(&none), SiteHeaders::default());
        assert_eq!(
            SiteHeaders::default().content_security_policy,
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; \
             connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
        );
        let template = Template::from_yaml(
            "Resources:
  SiteResponseHeadersPolicy:
    Type: AWS::CloudFront::ResponseHeadersPolicy
    Properties:
      ResponseHeadersPolicyConfig:
        Name: site
        SecurityHeadersConfig:
          ContentSecurityPolicy: { ContentSecurityPolicy: \"default-src 'none'\", Override: true }
          ReferrerPolicy: { ReferrerPolicy: no-referrer, Override: true }
          FrameOptions: { FrameOption: SAMEORIGIN, Override: true }
          StrictTransportSecurity: { AccessControlMaxAgeSec: 63072000, Override: true }
",
        )
        .unwrap();
        assert_eq!(
            SiteHeaders::from_template(&template),
            SiteHeaders {
                content_security_policy: "default-src 'none'".into(),
                referrer_policy: "no-referrer".into(),
                frame_options: "SAMEORIGIN".into(),
                nosniff: false,
            }
        );
    }

    #[test]
    fn the_repositorys_template_gives_the_contracts_headers_and_the_upload_origin() {
        // CONTRACT.md's values, with the imports bucket's origin in connect-src: locally the
        // emulator's, where the presigned upload URLs point
        let headers = Site::repository().unwrap().headers;
        assert_eq!(
            headers.clone().on_emulator("http://127.0.0.1:4566/"),
            SiteHeaders {
                content_security_policy: SiteHeaders::default()
                    .content_security_policy
                    .replace("connect-src 'self'", "connect-src 'self' http://127.0.0.1:4566"),
                ..SiteHeaders::default()
            }
        );
        assert!(
            headers
                .content_security_policy
                .contains("connect-src 'self' https://${AWS::StackName}-imports-"),
            "{}",
            headers.content_security_policy
        );
    }

    #[test]
    fn on_the_emulator_only_aws_sources_change() {
        let headers = SiteHeaders {
            content_security_policy: "default-src 'self'; connect-src 'self' https://a.s3.${AWS::Region}.amazonaws.com \
                                      https://b.s3.eu-west-1.amazonaws.com https://example.com; img-src 'self' data:"
                .into(),
            ..SiteHeaders::default()
        };
        assert_eq!(
            headers
                .on_emulator("http://127.0.0.1:5000")
                .content_security_policy,
            "default-src 'self'; connect-src 'self' http://127.0.0.1:5000 https://example.com; img-src 'self' data:"
        );
        assert_eq!(
            SiteHeaders::default().on_emulator("http://127.0.0.1:5000"),
            SiteHeaders::default()
        );
    }
}
