//! The refresh token in a browser: the cookie login and refresh set, and the rules a request
//! must meet to be served from it. Everything about that cookie and its CSRF defence is in
//! this module (docs/DESIGN.md, "Tokens in the browser").
//!
//! A browser attaches the cookie to every request to its path, a foreign page's included.
//! `SameSite=Strict` already keeps it off cross-site requests; on top of that, a request
//! that relies on the cookie (its JSON body has no `refresh_token`) must
//! - carry `X-Requested-With: mrmrthon`: a page of another origin cannot add a custom
//!   header without a CORS preflight, and the API never grants one;
//! - when it has an `Origin` header, name in it the host the browser addressed:
//!   `X-Forwarded-Host` when the proxy in front sets it (the viewer's host), else `Host`.
//!   A same-origin fetch may come without `Origin`; that is fine.
//!
//! A request carrying the token in its body needs neither: a foreign page cannot send
//! `application/json` without a preflight either (any other type is refused with 415), and
//! it does not know the token.

use axum::http::{HeaderMap, HeaderValue, Uri, header, uri::Authority};
use cookie::{Cookie, CookieBuilder, SameSite};
use domain::refresh::REFRESH_TTL;

/// The cookie's name.
pub const NAME: &str = "mrmrthon_refresh";
/// The site reaches the API under `/api` on its own origin (CloudFront's `/api/*`
/// behaviour and the local gateway strip the prefix before routing), so the browser
/// addresses login's routes as `/api/auth/...`: the cookie goes to them only, never to the
/// rest of the API or to the site.
pub const PATH: &str = "/api/auth";
/// The header a request relying on the cookie carries, and its one value.
pub const CSRF_HEADER: &str = "x-requested-with";
pub const CSRF_VALUE: &str = "mrmrthon";

/// The `Set-Cookie` value that stores `token` for as long as the token lives (each
/// rotation renews the family's lifetime, and the cookie's with it).
pub fn set(token: &str) -> HeaderValue {
    header_value(Cookie::build((NAME, token.to_owned())).max_age(REFRESH_TTL))
}

/// The `Set-Cookie` value that makes the browser drop the cookie.
pub fn clear() -> HeaderValue {
    header_value(Cookie::build((NAME, "")).max_age(time::Duration::ZERO))
}

fn header_value(cookie: CookieBuilder<'_>) -> HeaderValue {
    let cookie = cookie
        .path(PATH)
        .http_only(true)
        .secure(true)
        .same_site(SameSite::Strict)
        .build();
    HeaderValue::try_from(cookie.to_string())
        .expect("refresh tokens are ULIDs and base64url: valid in a header")
}

/// The cookie's value, when the request's `Cookie` headers hold a non-empty one (an empty
/// one is a cleared cookie: no token).
pub fn read(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == NAME && !cookie.value().is_empty())
        .map(|cookie| cookie.value().to_owned())
}

/// Why a request may not use the cookie: the 403's detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "a request that relies on the mrmrthon_refresh cookie must carry the header X-Requested-With: mrmrthon"
    )]
    MissingHeader,
    #[error("the request's Origin is not the site it is addressed to")]
    ForeignOrigin,
}

/// The token a refresh or logout request presents: its body's when it has one (the body
/// wins), else the cookie's if the request may use it, else none.
pub fn presented(headers: &HeaderMap, from_body: Option<String>) -> Result<Option<String>, Refusal> {
    if from_body.is_some() {
        return Ok(from_body);
    }
    let Some(token) = read(headers) else {
        return Ok(None);
    };
    may_use_cookie(headers)?;
    Ok(Some(token))
}

/// The CSRF rules of the module's documentation.
pub fn may_use_cookie(headers: &HeaderMap) -> Result<(), Refusal> {
    if headers.get(CSRF_HEADER).is_none_or(|value| value != CSRF_VALUE) {
        return Err(Refusal::MissingHeader);
    }
    match headers.get(header::ORIGIN) {
        Some(origin) if !same_site_addressed(origin, headers) => Err(Refusal::ForeignOrigin),
        _ => Ok(()),
    }
}

