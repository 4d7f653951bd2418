//! Idempotency records against the emulator (table from template.yaml).

use std::sync::atomic::Ordering::SeqCst;
use std::sync::atomic::{AtomicBool, AtomicUsize};

use infra::idempotency::{Claim, Idempotency, Once};
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

/// A clock the test sets, so claim windows can be crossed without waiting.
struct At(OffsetDateTime);

impl domain::Clock for At {
    fn now(&self) -> OffsetDateTime {
        self.0
    }
}

#[tokio::test]
async fn once_acts_once_and_gives_a_failed_key_back() {
    let store = store().await;
    let (key, clock) = (key(), At(OffsetDateTime::now_utc()));
    let acted = AtomicUsize::new(0);
    let act = |result: Result<u8, &'static str>| {
        let acted = &acted;
        move || async move {
            acted.fetch_add(1, SeqCst);
            result
        }
    };

    // a failed act releases the key: the next try acts again
    let failed = store.once(&key, &clock, act(Err("refused"))).await;
    assert!(matches!(failed, Once::Failed("refused")), "{failed:?}");
    let done = store.once(&key, &clock, act(Ok(7))).await;
    assert!(matches!(done, Once::Done(7)), "{done:?}");
    assert_eq!(acted.load(SeqCst), 2);

    // once done, a repeat does not act
    let again = store.once(&key, &clock, act(Ok(8))).await;
    assert!(matches!(again, Once::AlreadyDone), "{again:?}");
    assert_eq!(acted.load(SeqCst), 2);
    assert_eq!(store.claim(&key, clock.0).await.unwrap(), Claim::AlreadyDone);
}

#[tokio::test]
async fn once_does_not_act_on_a_key_held_elsewhere() {
    let store = store().await;
    let (key, clock) = (key(), At(OffsetDateTime::now_utc()));
    assert_eq!(store.claim(&key, clock.0).await.unwrap(), Claim::Claimed);
    let acted = AtomicBool::new(false);
    let held = store
        .once(&key, &clock, || async {
            acted.store(true, SeqCst);
            Ok::<(), ()>(())
        })
        .await;
    assert!(matches!(held, Once::HeldElsewhere), "{held:?}");
    assert!(!acted.load(SeqCst), "acted on a key held elsewhere");
    // the other holder's claim is untouched: it can still complete it
    store.complete(&key, clock.0).await.unwrap();
    assert_eq!(store.claim(&key, clock.0).await.unwrap(), Claim::AlreadyDone);
}

#[tokio::test]
async fn once_without_a_store_does_not_act() {
    let stack = local::Stack::shared();
    let client = aws_sdk_dynamodb::Client::new(&stack.sdk_config().await);
    // a table that does not exist stands for a store that cannot be reached
    let store = Idempotency::new(client, "no-such-table", Duration::days(7), Duration::seconds(60));
    let clock = At(OffsetDateTime::now_utc());
    let acted = AtomicBool::new(false);
    let outcome = store
        .once(&key(), &clock, || async {
            acted.store(true, SeqCst);
            Ok::<(), ()>(())
        })
        .await;
    assert!(matches!(outcome, Once::StoreUnavailable(_)), "{outcome:?}");
    assert!(!acted.load(SeqCst), "acted without a claim");
}

/// The claim's put succeeds but its answer is lost (a 500 after the write, as a timeout
/// would): the SDK's retry meets the claim it just wrote. It is ours, not one held
/// elsewhere, so the act runs now instead of after the claim expires (issue 14: mails
/// held back 65 s by their own claim; found again by the soak, a Discord post held by its
/// own claim until its message reached the DLQ).
#[tokio::test]
async fn a_claim_whose_answer_was_lost_is_still_ours() {
    let stack = local::Stack::shared();
    let table = stack
        .provisioned()
        .physical_name("IdempotencyTable")
        .unwrap()
        .to_owned();
    let faulty = stack
        .sdk_config()
        .await
        .to_builder()
        .app_name(aws_config::AppName::new("idempotency-lost-answer").unwrap())
        .build();
    let store = Idempotency::new(
        aws_sdk_dynamodb::Client::new(&faulty),
        table,
        Duration::days(7),
        Duration::seconds(60),
    );
    let (key, now) = (key(), OffsetDateTime::now_utc());
    // the next call of this client only: a 500 after the put was applied
    local::moto_api::set_faults(
        stack.endpoint(),
        &serde_json::json!({"random": {
            "share": 1.0, "after": 1.0, "kinds": ["500"], "times": 1, "services": ["dynamodb"],
            "agent": "app/idempotency-lost-answer",
        }}),
    )
    .await
    .unwrap();
    assert_eq!(store.claim(&key, now).await.unwrap(), Claim::Claimed);
    let counts = local::moto_api::fault_counts(stack.endpoint()).await.unwrap();
    assert_eq!(counts["faults"]["dynamodb"]["500 after"], 1, "{counts}");
    // another caller still finds it held
    assert_eq!(store.claim(&key, now).await.unwrap(), Claim::InProgress);
}
