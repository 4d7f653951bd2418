//! The imports bucket (feature `s3`): a presigned PUT for the organizer's upload (the
//! file never passes through the API and its 64 KiB body limit), reading the uploaded
//! file back with a size limit, and the empty marker object whose creation asks
//! results-import to commit.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use aws_sdk_s3::Client;
use aws_sdk_s3::error::{DisplayErrorContext, SdkError};
use aws_sdk_s3::presigning::PresigningConfig;
use domain::ports::StoreError;

/// Why a file could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReadError {
    #[error("no such object")]
    Missing,
    #[error("the file is {0} bytes, more than {1}")]
    TooLarge(u64, u64),
    #[error("S3 unavailable: {0}")]
    Unavailable(String),
}

fn unavailable<E, R>(error: SdkError<E, R>) -> String
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    DisplayErrorContext(error).to_string()
}

#[derive(Clone, Debug)]
pub struct ImportFiles {
    client: S3,
    bucket: String,
}

/// The client, or what builds it at the first call: record-api's containers mostly serve
/// requests that never touch the bucket, and an S3 client is the costliest of the SDK's
/// to build at cold start (BENCHMARKS.md, "Clients a container may never use").
#[derive(Clone, Debug)]
enum S3 {
    Client(Client),
    OnDemand(Box<aws_config::SdkConfig>, Arc<OnceLock<Client>>),
}

impl ImportFiles {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Self {
            client: S3::Client(client),
            bucket: bucket.into(),
        }
    }

    /// The same, with its client built at the first call rather than at cold start.
    pub fn on_demand(sdk: &aws_config::SdkConfig, bucket: impl Into<String>) -> Self {
        Self {
            client: S3::OnDemand(Box::new(sdk.clone()), Arc::default()),
            bucket: bucket.into(),
        }
    }

    fn client(&self) -> &Client {
        match &self.client {
            S3::Client(client) => client,
            S3::OnDemand(sdk, client) => client.get_or_init(|| Client::new(sdk)),
        }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// A URL that lets its holder PUT one object at `key` until it expires, signed with
    /// this function's credentials (its role may put under `imports/` only).
    pub async fn presign_put(&self, key: &str, expires: Duration) -> Result<String, StoreError> {
        let config = PresigningConfig::expires_in(expires).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let request = self
            .client()
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type("text/csv")
            .presigned(config)
            .await
            .map_err(|e| StoreError::Unavailable(unavailable(e)))?;
        Ok(request.uri().to_owned())
    }

    /// The object's bytes, refused unread above `max_bytes`.
    pub async fn read(&self, key: &str, max_bytes: u64) -> Result<Vec<u8>, ReadError> {
        let output = self
            .client()
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| match e.as_service_error() {
                Some(service) if service.is_no_such_key() => ReadError::Missing,
                _ => ReadError::Unavailable(unavailable(e)),
            })?;
        let size = output.content_length().unwrap_or(0).max(0) as u64;
        if size > max_bytes {
            return Err(ReadError::TooLarge(size, max_bytes));
        }
        let bytes = output
            .body
            .collect()
            .await
            .map_err(|e| ReadError::Unavailable(e.to_string()))?;
        Ok(bytes.to_vec())
    }

    /// Writes an empty object (the commit marker); writing it again is harmless and
    /// triggers results-import again (a resume).
    pub async fn put_marker(&self, key: &str) -> Result<(), StoreError> {
        self.client()
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(Vec::new().into())
            .send()
            .await
            .map_err(|e| StoreError::Unavailable(unavailable(e)))?;
        Ok(())
    }
}

/// The bucket as record-api's import use cases reach it.
#[async_trait::async_trait]
impl domain::import::ImportUploads for ImportFiles {
    async fn presign_put(&self, key: &str, expires: Duration) -> Result<String, StoreError> {
        ImportFiles::presign_put(self, key, expires).await
    }

    async fn put_marker(&self, key: &str) -> Result<(), StoreError> {
        ImportFiles::put_marker(self, key).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sdk() -> aws_config::SdkConfig {
        let credentials = aws_credential_types::Credentials::new("AKIDTEST", "secret", None, None, "test");
        crate::aws::lambda_config(Some("eu-west-1".into()), None, credentials)
    }

    #[tokio::test]
    async fn an_on_demand_client_is_built_at_the_first_call_and_shared_by_clones() {
        let files = ImportFiles::on_demand(&sdk(), "imports-bucket");
        let S3::OnDemand(_, built) = &files.client else {
            panic!("on_demand must defer the client");
        };
        assert!(built.get().is_none(), "no client before the first call");
        let copy = files.clone();
        let url = copy
            .presign_put("imports/m/i.csv", Duration::from_secs(900))
            .await
            .expect("presigning needs no network");
        assert!(
            url.contains("imports-bucket")
                && url.contains("imports/m/i.csv")
                && url.contains("X-Amz-Signature="),
            "{url}"
        );
        assert!(built.get().is_some(), "a clone's first call built it");
        assert!(
            std::ptr::eq(files.client(), copy.client()),
            "one client for the container"
        );
    }
}
