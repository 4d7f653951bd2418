//! Points as record-api reads them from the Users table, against the emulator. The award
//! items are written by hand, attribute by attribute, so the test pins the item layout
//! point-increase and record-api share rather than trusting `AwardItem` both ways.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use domain::activity::{ActivityEntry, ActivityKind, RequestOrigin};
use domain::marathon::MarathonId;
use domain::points::Award;
use domain::ports::{PointsStore, UserStore};
use domain::{Email, Role, User, UserId, UserName};
use infra::dynamo::{ActivityLog, AwardItem, DynamoUsers};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

struct Fixture {
    users: DynamoUsers,
    client: Client,
    table: String,
}

async fn fixture() -> Fixture {
    let stack = local::Stack::shared();
    let names = stack.provisioned();
    let table = names
        .physical_name("UsersTable")
        .expect("UsersTable is in template.yaml")
        .to_owned();
    let activity = ActivityLog {
        table: names
            .physical_name("ActivityLogTable")
            .expect("ActivityLogTable is in template.yaml")
            .to_owned(),
        retention: Duration::days(30),
    };
    let client = Client::new(&stack.sdk_config().await);
    Fixture {
        users: DynamoUsers::new(client.clone(), table.clone(), activity),
        client,
        table,
    }
}

const AT: OffsetDateTime = datetime!(2026-11-21 10:00 UTC);

