//! The Races store contract (`domain::memory::race_contract`) against the DynamoDB
//! adapter: the same bodies the in-memory store's unit tests run, so the fake the use-case
//! tests rely on keeps the adapter's semantics.

use aws_sdk_dynamodb::Client;
use domain::memory::race_contract as contract;
use infra::dynamo::{ActivityLog, DynamoRaces};
use time::Duration;

async fn races() -> DynamoRaces {
    let stack = local::Stack::shared();
    let names = stack.provisioned();
    let table = names.physical_name("RacesTable").expect("RacesTable").to_owned();
    let activity = ActivityLog {
        table: names
            .physical_name("ActivityLogTable")
            .expect("ActivityLogTable")
            .to_owned(),
        retention: Duration::days(30),
    };
    DynamoRaces::new(Client::new(&stack.sdk_config().await), table, activity)
}

macro_rules! contract_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                contract::$name(&races().await).await;
            }
        )*
    };
}

contract_tests!(
    marathons_are_edited_at_their_version_and_keep_their_counts,
    registration_is_counted_once_and_refused_when_it_may_not_be,
    bibs_are_unique_movable_and_follow_onto_the_result,
    cancelling_uncounts_and_is_refused_with_a_result,
    results_are_conditional_on_entry_price_version_and_tombstone,
    the_ranking_orders_finishers_then_the_unranked_and_resumes,
    listings_page_in_order_and_refuse_other_listings_cursors,
    records_are_conditional_and_newest_first,
    race_profiles_are_kept_per_runner,
);
