//! The router a function serves, from the same route list as its OpenAPI document, without
//! building the document: `routes!` computes every operation's documentation (schemas,
//! parameters, responses) as it registers a route, about 1 ms of record-api's cold start
//! that the served router then threw away. [`served_routes!`](crate::served_routes) reads
//! only each handler's path and methods (what utoipa's `#[utoipa::path]` states, cheap) and
//! registers the handler for them, exactly as `routes!` does.

use axum::Router;
use axum::routing::MethodRouter;

/// Routes collected by `served_routes!`; `.routes(...)` has the shape of
/// `OpenApiRouter::routes`, so one list of `.routes(routes!(...))` calls serves both.
pub struct Served<S = ()>(Router<S>);

impl<S: Clone + Send + Sync + 'static> Served<S> {
    pub fn new() -> Self {
        Self(Router::new())
    }

    pub fn routes(self, routes: Vec<(String, MethodRouter<S>)>) -> Self {
        Self(
            routes
                .into_iter()
                // axum merges the method routers of one path
                .fold(self.0, |router, (path, methods)| router.route(&path, methods)),
        )
    }

    pub fn into_router(self) -> Router<S> {
        self.0
    }
}

impl<S: Clone + Send + Sync + 'static> Default for Served<S> {
    fn default() -> Self {
        Self::new()
    }
}

/// `served_routes!(a::create, a::list)`: what `utoipa_axum::routes!` takes, as a served
/// route list (path and method router of each handler), without documentation.
#[macro_export]
macro_rules! served_routes {
    ( $( $($segment:ident)::+ ),+ $(,)? ) => {{
        let mut routes = ::std::vec::Vec::new();
        $(
            let path: ::std::string::String = ::utoipa_axum::routes!( @path [path()] of $($segment)::+ );
            let methods: ::std::vec::Vec<::utoipa::openapi::HttpMethod> =
                ::utoipa_axum::routes!( @path [methods()] of $($segment)::+ );
            let router = methods.iter().fold(::axum::routing::MethodRouter::new(), |router, method| {
                router.on(::utoipa_axum::PathItemExt::to_method_filter(method), $($segment)::+)
            });
            routes.push((path, router));
        )+
        routes
    }};
}
