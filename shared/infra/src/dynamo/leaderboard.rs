//! The season leaderboard on the Users table (docs/DESIGN.md, "Season leaderboard").
//!
//! Each runner has one item per season, `USER#<id> | SEASON#<year>`, holding the sum of
//! the points of that season's awards; `DynamoLedger` writes it in the award's own
//! transaction, so it never disagrees with the ledger. While the sum is above zero the
//! item carries the keys of the sparse `leaderboard` index: a partition per season and
//! shard, `LEADERBOARD#<year>#<shard>` (the shard a fixed hash of the runner id), sorted
//! by `<points inverted, 12 digits>#<runner>` so ascending order is most points first.
//! Sharding spreads a season's index writes over `SHARDS` partitions instead of one hot
//! one; a page is read from every shard at once and merged (`domain::leaderboard`).

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::KeysAndAttributes;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use domain::leaderboard::{RankCursor, Season, SeasonPoints, Standing, merge_top, next_cursor, rank};
use domain::paging::{Page, PageRequest};
use domain::ports::{LeaderboardStore, StoreError};
use domain::{UserId, UserName};

use super::errors::{corrupt, unavailable};
use super::keys::{SEASON_PREFIX, profile_key, user_pk};
use super::users::projection;
use super::{DynamoUsers, Item, key, n, s};

/// The sparse index of runners with points in a season.
pub const LEADERBOARD_INDEX: &str = "leaderboard";
/// Its partition and sort attributes.
pub const BOARD_PK: &str = "lb_pk";
pub const BOARD_SK: &str = "lb_sk";
/// The season item's own attributes.
pub const SEASON: &str = "season";
pub const SEASON_POINTS: &str = "season_points";
/// Every attribute of a season item besides its key: what the ledger writes
/// (point-increase's IAM `dynamodb:Attributes`, tests/whole_stack/template_policy.rs).
pub const SEASON_ATTRIBUTES: [&str; 4] = [SEASON, SEASON_POINTS, BOARD_PK, BOARD_SK];
/// What record-api reads to name the runners of a page (its IAM list has them).
pub const NAME_ATTRIBUTES: [&str; 2] = ["id", "name"];

/// How many index partitions a season is spread over. A partition takes about 1,000
/// writes a second; 8 take a season's busiest hour (a big race's import, every award
/// of it moving the index) with room, for 8 small queries per page read. Changing it
/// moves runners between shards: a re-shard (rewrite every season item) goes with it.
pub const SHARDS: u32 = 8;

/// Season sums are stored inverted from this, so text order is most points first.
const MAX_POINTS: u64 = 999_999_999_999;

/// Cursors are short; anything much longer is not ours.
const MAX_CURSOR_LEN: usize = 512;

pub fn season_key(runner: &UserId, season: Season) -> Item {
    key(user_pk(runner), format!("{SEASON_PREFIX}{season}"))
}

/// The runner's shard: FNV-1a of the id, a hash that never changes between builds
/// (std's `DefaultHasher` may).
pub fn shard(runner: &UserId) -> u32 {
    let hash = runner.as_str().bytes().fold(0x811c_9dc5_u32, |hash, byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    });
    hash % SHARDS
}

pub fn board_pk(season: Season, shard: u32) -> String {
    format!("LEADERBOARD#{season}#{shard:02}")
}

pub fn board_sk(points: u64, runner: &UserId) -> String {
    format!("{:012}#{runner}", MAX_POINTS - points.min(MAX_POINTS))
}

fn parse_board_sk(sk: &str) -> Option<SeasonPoints> {
    let (inverted, runner) = sk.split_once('#')?;
    let inverted: u64 = inverted.parse().ok().filter(|_| inverted.len() == 12)?;
    Some(SeasonPoints {
        points: MAX_POINTS - inverted,
        runner_id: UserId::parse(runner).filter(|id| id.as_str() == runner)?,
    })
}

/// The season item with its new sum; in the index only while the sum is above zero.
pub(super) fn season_item(runner: &UserId, season: Season, points: u64) -> Item {
    let mut item = season_key(runner, season);
    item.insert(SEASON.into(), n(season.year()));
    item.insert(SEASON_POINTS.into(), n(points));
    if points > 0 {
        item.insert(BOARD_PK.into(), s(board_pk(season, shard(runner))));
        item.insert(BOARD_SK.into(), s(board_sk(points, runner)));
    }
    item
}

/// A season's stored sum, read strongly (the ledger writes over exactly what it read).
pub(super) async fn season_points(
    client: &Client,
    table: &str,
    runner: &UserId,
    season: Season,
) -> Result<Option<u64>, StoreError> {
    let output = client
        .get_item()
        .table_name(table)
        .set_key(Some(season_key(runner, season)))
        .projection_expression(SEASON_POINTS)
        .consistent_read(true)
        .send()
        .await
        .map_err(unavailable)?;
    let Some(item) = output.item else { return Ok(None) };
    item.get(SEASON_POINTS)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .map(Some)
        .ok_or_else(|| StoreError::Corrupt("season item without season_points".into()))
}

