//! TLS for calls to the public web (the Discord webhook).
//!
//! reqwest's own rustls set-up builds a platform verifier that reads and parses the
//! system's whole CA bundle when the client is built: half of discord-webhook's init
//! CPU (11.1 -> 5.6 ms). Mozilla's roots compiled in (webpki-roots) cost nothing to load.

use std::sync::Arc;

use rustls::{ClientConfig, RootCertStore};

/// A client configuration trusting Mozilla's roots, on the workspace's one crypto stack
/// (aws-lc-rs). `None` when `SSL_CERT_FILE` or `SSL_CERT_DIR` names a trust store on
/// purpose (a proxy, a private CA): the caller then keeps its system-roots default.
pub fn public_roots() -> Option<ClientConfig> {
    config(crate::aws::explicit_trust())
}

fn config(explicit_trust: bool) -> Option<ClientConfig> {
    if explicit_trust {
        return None;
    }
    let roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("aws-lc-rs supports rustls' default protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    Some(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_explicit_trust_store_keeps_the_callers_system_roots() {
        assert!(config(true).is_none());
    }

    #[test]
    fn the_roots_include_those_discord_chains_to() {
        // discord.com is served through Cloudflare, with Google Trust Services or Let's
        // Encrypt certificates.
        let config = config(false).expect("no explicit trust store");
        assert!(
            config.alpn_protocols.is_empty(),
            "HTTP/1.1, as reqwest is built here"
        );
        let subjects: Vec<&[u8]> = webpki_roots::TLS_SERVER_ROOTS
            .iter()
            .map(|anchor| anchor.subject.as_ref())
            .collect();
        for root in ["GTS Root R1", "GTS Root R4", "ISRG Root X1"] {
            assert!(
                subjects
                    .iter()
                    .any(|s| s.windows(root.len()).any(|w| w == root.as_bytes())),
                "{root} missing"
            );
        }
    }
}
