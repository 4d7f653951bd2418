//! A function's routes as one table: the router is built from it, and the OpenAPI test
//! compares it with the document, so neither can drift from the other.

use std::collections::BTreeMap;

use axum::Router;
use axum::routing::MethodRouter;
use http::Method;

pub struct Route<S> {
    pub method: Method,
    /// axum and OpenAPI share the `{param}` syntax.
    pub path: &'static str,
    pub handler: MethodRouter<S>,
}

impl<S> Route<S> {
    pub fn new(method: Method, path: &'static str, handler: MethodRouter<S>) -> Self {
        Self {
            method,
            path,
            handler,
        }
    }
}

/// Builds the router of `routes` (several methods of one path merged), finished with the
/// shared fallbacks and body limit.
pub fn build_router<S: Clone + Send + Sync + 'static>(routes: Vec<Route<S>>, state: S) -> Router {
    let mut by_path: BTreeMap<&'static str, MethodRouter<S>> = BTreeMap::new();
    for route in routes {
        let merged = match by_path.remove(route.path) {
            Some(existing) => existing.merge(route.handler),
            None => route.handler,
        };
        by_path.insert(route.path, merged);
    }
    let router = by_path
        .into_iter()
        .fold(Router::new(), |router, (path, handler)| {
            router.route(path, handler)
        });
    super::finish_router(router).with_state(state)
}

/// The (method, path) pairs of a route table, for documentation checks.
pub fn signatures<S>(routes: &[Route<S>]) -> Vec<(String, String)> {
    routes
        .iter()
        .map(|r| (r.method.as_str().to_owned(), r.path.to_owned()))
        .collect()
}
