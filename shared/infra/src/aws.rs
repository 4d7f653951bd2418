//! The one SDK configuration per container, from what the Lambda service gives a function:
//! `AWS_REGION`, the execution role's credentials as environment variables, and (locally)
//! the standard `AWS_ENDPOINT_URL`, so the emulator needs no special code path.
//!
//! Built directly rather than through `aws_config::load()`: its default chains (profile
//! files, SSO, web identity and STS, ECS, IMDS) can never apply on Lambda, yet linked STS,
//! an XML stack and the IMDS client into every binary and read profile files at each cold
//! start.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_smithy_async::rt::sleep::{SharedAsyncSleep, TokioSleep};
use aws_smithy_async::time::SharedTimeSource;
use aws_smithy_http_client::Builder;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};

/// Every AWS endpoint chains to one of these roots. Trusting them alone spares each cold
/// start reading and parsing the system's whole CA bundle (and, where OpenSSL's directory
/// exists, every file in it): several milliseconds of init CPU, more on a small Lambda.
const AWS_ROOTS: &[u8] = include_bytes!("../certs/amazon-trust-services.pem");

/// The SDK's own default connect timeout (aws-config's, for this behavior version).
const CONNECT_TIMEOUT: Duration = Duration::from_millis(3100);

pub async fn load_config() -> SdkConfig {
    let env = crate::config::Env::from_process();
    lambda_config(
        env.optional("AWS_REGION")
            .or_else(|| env.optional("AWS_DEFAULT_REGION")),
        env.optional("AWS_ENDPOINT_URL"),
        aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
    )
}

/// The functions' configuration for a region, an optional endpoint and a credentials
/// source: the SDK's standard retries (3 attempts) and connect timeout, a tokio sleep, the
/// system clock, and the HTTPS client below.
pub fn lambda_config(
    region: Option<String>,
    endpoint_url: Option<String>,
    credentials: impl ProvideCredentials + 'static,
) -> SdkConfig {
    let mut builder = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .http_client(https_client(explicit_trust()))
        .sleep_impl(SharedAsyncSleep::new(TokioSleep::new()))
        .time_source(SharedTimeSource::default())
        .retry_config(RetryConfig::standard())
        .timeout_config(TimeoutConfig::builder().connect_timeout(CONNECT_TIMEOUT).build());
    builder.set_region(region.map(Region::new));
    builder.set_endpoint_url(endpoint_url);
    builder.build()
}

/// The standard OpenSSL variables name a trust store on purpose (a proxy, a private CA):
/// then the system's roots are used as well. Lambda sets neither.
pub(crate) fn explicit_trust() -> bool {
    ["SSL_CERT_FILE", "SSL_CERT_DIR"]
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()))
}

fn https_client(system_roots: bool) -> aws_sdk_dynamodb::config::SharedHttpClient {
    let trust = TrustStore::empty()
        .with_native_roots(system_roots)
        .with_pem_certificate(AWS_ROOTS);
    let context = TlsContext::builder()
        .with_trust_store(trust)
        .build()
        .expect("a TLS context from a trust store cannot fail to build");
    Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(context)
        .build_https()
}

/// Kept here too for code that names it by its old path.
pub use crate::config::ConfigError;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_roots_are_the_five_amazon_trust_services_certificates() {
        use aws_lc_rs::digest::{SHA256, digest};
        let text = std::str::from_utf8(AWS_ROOTS).unwrap();
        let ders: Vec<Vec<u8>> = text
            .split("-----BEGIN CERTIFICATE-----")
            .skip(1)
            .map(|block| {
                let body: String = block
                    .split("-----END CERTIFICATE-----")
                    .next()
                    .unwrap()
                    .split_whitespace()
                    .collect();
                base64::Engine::decode(&base64::engine::general_purpose::STANDARD, body).unwrap()
            })
            .collect();
        assert_eq!(ders.len(), 5);
        // SHA-256 fingerprints published at https://www.amazontrust.com/repository/.
        let expected = [
            "8ecde6884f3d87b1125ba31ac3fcb13d7016de7f57cc904fe1cb97c6ae98196e",
            "1ba5b2aa8c65401a82960118f80bec4f62304d83cec4713a19c39c011ea46db4",
            "18ce6cfe7bf14e60b2e347b8dfe868cb31d02ebb3ada271569f50343b46db3a4",
            "e35d28419ed02025cfa69038cd623962458da5c695fbdea3c22b0bfb25897092",
            "568d6905a2c88708a4b3025190edcfedb1974a606a13c6e5290fcb2ae63edab5",
        ];
        for (der, fingerprint) in ders.iter().zip(expected) {
            let hex: String = digest(&SHA256, der)
                .as_ref()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            assert_eq!(hex, fingerprint);
        }
    }
}
