//! The RS256 key pair login signs access tokens with. In AWS an operator creates the two
//! secrets once; locally they are generated on first provisioning and then kept, so
//! tokens stay valid across restarts of a long-running emulator.

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::KeyPair as _;
use aws_sdk_secretsmanager::Client;

use super::KeyPairSecrets;
use crate::error::{Error, Result};
use crate::pem;

pub const PRIVATE_KEY_LABEL: &str = "PRIVATE KEY";
pub const PUBLIC_KEY_LABEL: &str = "PUBLIC KEY";

/// Creates both secrets unless the private one exists (then both are left alone).
/// Returns whether a new pair was generated.
pub(super) async fn ensure(client: &Client, secrets: &KeyPairSecrets) -> Result<bool> {
    let private_name = &secrets.private_key_secret;
    match client.describe_secret().secret_id(private_name).send().await {
        Ok(_) => return Ok(false),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) => {}
        Err(e) => return Err(Error::aws(format!("DescribeSecret {private_name}"), e)),
    }

    let (private_pem, public_pem) = generate()?;
    // Public first: if anything fails between the two, the next run (which keys on the
    // private secret) generates a fresh pair and overwrites the public one.
    put(client, &secrets.public_key_secret, public_pem).await?;
    put(client, private_name, private_pem).await?;
    Ok(true)
}

/// A fresh RSA 2048 pair as (PKCS#8 private PEM, SubjectPublicKeyInfo public PEM).
pub fn generate() -> Result<(String, String)> {
    let pair = KeyPair::generate(KeySize::Rsa2048)
        .map_err(|_| Error::KeyPair("cannot generate an RSA 2048 key pair".into()))?;
    let private: Pkcs8V1Der<'static> = pair
        .as_der()
        .map_err(|_| Error::KeyPair("cannot encode the private key as PKCS#8".into()))?;
    let public: PublicKeyX509Der<'static> = pair
        .public_key()
        .as_der()
        .map_err(|_| Error::KeyPair("cannot encode the public key as SubjectPublicKeyInfo".into()))?;
    Ok((
        pem::encode(PRIVATE_KEY_LABEL, private.as_ref()),
        pem::encode(PUBLIC_KEY_LABEL, public.as_ref()),
    ))
}

/// Creates the secret, or gives an existing one a new value.
pub(super) async fn put(client: &Client, name: &str, value: String) -> Result<()> {
    match client
        .create_secret()
        .name(name)
        .secret_string(value.clone())
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_exists_exception()) =>
        {
            client
                .put_secret_value()
                .secret_id(name)
                .secret_string(value)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| Error::aws(format!("PutSecretValue {name}"), e))
        }
        Err(e) => Err(Error::aws(format!("CreateSecret {name}"), e)),
    }
}