/// The cursor as the client holds it: the season it belongs to and where its page ended.
#[derive(serde::Serialize, serde::Deserialize)]
struct Cursor {
    season: Season,
    #[serde(flatten)]
    at: RankCursor,
}

fn encode_cursor(season: Season, at: RankCursor) -> Result<String, StoreError> {
    let json = serde_json::to_vec(&Cursor { season, at }).map_err(corrupt)?;
    Ok(URL_SAFE_NO_PAD.encode(json))
}

/// Accepts only a cursor this season's listing issued: right season, a real runner id,
/// a rank within its position.
fn decode_cursor(season: Season, cursor: &str) -> Result<RankCursor, StoreError> {
    if cursor.len() > MAX_CURSOR_LEN {
        return Err(StoreError::InvalidCursor);
    }
    let json = URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| StoreError::InvalidCursor)?;
    let cursor: Cursor = serde_json::from_slice(&json).map_err(|_| StoreError::InvalidCursor)?;
    let at = cursor.at;
    let valid = cursor.season == season
        && UserId::parse(at.runner_id.as_str()).is_some_and(|id| id == at.runner_id)
        && (1..=at.position).contains(&at.rank)
        && at.points > 0
        && at.points <= MAX_POINTS;
    valid.then_some(at).ok_or(StoreError::InvalidCursor)
}