/// A runner signed up through the users store, as login does it.
async fn runner(fx: &Fixture) -> User {
    let id = UserId::generate();
    let user = User {
        email: Email::parse(&format!("{id}@example.com")).unwrap(),
        id,
        name: UserName::parse("Kim Runner").unwrap(),
        user_type: Role::Runner,
        created_at: AT,
    };
    let signed_up = ActivityEntry::new(
        user.id.clone(),
        ActivityKind::UserSignedUp,
        AT,
        RequestOrigin::default(),
    );
    fx.users
        .create_user(&user, "$argon2id$not-a-real-hash", &signed_up)
        .await
        .unwrap();
    user
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// An award item as point-increase writes it, plus any `extra` attributes.
async fn put_award(fx: &Fixture, runner: &UserId, award: &Award, extra: &[(&str, AttributeValue)]) {
    let mut item = HashMap::from([
        ("pk".to_owned(), s(format!("USER#{runner}"))),
        ("sk".to_owned(), s(format!("AWARD#{}", award.result_id))),
        ("result_id".to_owned(), s(award.result_id.clone())),
        ("marathon_id".to_owned(), s(award.marathon_id.as_str())),
        ("points".to_owned(), n(award.points)),
        ("version".to_owned(), n(award.version)),
        ("updated_at".to_owned(), s("2026-11-21T10:00:00Z")),
    ]);
    item.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
    fx.client
        .put_item()
        .table_name(&fx.table)
        .set_item(Some(item))
        .send()
        .await
        .unwrap();
}

fn award(runner: &UserId, points: u32, version: u64) -> Award {
    let marathon = MarathonId::generate();
    Award {
        result_id: domain::result::result_id(&marathon, runner),
        marathon_id: marathon,
        points,
        version,
        updated_at: AT,
    }
}

async fn set_total(fx: &Fixture, runner: &UserId, total: i64) {
    fx.client
        .update_item()
        .table_name(&fx.table)
        .key("pk", s(format!("USER#{runner}")))
        .key("sk", s("PROFILE"))
        .update_expression("SET total_points = :total")
        .expression_attribute_values(":total", n(total))
        .send()
        .await
        .unwrap();
}

fn sorted(mut awards: Vec<Award>) -> Vec<Award> {
    awards.sort_by(|a, b| a.result_id.cmp(&b.result_id));
    awards
}

#[tokio::test]
async fn the_total_is_the_profiles_and_starts_at_zero() {
    let fx = fixture().await;
    let user = runner(&fx).await;
    let public = |name: &str, deleted| domain::PublicProfile {
        id: user.id.clone(),
        name: UserName::parse(name).unwrap(),
        user_type: Role::Runner,
        deleted,
    };
    assert_eq!(
        fx.users.total(&user.id).await.unwrap(),
        Some((public(user.name.as_str(), false), 0))
    );
    set_total(&fx, &user.id, 215).await;
    assert_eq!(
        fx.users.total(&user.id).await.unwrap(),
        Some((public(user.name.as_str(), false), 215))
    );
    assert_eq!(fx.users.total(&UserId::generate()).await.unwrap(), None);
}

/// Account deletion's transaction (`delete_account`) on the emulator: the account reads
/// as absent, the address is free, the total stays under the anonymous name.
#[tokio::test]
async fn a_deleted_account_keeps_its_points_under_the_anonymous_name_and_frees_its_address() {
    let fx = fixture().await;
    let user = runner(&fx).await;
    set_total(&fx, &user.id, 215).await;
    let account = fx.users.credentials_by_id(&user.id).await.unwrap().unwrap();
    let now = OffsetDateTime::now_utc();
    let entry = ActivityEntry::new(
        user.id.clone(),
        ActivityKind::AccountDeleted,
        now,
        RequestOrigin::default(),
    );
    // a stale session generation (a password change in between) deletes nothing
    let mut stale = account.clone();
    stale.session_generation += 1;
    assert!(matches!(
        fx.users
            .delete_account(&stale, now, &entry, now + Duration::days(3))
            .await,
        Err(domain::ports::StoreError::Conflict)
    ));
    assert!(fx.users.credentials(&user.email).await.unwrap().is_some());

    fx.users
        .delete_account(&account, now, &entry, now + Duration::days(3))
        .await
        .unwrap();
    assert!(fx.users.credentials(&user.email).await.unwrap().is_none());
    assert!(fx.users.credentials_by_id(&user.id).await.unwrap().is_none());
    assert!(fx.users.user(&user.id).await.unwrap().is_none());
    let expected = domain::PublicProfile {
        id: user.id.clone(),
        name: UserName::anonymous(),
        user_type: Role::Runner,
        deleted: true,
    };
    assert_eq!(fx.users.total(&user.id).await.unwrap(), Some((expected, 215)));
    let profile = fx
        .client
        .get_item()
        .table_name(&fx.table)
        .key("pk", s(format!("USER#{}", user.id)))
        .key("sk", s("PROFILE"))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    for gone in ["email", "password_hash", "failed_logins"] {
        assert!(!profile.contains_key(gone), "{gone} is still there");
    }
    assert!(profile.contains_key("deleted_at"));
    // once: a second deletion finds nothing to delete
    let again = fx
        .users
        .delete_account(&account, now, &entry, now + Duration::days(3))
        .await;
    assert!(matches!(again, Err(domain::ports::StoreError::Conflict)));
    // the address signs up again as another account
    let mut reborn = user.clone();
    reborn.id = UserId::generate();
    let signup = ActivityEntry::new(
        reborn.id.clone(),
        ActivityKind::UserSignedUp,
        now,
        RequestOrigin::default(),
    );
    fx.users
        .create_user(&reborn, "$argon2id$x", &signup)
        .await
        .unwrap();
    let claimed = fx.users.credentials(&user.email).await.unwrap().unwrap();
    assert_eq!(claimed.user.id, reborn.id);
}

#[tokio::test]
async fn awards_are_the_runners_own_and_nothing_else() {
    let fx = fixture().await;
    let user = runner(&fx).await;
    let other = runner(&fx).await;
    assert!(fx.users.awards(&user.id).await.unwrap().is_empty());

    let mine = vec![award(&user.id, 105, 1_000), award(&user.id, 0, 1_700_000_000_000)];
    for a in &mine {
        put_award(&fx, &user.id, a, &[]).await;
    }
    put_award(&fx, &other.id, &award(&other.id, 50, 1), &[]).await;
    // the profile and anything else in the partition are not awards
    assert_eq!(sorted(fx.users.awards(&user.id).await.unwrap()), sorted(mine));
}

#[tokio::test]
async fn awards_are_read_past_dynamodbs_one_megabyte_page() {
    let fx = fixture().await;
    let user = runner(&fx).await;
    // 12 items of ~100 kB: no single Query response holds them all
    let padding = s("p".repeat(100_000));
    let awards: Vec<Award> = (0..12).map(|i| award(&user.id, i, 1)).collect();
    for a in &awards {
        put_award(&fx, &user.id, a, &[("padding", padding.clone())]).await;
    }
    let first_page = fx
        .client
        .query()
        .table_name(&fx.table)
        .key_condition_expression("pk = :pk AND begins_with(sk, :award)")
        .expression_attribute_values(":pk", s(format!("USER#{}", user.id)))
        .expression_attribute_values(":award", s("AWARD#"))
        .send()
        .await
        .unwrap();
    assert!(
        first_page.last_evaluated_key.is_some(),
        "the setup must span pages"
    );
    assert_eq!(sorted(fx.users.awards(&user.id).await.unwrap()), sorted(awards));
}

#[test]
fn award_items_have_the_shared_layout() {
    let runner = UserId::generate();
    let a = award(&runner, 105, 42);
    let item = AwardItem::from(&a).to_item(&runner).unwrap();
    assert_eq!(item["pk"], s(format!("USER#{runner}")));
    assert_eq!(item["sk"], s(format!("AWARD#{}", a.result_id)));
    assert_eq!(item["points"], n(105));
    assert_eq!(item["version"], n(42));
    assert_eq!(item["updated_at"], s("2026-11-21T10:00:00Z"));
    assert_eq!(item["marathon_id"], s(a.marathon_id.as_str()));
    assert_eq!(
        AwardItem::key(&runner, &a.result_id),
        HashMap::from([
            ("pk".to_owned(), item["pk"].clone()),
            ("sk".to_owned(), item["sk"].clone()),
        ])
    );
    assert_eq!(Award::from(AwardItem::from_item(item).unwrap()), a);
    let broken = HashMap::from([("result_id".to_owned(), s("x")), ("points".to_owned(), s("many"))]);
    assert!(matches!(
        AwardItem::from_item(broken),
        Err(domain::ports::StoreError::Corrupt(_))
    ));
}

#[tokio::test]
async fn a_corrupt_award_is_reported_as_such() {
    let fx = fixture().await;
    let user = runner(&fx).await;
    let a = award(&user.id, 5, 1);
    put_award(&fx, &user.id, &a, &[("points", s("five"))]).await;
    assert!(matches!(
        fx.users.awards(&user.id).await,
        Err(domain::ports::StoreError::Corrupt(_))
    ));
}
