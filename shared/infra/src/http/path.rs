//! Path-parameter extraction whose rejection is a problem+json 404: a segment that does
//! not decode (invalid UTF-8 after percent-decoding) cannot name anything of ours.

use axum::extract::{FromRequestParts, Path};
use http::request::Parts;
use serde::de::DeserializeOwned;

use super::problem::{Problem, ProblemType};

pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| Self(value))
            .map_err(|rejection| {
                Problem::new(
                    ProblemType::NotFound,
                    format!("no such resource: {}", rejection.body_text()),
                )
            })
    }
}
