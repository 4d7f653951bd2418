//! The HTTP API's routes, from the `HttpApi` events template.yaml declares: `Method` and
//! `Path` with `{param}` and greedy `{proxy+}` variables, `ANY`, and `$default` (an event
//! with neither method nor path). Matching follows API Gateway's priority: the most
//! specific route wins (literal segments before variables before a greedy variable), a
//! route with a method before `ANY`, and `$default` last.

use std::collections::HashMap;

use super::event::percent_decode;
use crate::error::{Error, Result};
use crate::provision::Provisioned;

pub const HTTP_API_EVENT: &str = "HttpApi";
pub const DEFAULT_ROUTE: &str = "$default";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// `POST /auth/login`, `ANY /files/{proxy+}` or `$default`.
    pub key: String,
    /// None: any method.
    pub method: Option<String>,
    segments: Vec<Segment>,
    default: bool,
    /// The function's logical id.
    pub function: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Variable(String),
    Greedy(String),
}

impl Segment {
    /// Lower is more specific.
    fn rank(&self) -> u8 {
        match self {
            Segment::Literal(_) => 0,
            Segment::Variable(_) => 1,
            Segment::Greedy(_) => 2,
        }
    }
}

/// A request matched to a route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched<'a> {
    pub route: &'a Route,
    pub path_parameters: HashMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Routes {
    routes: Vec<Route>,
}

impl Routes {
    /// Every `HttpApi` event of every function (all APIs are served on one port, so two
    /// events claiming one route are an error).
    pub fn from_provisioned(provisioned: &Provisioned) -> Result<Routes> {
        let mut routes: Vec<Route> = Vec::new();
        for function in provisioned.functions() {
            for event in function.events.iter().filter(|e| e.kind == HTTP_API_EVENT) {
                let at = format!(
                    "Resources.{}.Properties.Events.{}.Properties",
                    function.logical_id, event.name
                );
                let properties = provisioned
                    .resolve(&event.properties)
                    .map_err(|e| Error::Template(format!("{at}: {e}")))?;
                let text = |name: &str| properties.get(name).and_then(|v| v.as_str()).map(str::to_owned);
                if let Some(version) = properties.get("PayloadFormatVersion").and_then(|v| v.as_str())
                    && version != "2.0"
                {
                    return Err(Error::Template(format!(
                        "{at}.PayloadFormatVersion: only 2.0 is served locally, got {version}"
                    )));
                }
                let route = Route::new(
                    text("Method").as_deref(),
                    text("Path").as_deref(),
                    &function.logical_id,
                )
                .map_err(|e| Error::Template(format!("{at}: {e}")))?;
                if let Some(taken) = routes.iter().find(|r| r.key == route.key) {
                    return Err(Error::Template(format!(
                        "{at}: route {} is declared by {} and {}",
                        route.key, taken.function, route.function
                    )));
                }
                routes.push(route);
            }
        }
        Ok(Routes { routes })
    }

    pub fn new(routes: Vec<Route>) -> Routes {
        Routes { routes }
    }

    pub fn iter(&self) -> impl Iterator<Item = &Route> {
        self.routes.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// The best route for `method` and `path` (the path as received, without query).
    pub fn find(&self, method: &str, path: &str) -> Option<Matched<'_>> {
        let segments = split(path);
        self.routes
            .iter()
            .filter(|r| r.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method)))
            .filter_map(|route| {
                let parameters = route.captures(&segments)?;
                Some((route, parameters))
            })
            .min_by_key(|(route, _)| route.specificity())
            .map(|(route, path_parameters)| Matched {
                route,
                path_parameters,
            })
    }
}