/// Whether `origin` (scheme://host[:port]) names the host the request was addressed to.
/// Anything unreadable counts as foreign, `Origin: null` (an opaque origin) included.
fn same_site_addressed(origin: &HeaderValue, headers: &HeaderMap) -> bool {
    let Some(origin) = origin.to_str().ok().and_then(|o| o.parse::<Uri>().ok()) else {
        return false;
    };
    let (Some(scheme), Some(origin_host)) = (origin.scheme_str(), origin.host()) else {
        return false;
    };
    // A proxy may have appended its own hop: the first value is the viewer's.
    let addressed = headers
        .get("x-forwarded-host")
        .or_else(|| headers.get(header::HOST))
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(',').next())
        .and_then(|value| value.trim().parse::<Authority>().ok());
    let Some(addressed) = addressed else {
        return false;
    };
    let default_port = match scheme {
        "https" => 443,
        "http" => 80,
        _ => return false,
    };
    origin_host.eq_ignore_ascii_case(addressed.host())
        && origin.port_u16().unwrap_or(default_port) == addressed.port_u16().unwrap_or(default_port)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn the_cookie_is_http_only_secure_strict_and_scoped_to_the_auth_routes() {
        let set = Cookie::parse(set("u.f.secret").to_str().unwrap().to_owned()).unwrap();
        assert_eq!((set.name(), set.value()), (NAME, "u.f.secret"));
        assert_eq!(set.path(), Some("/api/auth"));
        assert_eq!(set.http_only(), Some(true));
        assert_eq!(set.secure(), Some(true));
        assert_eq!(set.same_site(), Some(SameSite::Strict));
        assert_eq!(set.max_age(), Some(REFRESH_TTL));
        assert_eq!(set.max_age().unwrap().whole_seconds(), 14 * 24 * 3600);

        let clear = Cookie::parse(clear().to_str().unwrap().to_owned()).unwrap();
        assert_eq!((clear.name(), clear.value()), (NAME, ""));
        assert_eq!(clear.max_age(), Some(time::Duration::ZERO));
        assert_eq!(
            clear.path(),
            Some("/api/auth"),
            "a cookie is only cleared at its own path"
        );
        assert_eq!(
            (clear.http_only(), clear.secure(), clear.same_site()),
            (Some(true), Some(true), Some(SameSite::Strict))
        );
    }

    #[test]
    fn the_cookie_is_found_among_others_and_an_empty_one_is_none() {
        let found = read(&headers(&[
            ("cookie", "lang=ko; other=1"),
            ("cookie", "mrmrthon_refresh=a.b.c; x=y"),
        ]));
        assert_eq!(found.as_deref(), Some("a.b.c"));
        assert_eq!(read(&headers(&[("cookie", "mrmrthon_refresh=")])), None);
        assert_eq!(read(&headers(&[("cookie", "lang=ko")])), None);
        assert_eq!(
            read(&headers(&[("cookie", "Mrmrthon_Refresh=a")])),
            None,
            "names are case-sensitive"
        );
        assert_eq!(read(&HeaderMap::new()), None);
    }

    #[test]
    fn the_body_wins_and_needs_no_header() {
        let with_cookie = headers(&[("cookie", "mrmrthon_refresh=from-cookie")]);
        assert_eq!(
            presented(&with_cookie, Some("from-body".into())),
            Ok(Some("from-body".into()))
        );
        assert_eq!(presented(&HeaderMap::new(), None), Ok(None));
    }

    #[test]
    fn the_cookie_needs_the_header_with_its_exact_value() {
        let cookie = ("cookie", "mrmrthon_refresh=t");
        assert_eq!(presented(&headers(&[cookie]), None), Err(Refusal::MissingHeader));
        for wrong in ["XMLHttpRequest", "Mrmrthon", ""] {
            assert_eq!(
                presented(&headers(&[cookie, ("x-requested-with", wrong)]), None),
                Err(Refusal::MissingHeader),
                "{wrong:?}"
            );
        }
        assert_eq!(
            presented(&headers(&[cookie, ("x-requested-with", "mrmrthon")]), None),
            Ok(Some("t".into()))
        );
    }

    #[test]
    fn an_origin_must_name_the_addressed_host() {
        let check = |pairs: &[(&'static str, &str)]| {
            let mut all = vec![("x-requested-with", "mrmrthon")];
            all.extend_from_slice(pairs);
            may_use_cookie(&headers(&all))
        };
        let ok = Ok(());
        let foreign = Err(Refusal::ForeignOrigin);
        // no Origin: some browsers send none on same-origin requests
        assert_eq!(check(&[("host", "127.0.0.1:3000")]), ok);
        assert_eq!(
            check(&[("origin", "http://127.0.0.1:3000"), ("host", "127.0.0.1:3000")]),
            ok
        );
        assert_eq!(
            check(&[("origin", "https://Site.Example"), ("host", "site.example")]),
            ok
        );
        assert_eq!(
            check(&[("origin", "https://site.example"), ("host", "site.example:443")]),
            ok
        );
        // behind CloudFront, Host is the API's own domain and X-Forwarded-Host the viewer's
        let behind = [
            ("origin", "https://site.example"),
            ("host", "abc.execute-api.eu-west-1.amazonaws.com"),
        ];
        assert_eq!(check(&behind), foreign);
        assert_eq!(
            check(&[behind[0], behind[1], ("x-forwarded-host", "site.example")]),
            ok
        );
        assert_eq!(
            check(&[behind[0], ("x-forwarded-host", "site.example, proxy.internal")]),
            ok
        );
        for (origin, host) in [
            ("https://evil.example", "site.example"),
            ("http://127.0.0.1:5173", "127.0.0.1:3000"),
            ("http://site.example", "site.example:8080"),
            ("https://site.example.evil.example", "site.example"),
            ("null", "site.example"),
            ("garbage", "site.example"),
            ("ftp://site.example", "site.example"),
        ] {
            assert_eq!(
                check(&[("origin", origin), ("host", host)]),
                foreign,
                "{origin} {host}"
            );
        }
        assert_eq!(
            check(&[("origin", "https://site.example")]),
            foreign,
            "no host to compare with"
        );
    }
}
