//! The points contract (`domain::memory::points_contract`) against the DynamoDB adapters:
//! `DynamoLedger` writing and `DynamoUsers` reading one Users table, with the same bodies
//! `MemoryLedger`'s unit tests run.

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use domain::activity::ActivityKind;
use domain::memory::points_contract::{self as contract, PointsWorld};
use domain::memory::race_contract::act;
use domain::ports::{LeaderboardStore, PointsLedger, PointsStore, UserStore};
use domain::{Email, Role, User, UserId, UserName};
use infra::dynamo::{ActivityLog, DynamoLedger, DynamoUsers};
use time::Duration;

struct Dynamo {
    ledger: DynamoLedger,
    users: DynamoUsers,
}

async fn dynamo() -> Dynamo {
    let stack = local::Stack::shared();
    let names = stack.provisioned();
    let table = names.physical_name("UsersTable").expect("UsersTable").to_owned();
    let activity = ActivityLog {
        table: names
            .physical_name("ActivityLogTable")
            .expect("ActivityLogTable")
            .to_owned(),
        retention: Duration::days(30),
    };
    let client = Client::new(&stack.sdk_config().await);
    Dynamo {
        ledger: DynamoLedger::new(client.clone(), table.clone()),
        users: DynamoUsers::new(client, table, activity),
    }
}

#[async_trait]
impl PointsWorld for Dynamo {
    fn ledger(&self) -> &dyn PointsLedger {
        &self.ledger
    }

    fn points(&self) -> &dyn PointsStore {
        &self.users
    }

    fn board(&self) -> &dyn LeaderboardStore {
        &self.users
    }

    /// Signed up through the users store, as login does it.
    async fn user(&self, name: &str, role: Role) -> UserId {
        let id = UserId::generate();
        let user = User {
            email: Email::parse(&format!("{id}@example.com").to_lowercase()).unwrap(),
            id: id.clone(),
            name: UserName::parse(name).unwrap(),
            user_type: role,
            created_at: contract::NOW,
        };
        self.users
            .create_user(
                &user,
                "$argon2id$not-a-real-hash",
                &act(&id, ActivityKind::UserSignedUp),
            )
            .await
            .unwrap();
        id
    }
}

macro_rules! contract_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                contract::$name(&dynamo().await).await;
            }
        )*
    };
}

contract_tests!(
    a_total_starts_at_zero_and_moves_with_each_award,
    awards_are_the_runners_own_at_their_latest_version,
    the_season_board_ranks_ties_together_across_pages,
    the_board_counts_each_award_in_its_season_and_drops_zeros,
    only_this_seasons_own_cursors_are_accepted,
);