impl Route {
    pub fn new(
        method: Option<&str>,
        path: Option<&str>,
        function: &str,
    ) -> std::result::Result<Route, String> {
        let function = function.to_owned();
        let (method, path) = match (method, path) {
            (None, None) => {
                return Ok(Route {
                    key: DEFAULT_ROUTE.into(),
                    method: None,
                    segments: Vec::new(),
                    default: true,
                    function,
                });
            }
            (Some(m), Some(p)) => (m, p),
            _ => return Err("an HttpApi event needs both Method and Path (or neither, for $default)".into()),
        };
        if !path.starts_with('/') {
            return Err(format!("Path must start with '/', got {path:?}"));
        }
        let upper = method.to_ascii_uppercase();
        let method = match upper.as_str() {
            "ANY" | "X-AMAZON-APIGATEWAY-ANY-METHOD" => None,
            "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS" => Some(upper.clone()),
            _ => return Err(format!("unknown Method {method:?}")),
        };
        let raw = split(path);
        let mut segments = Vec::with_capacity(raw.len());
        for (i, segment) in raw.iter().enumerate() {
            let parsed = match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) if name.ends_with('+') => {
                    if i + 1 != raw.len() {
                        return Err(format!("a greedy variable must be the last segment of {path}"));
                    }
                    Segment::Greedy(name.trim_end_matches('+').to_owned())
                }
                Some(name) if !name.is_empty() => Segment::Variable(name.to_owned()),
                Some(_) => return Err(format!("empty variable in {path}")),
                None => Segment::Literal((*segment).to_owned()),
            };
            segments.push(parsed);
        }
        Ok(Route {
            key: format!("{} {path}", method.as_deref().unwrap_or("ANY")),
            method,
            segments,
            default: false,
            function,
        })
    }

    fn captures(&self, request: &[&str]) -> Option<HashMap<String, String>> {
        if self.default {
            return Some(HashMap::new());
        }
        let mut parameters = HashMap::new();
        for (i, segment) in self.segments.iter().enumerate() {
            match segment {
                Segment::Literal(text) => {
                    if request.get(i) != Some(&text.as_str()) {
                        return None;
                    }
                }
                Segment::Variable(name) => {
                    let value = request.get(i).filter(|v| !v.is_empty())?;
                    // Path parameters arrive percent-decoded, as API Gateway passes them.
                    parameters.insert(name.clone(), percent_decode(value));
                }
                Segment::Greedy(name) => {
                    let rest = request.get(i..).filter(|r| !r.is_empty())?.join("/");
                    if rest.is_empty() {
                        return None;
                    }
                    parameters.insert(name.clone(), percent_decode(&rest));
                    return Some(parameters);
                }
            }
        }
        (request.len() == self.segments.len()).then_some(parameters)
    }

    /// Sort key: `$default` last; then segment by segment, literal before variable before
    /// greedy; longer literal paths first; a method before ANY.
    fn specificity(&self) -> (bool, Vec<u8>, bool) {
        let mut ranks: Vec<u8> = self.segments.iter().map(Segment::rank).collect();
        // A longer route beats a shorter one that matched the same request only through a
        // greedy variable; ranks of 3 pad shorter routes after longer ones.
        ranks.resize(64, 3);
        (self.default, ranks, self.method.is_none())
    }
}

/// `/a/b/` -> `["a", "b", ""]`; `/` -> `[""]`.
fn split(path: &str) -> Vec<&str> {
    path.strip_prefix('/').unwrap_or(path).split('/').collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes() -> Routes {
        Routes::new(vec![
            Route::new(Some("GET"), Some("/marathons/{id}"), "Read").unwrap(),
            Route::new(Some("GET"), Some("/marathons/mine"), "Mine").unwrap(),
            Route::new(Some("ANY"), Some("/marathons/{id}"), "AnyMarathon").unwrap(),
            Route::new(Some("GET"), Some("/files/{proxy+}"), "Files").unwrap(),
            Route::new(Some("GET"), Some("/files/{dir}/readme"), "Readme").unwrap(),
            Route::new(Some("POST"), Some("/auth/login"), "Login").unwrap(),
            Route::new(None, None, "Fallback").unwrap(),
        ])
    }

    fn target(method: &str, path: &str) -> (String, HashMap<String, String>) {
        let binding = routes();
        let matched = binding.find(method, path).expect("a route");
        (matched.route.function.clone(), matched.path_parameters)
    }

    #[test]
    fn literal_beats_variable_beats_greedy_and_method_beats_any() {
        assert_eq!(target("GET", "/marathons/mine").0, "Mine");
        let (function, params) = target("GET", "/marathons/m%20%231");
        assert_eq!(function, "Read");
        assert_eq!(params["id"], "m #1", "path parameters are decoded");
        assert_eq!(target("DELETE", "/marathons/7").0, "AnyMarathon");
        assert_eq!(target("GET", "/files/docs/readme").0, "Readme");
        let (function, params) = target("GET", "/files/a/b/c.txt");
        assert_eq!(function, "Files");
        assert_eq!(params["proxy"], "a/b/c.txt");
        assert_eq!(target("post", "/auth/login").0, "Login");
    }

    #[test]
    fn the_default_route_catches_the_rest_and_without_it_nothing_matches() {
        assert_eq!(target("GET", "/auth/login").0, "Fallback");
        assert_eq!(
            target("GET", "/files").0,
            "Fallback",
            "a greedy variable needs a segment"
        );
        assert_eq!(
            target("GET", "/marathons/").0,
            "Fallback",
            "a variable needs a value"
        );
        let no_default = Routes::new(vec![
            Route::new(Some("POST"), Some("/auth/login"), "Login").unwrap(),
        ]);
        assert!(no_default.find("POST", "/auth/login/extra").is_none());
        assert!(no_default.find("GET", "/auth/login").is_none());
    }

    #[test]
    fn keys_and_bad_routes() {
        assert_eq!(Route::new(Some("any"), Some("/x"), "F").unwrap().key, "ANY /x");
        assert_eq!(Route::new(None, None, "F").unwrap().key, "$default");
        assert!(Route::new(Some("GET"), None, "F").is_err());
        assert!(Route::new(Some("GET"), Some("x"), "F").is_err());
        assert!(Route::new(Some("FETCH"), Some("/x"), "F").is_err());
        assert!(Route::new(Some("GET"), Some("/{a+}/b"), "F").is_err());
    }
}
