//! The imports contract (`domain::memory::import_contract`) against `DynamoImports`: the
//! same bodies `MemoryImports`' unit tests run.

use aws_sdk_dynamodb::Client;
use domain::memory::import_contract as contract;
use infra::dynamo::DynamoImports;

async fn imports() -> DynamoImports {
    let stack = local::Stack::shared();
    let table = stack
        .provisioned()
        .physical_name("RacesTable")
        .expect("RacesTable")
        .to_owned();
    DynamoImports::new(Client::new(&stack.sdk_config().await), table)
}

macro_rules! contract_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                contract::$name(&imports().await).await;
            }
        )*
    };
}

contract_tests!(
    an_import_is_created_once_and_read_back_under_its_marathon,
    the_dry_run_is_saved_until_the_commit_begins_once,
    progress_only_moves_forward_and_finishing_is_idempotent,
);
