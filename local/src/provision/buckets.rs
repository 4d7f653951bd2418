//! `AWS::S3::Bucket`: created on the emulator under its `BucketName`, else the local
//! default name in lowercase (bucket names are). Only the name matters locally: the
//! emulator ignores encryption and access blocks, and a bucket's notifications are the
//! event source mappings' (`esm::bucket`), made from the functions' `S3` events.

use aws_sdk_s3::Client;
use aws_sdk_s3::error::ProvideErrorMetadata;
use serde_yaml::Value;

use super::Created;
use crate::error::{Error, Result};

pub(super) async fn ensure(client: &Client, properties: &Value, default_name: String) -> Result<Created> {
    let name = match properties.get("BucketName").and_then(Value::as_str) {
        Some(own) => own.to_owned(),
        None => default_name.to_lowercase(),
    };
    let created = match client.create_bucket().bucket(&name).send().await {
        Ok(_) => true,
        Err(e) if matches!(e.code(), Some("BucketAlreadyOwnedByYou" | "BucketAlreadyExists")) => false,
        Err(e) => return Err(Error::aws(format!("CreateBucket {name}"), e)),
    };
    Ok(Created {
        arn: Some(format!("arn:aws:s3:::{name}")),
        physical_name: name,
        url: None,
        stream_arn: None,
        created,
    })
}
