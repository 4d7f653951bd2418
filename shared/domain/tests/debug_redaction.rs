//! Types holding a password hash or a refresh token's hash: their `Debug` names every
//! field but never prints the hash.

use domain::lockout::AttemptState;
use domain::ports::Credentials;
use domain::refresh::RefreshFamily;
use domain::{Email, Role, User, UserId, UserName};
use time::macros::datetime;

const PASSWORD_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo";
const TOKEN_HASH: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

#[test]
fn credentials_hide_the_password_hash() {
    let credentials = Credentials {
        user: User {
            id: UserId::generate(),
            email: Email::parse("kim@example.com").unwrap(),
            name: UserName::parse("Kim").unwrap(),
            user_type: Role::Runner,
            created_at: datetime!(2026-11-21 10:00 UTC),
        },
        password_hash: PASSWORD_HASH.into(),
        attempts: AttemptState {
            failures: 3,
            ..AttemptState::default()
        },
        session_generation: 2,
        email_verified: true,
    };
    let debug = format!("{credentials:?}");
    assert!(
        !debug.contains(PASSWORD_HASH) && !debug.contains("argon2"),
        "{debug}"
    );
    assert!(
        debug.contains("[redacted]") && debug.contains("kim@example.com") && debug.contains("failures: 3"),
        "{debug}"
    );
}

#[test]
fn a_refresh_family_hides_its_token_hash() {
    let family = RefreshFamily {
        user_id: UserId::generate(),
        family_id: "family-1".into(),
        current_hash: TOKEN_HASH.into(),
        expires_at: datetime!(2026-12-05 10:00 UTC),
        revoked: false,
        generation: 2,
        session_expires_at: datetime!(2026-12-21 10:00 UTC),
    };
    let debug = format!("{family:#?}");
    assert!(!debug.contains(TOKEN_HASH), "{debug}");
    assert!(
        debug.contains("[redacted]") && debug.contains("family-1"),
        "{debug}"
    );
}