impl DynamoUsers {
    /// One shard's rows after `after`, at most `limit`, and whether it has more.
    async fn shard_page(
        &self,
        season: Season,
        shard: u32,
        after: Option<&RankCursor>,
        limit: u32,
    ) -> Result<(Vec<SeasonPoints>, bool), StoreError> {
        let mut query = self
            .client()
            .query()
            .table_name(self.table())
            .index_name(LEADERBOARD_INDEX)
            .expression_attribute_values(":pk", s(board_pk(season, shard)))
            .projection_expression(BOARD_SK)
            .limit(limit as i32);
        query = match after {
            Some(after) => query
                .key_condition_expression("lb_pk = :pk AND lb_sk > :after")
                .expression_attribute_values(":after", s(board_sk(after.points, &after.runner_id))),
            None => query.key_condition_expression("lb_pk = :pk"),
        };
        let output = query.send().await.map_err(unavailable)?;
        let rows = output
            .items
            .unwrap_or_default()
            .iter()
            .map(|item| {
                item.get(BOARD_SK)
                    .and_then(|v| v.as_s().ok())
                    .and_then(|sk| parse_board_sk(sk))
                    .ok_or_else(|| StoreError::Corrupt("leaderboard row with a bad sort key".into()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let more = output.last_evaluated_key.is_some_and(|k| !k.is_empty());
        Ok((rows, more))
    }

    /// The current names of a page's runners (one BatchGetItem, projected to what the
    /// policy allows); a runner whose profile is gone has none.
    async fn names(&self, runners: &[UserId]) -> Result<HashMap<UserId, UserName>, StoreError> {
        let mut names = HashMap::new();
        if runners.is_empty() {
            return Ok(names);
        }
        let (expression, attribute_names) = projection(&NAME_ATTRIBUTES);
        let mut keys: Vec<Item> = runners.iter().map(profile_key).collect();
        keys.dedup();
        let mut request = Some(
            KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .projection_expression(expression)
                .set_expression_attribute_names(Some(attribute_names))
                .build()
                .map_err(corrupt)?,
        );
        // a page is at most 100 keys, one request; unprocessed keys (throttling) are
        // asked again a few times
        for _ in 0..5 {
            let Some(keys) = request.take() else { break };
            let output = self
                .client()
                .batch_get_item()
                .request_items(self.table(), keys)
                .send()
                .await
                .map_err(unavailable)?;
            for item in output
                .responses
                .and_then(|mut r| r.remove(self.table()))
                .unwrap_or_default()
            {
                #[derive(serde::Deserialize)]
                struct Named {
                    id: UserId,
                    name: UserName,
                }
                let named: Named = serde_dynamo::from_item(item).map_err(corrupt)?;
                names.insert(named.id, named.name);
            }
            request = output
                .unprocessed_keys
                .and_then(|mut u| u.remove(self.table()))
                .filter(|k| !k.keys.is_empty());
        }
        if request.is_some() {
            return Err(StoreError::Unavailable(
                "profiles left unread after retries".into(),
            ));
        }
        Ok(names)
    }
}

#[async_trait]
impl LeaderboardStore for DynamoUsers {
    async fn leaderboard(&self, season: Season, page: &PageRequest) -> Result<Page<Standing>, StoreError> {
        let after = page
            .cursor
            .as_deref()
            .map(|c| decode_cursor(season, c))
            .transpose()?;
        // every shard's next `limit` rows: the page's rows are among them
        let shards = (0..SHARDS).map(|shard| self.shard_page(season, shard, after.as_ref(), page.limit));
        let mut lists = Vec::with_capacity(SHARDS as usize);
        let mut more = false;
        for result in futures::future::join_all(shards).await {
            let (rows, shard_more) = result?;
            more |= shard_more;
            lists.push(rows);
        }
        let (rows, more) = merge_top(lists, more, page.limit as usize);
        let mut standings = rank(rows, after.as_ref());
        let runners: Vec<UserId> = standings.iter().map(|s| s.runner_id.clone()).collect();
        let mut names = self.names(&runners).await?;
        for standing in &mut standings {
            standing.runner_name = names.remove(&standing.runner_id);
        }
        // a page is short only at the end: a shard's "more" with nothing left after it
        // costs one empty page at most
        let next = match next_cursor(&standings, after.as_ref()) {
            Some(cursor) if more => Some(encode_cursor(season, cursor)?),
            _ => None,
        };
        Ok(Page {
            items: standings,
            next_cursor: next,
        })
    }
}

/// What tests compare the leaderboard with: a runner's stored season sums.
pub fn season_points_of(item: &Item) -> Option<(Season, u64)> {
    let number = |attr: &str| item.get(attr).and_then(|v| v.as_n().ok())?.parse::<u64>().ok();
    Some((
        Season::from_year(u16::try_from(number(SEASON)?).ok()?)?,
        number(SEASON_POINTS)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runner() -> UserId {
        UserId::parse("01JBBBBBBBBBBBBBBBBBBBBBBB").unwrap()
    }

    #[test]
    fn the_sort_key_orders_most_points_first_and_reads_back() {
        let r = runner();
        assert!(board_sk(300, &r) < board_sk(200, &r));
        assert!(
            board_sk(10, &r) < board_sk(9, &r),
            "not text order of the numbers"
        );
        let row = parse_board_sk(&board_sk(1234, &r)).unwrap();
        assert_eq!((row.points, row.runner_id), (1234, r));
        for bad in [
            "",
            "12#x",
            "000000001234#not-a-ulid",
            "1234#01JBBBBBBBBBBBBBBBBBBBBBBB",
        ] {
            assert!(parse_board_sk(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn shards_are_stable_and_spread() {
        assert_eq!(shard(&runner()), shard(&runner()));
        let used: std::collections::BTreeSet<u32> = (0..200).map(|_| shard(&UserId::generate())).collect();
        assert_eq!(used.len() as u32, SHARDS, "200 runners cover every shard");
    }

    #[test]
    fn a_season_item_leaves_the_index_at_zero() {
        let season = Season::parse("2026").unwrap();
        let item = season_item(&runner(), season, 110);
        assert!(item[BOARD_PK].as_s().unwrap().starts_with("LEADERBOARD#2026#"));
        assert_eq!(season_points_of(&item), Some((season, 110)));
        let zero = season_item(&runner(), season, 0);
        assert!(!zero.contains_key(BOARD_PK) && !zero.contains_key(BOARD_SK));
        for attr in item.keys().filter(|a| !["pk", "sk"].contains(&a.as_str())) {
            assert!(SEASON_ATTRIBUTES.contains(&attr.as_str()), "{attr}");
        }
    }

    #[test]
    fn only_this_seasons_own_cursors_are_accepted() {
        let season = Season::parse("2026").unwrap();
        let at = RankCursor {
            points: 200,
            runner_id: runner(),
            position: 3,
            rank: 2,
        };
        let cursor = encode_cursor(season, at.clone()).unwrap();
        assert_eq!(decode_cursor(season, &cursor).unwrap(), at);
        let other = Season::parse("2025").unwrap();
        assert!(matches!(
            decode_cursor(other, &cursor),
            Err(StoreError::InvalidCursor)
        ));
        let forged = |json: &str| URL_SAFE_NO_PAD.encode(json);
        for bad in [
            "not base64!".to_owned(),
            forged("{}"),
            forged(r#"{"season":2026,"points":200,"runner_id":"x","position":3,"rank":2}"#),
            forged(
                r#"{"season":2026,"points":200,"runner_id":"01JBBBBBBBBBBBBBBBBBBBBBBB","position":3,"rank":4}"#,
            ),
            forged(
                r#"{"season":2026,"points":0,"runner_id":"01JBBBBBBBBBBBBBBBBBBBBBBB","position":3,"rank":2}"#,
            ),
            "A".repeat(600),
        ] {
            assert!(
                matches!(decode_cursor(season, &bad), Err(StoreError::InvalidCursor)),
                "{bad}"
            );
        }
    }
}
