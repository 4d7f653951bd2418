//! The one SDK configuration per container. Endpoints come from the standard
//! `AWS_ENDPOINT_URL` variables, so the local emulator needs no special code path.

use aws_smithy_http_client::Builder;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};

/// Every AWS endpoint chains to one of these roots. Trusting them alone spares each cold
/// start reading and parsing the system's whole CA bundle (and, where OpenSSL's directory
/// exists, every file in it): several milliseconds of init CPU, more on a small Lambda.
const AWS_ROOTS: &[u8] = include_bytes!("../certs/amazon-trust-services.pem");

pub async fn load_config() -> aws_config::SdkConfig {
    config_loader().load().await
}

/// The defaults (environment, then profile files) with the functions' HTTPS client.
pub fn config_loader() -> aws_config::ConfigLoader {
    let loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    with_https_client(loader, explicit_trust())
}

/// The standard OpenSSL variables name a trust store on purpose (a proxy, a private CA):
/// then the system's roots are used as well. Lambda sets neither.
fn explicit_trust() -> bool {
    ["SSL_CERT_FILE", "SSL_CERT_DIR"]
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()))
}

fn with_https_client(loader: aws_config::ConfigLoader, system_roots: bool) -> aws_config::ConfigLoader {
    let trust = TrustStore::empty()
        .with_native_roots(system_roots)
        .with_pem_certificate(AWS_ROOTS);
    let context = TlsContext::builder()
        .with_trust_store(trust)
        .build()
        .expect("a TLS context from a trust store cannot fail to build");
    loader.http_client(
        Builder::new()
            .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
            .tls_context(context)
            .build_https(),
    )
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    Missing(String),
    #[error("environment variable {0} has an invalid value {1:?}")]
    Invalid(String, String),
}

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
