//! Idempotency records against the emulator (table from template.yaml).

use infra::idempotency::{Claim, Idempotency};
use time::{Duration, OffsetDateTime};

async fn store() -> Idempotency {
    let stack = local::Stack::shared();
    let table = stack
        .provisioned()
        .physical_name("IdempotencyTable")
        .expect("IdempotencyTable in template.yaml")
        .to_owned();
    let client = aws_sdk_dynamodb::Client::new(&stack.sdk_config().await);
    Idempotency::new(client, table, Duration::days(7), Duration::seconds(60))
}

fn key() -> String {
    format!("test#{}", ulid::Ulid::new())
}

#[tokio::test]
async fn a_completed_key_suppresses_repeats() {
    let store = store().await;
    let (key, now) = (key(), OffsetDateTime::now_utc());
    assert_eq!(store.claim(&key, now).await.unwrap(), Claim::Claimed);
    assert_eq!(store.claim(&key, now).await.unwrap(), Claim::InProgress);
    store.complete(&key, now).await.unwrap();
    assert_eq!(
        store.claim(&key, now + Duration::hours(1)).await.unwrap(),
        Claim::AlreadyDone
    );
    // after the retention window the record no longer counts, even before TTL deletes it
    assert_eq!(
        store.claim(&key, now + Duration::days(8)).await.unwrap(),
        Claim::Claimed
    );
}

#[tokio::test]
async fn a_released_or_abandoned_claim_can_be_taken_again() {
    let store = store().await;
    let (key, now) = (key(), OffsetDateTime::now_utc());
    assert_eq!(store.claim(&key, now).await.unwrap(), Claim::Claimed);
    store.release(&key).await.unwrap();
    assert_eq!(store.claim(&key, now).await.unwrap(), Claim::Claimed);
    // its holder died: after the claim window another invocation takes it
    assert_eq!(
        store.claim(&key, now + Duration::seconds(30)).await.unwrap(),
        Claim::InProgress
    );
    assert_eq!(
        store.claim(&key, now + Duration::seconds(61)).await.unwrap(),
        Claim::Claimed
    );
    // releasing a completed key does not undo it
    store.complete(&key, now).await.unwrap();
    store.release(&key).await.unwrap();
    assert_eq!(store.claim(&key, now).await.unwrap(), Claim::AlreadyDone);
}

#[tokio::test]
async fn concurrent_claims_give_one_winner() {
    let store = store().await;
    let (key, now) = (key(), OffsetDateTime::now_utc());
    let claims = futures::future::join_all((0..10).map(|_| store.claim(&key, now))).await;
    let won = claims.iter().filter(|c| matches!(c, Ok(Claim::Claimed))).count();
    assert_eq!(won, 1);
}
