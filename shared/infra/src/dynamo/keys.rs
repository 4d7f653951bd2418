//! Every table's key layout, defined once. The adapters here write and query by these;
//! the other readers (log-mailer's directory and continuations, official-record-stream's
//! translation) recognise items by them; template.yaml's stream filters match them
//! (tests/whole_stack/template_policy.rs checks the prefixes there against these constants).

use domain::marathon::MarathonId;
use domain::source_throttle::{SourceKey, Window};
use domain::{Email, UserId};

use super::{Item, key};

// The Users table.

/// `USER#<id>`: a user's partition, in Users and in the activity log.
pub const USER_PREFIX: &str = "USER#";
/// `USER#<id> | PROFILE`: the user, their credentials and `total_points`.
pub const PROFILE: &str = "PROFILE";
/// `EMAIL#<email> | EMAIL`: claims an address, so two accounts cannot share it.
pub const EMAIL_PREFIX: &str = "EMAIL#";
pub const EMAIL: &str = "EMAIL";
/// `USER#<id> | REFRESH#<family>`: a refresh-token family.
pub const REFRESH_PREFIX: &str = "REFRESH#";
/// `USER#<id> | RESET`: the account's one outstanding password reset (a token hash).
pub const RESET: &str = "RESET";
/// `USER#<id> | AWARD#<result id>`: one result's contribution to the total.
pub const AWARD_PREFIX: &str = "AWARD#";
/// `USER#<id> | ANNOUNCE#<result id>#<version>`: a change the ledger applied whose
/// `points.awarded` has not gone out yet. One per version, so a newer version of the same
/// result cannot overwrite an older one's pending announcement.
pub const ANNOUNCE_PREFIX: &str = "ANNOUNCE#";
/// `USER#<id> | SEASON#<year>`: the runner's points in a season, the sum of that
/// season's awards, written with them; the season leaderboard's row (`dynamo::leaderboard`).
pub const SEASON_PREFIX: &str = "SEASON#";

/// `SOURCE#<address or /64> | WINDOW#<n>`: login attempts from one source address in one
/// window (`domain::source_throttle`), a counter with the table's TTL.
pub const SOURCE_PREFIX: &str = "SOURCE#";
pub const WINDOW_PREFIX: &str = "WINDOW#";

// The Races table.

/// `MARATHON#<id> | META`: the marathon; its entries and results share the partition.
pub const MARATHON_PREFIX: &str = "MARATHON#";
pub const META: &str = "META";
/// `MARATHON#<id> | ENTRY#<runner>`: a registration.
pub const ENTRY_PREFIX: &str = "ENTRY#";
/// `MARATHON#<id> | RESULT#<runner>`: an official result. The Races stream's filter
/// (template.yaml) and official-record-stream select results by this `sk` prefix.
pub const RESULT_PREFIX: &str = "RESULT#";
/// `MARATHON#<id> | REMOVED#<runner>`: the tombstone of a deleted official result, with the
/// version its removal had: a result recorded again must be newer. No index attributes,
/// and not `RESULT#`, so no ranking, listing or stream filter sees it.
pub const TOMBSTONE_PREFIX: &str = "REMOVED#";
/// The Races table's sparse `pending` index: official results and tombstones whose
/// version the ledger may not have applied yet. Every result write and every deletion's
/// tombstone carries `pending = AWARD` and `pending_since` (epoch seconds); reconcile
/// removes both once the ledger holds that version (or a newer one), so the index holds
/// only what is in flight or lost, never the whole table.
pub const PENDING_INDEX: &str = "pending";
/// The index's partition attribute and its one value.
pub const PENDING: &str = "pending";
pub const PENDING_AWARD: &str = "AWARD";
/// The index's sort attribute: when the version was written (epoch seconds).
pub const PENDING_SINCE: &str = "pending_since";
/// `MARATHON#<id> | BIB#<nnnnn>`: claims a bib for one runner of the marathon (attribute
/// `runner_id`), so two entries cannot share it. Zero-padded: the bibs sort in order.
pub const BIB_PREFIX: &str = "BIB#";
/// The marathon item's counter of bibs handed out at registration (not a `Marathon`
/// field: registrations move it, edits never overwrite it).
pub const BIB_SEQ: &str = "bib_seq";
/// `RUNNER#<id> | RACEPROFILE`: the runner's private race profile (sex, birth), read only
/// to put a category on their results.
pub const RACE_PROFILE: &str = "RACEPROFILE";
/// `RUNNER#<id> | RECORD#<id>`: a private record; `RUNNER#<id>` also partitions gsi1's
/// "my entries" and "my results".
pub const RUNNER_PREFIX: &str = "RUNNER#";
pub const RECORD_PREFIX: &str = "RECORD#";
/// gsi1: an organizer's marathons.
pub const ORGANIZER_PREFIX: &str = "ORGANIZER#";
/// gsi3: a marathon's ranking.
pub const RANK_PREFIX: &str = "RANK#";
/// gsi2's one partition: every marathon, by date.
pub const ALL_MARATHONS: &str = "MARATHON";

// The activity log table.

/// `USER#<actor> | LOG#<entry id>`: an activity entry.
pub const LOG_PREFIX: &str = "LOG#";
/// `MAIL#<entry id> | PART#<n>`: a log-mailer continuation of the entry's mailing.
pub const MAIL_PREFIX: &str = "MAIL#";
pub const PART_PREFIX: &str = "PART#";

pub fn user_pk(user: &UserId) -> String {
    format!("{USER_PREFIX}{user}")
}

pub fn profile_key(user: &UserId) -> Item {
    key(user_pk(user), PROFILE)
}

pub fn source_key(source: &SourceKey, window: Window) -> Item {
    key(
        format!("{SOURCE_PREFIX}{source}"),
        format!("{WINDOW_PREFIX}{}", window.0),
    )
}

pub fn email_key(email: &Email) -> Item {
    key(format!("{EMAIL_PREFIX}{email}"), EMAIL)
}

pub fn refresh_key(user: &UserId, family_id: &str) -> Item {
    key(user_pk(user), format!("{REFRESH_PREFIX}{family_id}"))
}

/// `USER#<id> | VERIFY`: the account's one outstanding email verification (a token hash).
pub const VERIFY: &str = "VERIFY";

pub fn verify_key(user: &UserId) -> Item {
    key(user_pk(user), VERIFY)
}

pub fn reset_key(user: &UserId) -> Item {
    key(user_pk(user), RESET)
}

pub fn award_key(runner: &UserId, result_id: &str) -> Item {
    key(user_pk(runner), format!("{AWARD_PREFIX}{result_id}"))
}

/// The version is zero-padded so one result's pending announcements sort by version.
pub fn announce_key(runner: &UserId, result_id: &str, version: u64) -> Item {
    key(
        user_pk(runner),
        format!("{ANNOUNCE_PREFIX}{result_id}#{version:020}"),
    )
}

pub fn marathon_pk(id: &MarathonId) -> String {
    format!("{MARATHON_PREFIX}{id}")
}

pub fn organizer_pk(organizer: &UserId) -> String {
    format!("{ORGANIZER_PREFIX}{organizer}")
}

pub fn runner_pk(runner: &UserId) -> String {
    format!("{RUNNER_PREFIX}{runner}")
}

pub fn rank_pk(marathon: &MarathonId) -> String {
    format!("{RANK_PREFIX}{marathon}")
}

pub fn marathon_key(id: &MarathonId) -> Item {
    key(marathon_pk(id), META)
}

pub fn entry_sk(runner: &UserId) -> String {
    format!("{ENTRY_PREFIX}{runner}")
}

pub fn entry_key(marathon: &MarathonId, runner: &UserId) -> Item {
    key(marathon_pk(marathon), entry_sk(runner))
}

pub fn result_sk(runner: &UserId) -> String {
    format!("{RESULT_PREFIX}{runner}")
}

pub fn result_key(marathon: &MarathonId, runner: &UserId) -> Item {
    key(marathon_pk(marathon), result_sk(runner))
}

pub fn tombstone_key(marathon: &MarathonId, runner: &UserId) -> Item {
    key(marathon_pk(marathon), format!("{TOMBSTONE_PREFIX}{runner}"))
}

pub fn bib_key(marathon: &MarathonId, bib: domain::race::Bib) -> Item {
    key(marathon_pk(marathon), format!("{BIB_PREFIX}{:05}", bib.number()))
}

pub fn race_profile_key(runner: &UserId) -> Item {
    key(runner_pk(runner), RACE_PROFILE)
}

/// Whether a Races item's `sk` is an official result's.
pub fn is_result_sk(sk: &str) -> bool {
    sk.starts_with(RESULT_PREFIX)
}

pub fn record_key(runner: &UserId, id: &str) -> Item {
    key(runner_pk(runner), format!("{RECORD_PREFIX}{id}"))
}

pub fn log_key(actor: &UserId, entry_id: &str) -> Item {
    key(user_pk(actor), format!("{LOG_PREFIX}{entry_id}"))
}

/// Part numbers are zero-padded so parts sort in order.
pub fn mail_part_key(entry_id: &str, part: u32) -> Item {
    key(
        format!("{MAIL_PREFIX}{entry_id}"),
        format!("{PART_PREFIX}{part:06}"),
    )
}

/// `MARATHON#<id> | IMPORT#<import>`: a bulk results import (its state, dry-run report and
/// progress). In the marathon's partition, so it goes where the marathon goes; not
/// `RESULT#`, so no stream filter, ranking or listing sees it.
pub const IMPORT_PREFIX: &str = "IMPORT#";

pub fn import_key(marathon: &MarathonId, import: &domain::import::ImportId) -> Item {
    key(marathon_pk(marathon), format!("{IMPORT_PREFIX}{import}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::types::AttributeValue;

    fn text(item: &Item, name: &str) -> String {
        match &item[name] {
            AttributeValue::S(s) => s.clone(),
            other => panic!("{name}: {other:?}"),
        }
    }

    #[test]
    fn keys_are_the_documented_layout() {
        let user = UserId::parse("01JBBBBBBBBBBBBBBBBBBBBBBB").unwrap();
        let marathon = MarathonId::parse("01JAAAAAAAAAAAAAAAAAAAAAAA").unwrap();
        let profile = profile_key(&user);
        assert_eq!(text(&profile, "pk"), "USER#01JBBBBBBBBBBBBBBBBBBBBBBB");
        assert_eq!(text(&profile, "sk"), "PROFILE");
        let email = email_key(&Email::parse("kim@example.com").unwrap());
        assert_eq!(
            (text(&email, "pk"), text(&email, "sk")),
            ("EMAIL#kim@example.com".into(), "EMAIL".into())
        );
        assert_eq!(text(&refresh_key(&user, "f"), "sk"), "REFRESH#f");
        assert_eq!(text(&reset_key(&user), "sk"), "RESET");
        assert_eq!(text(&award_key(&user, "m.r"), "sk"), "AWARD#m.r");
        assert_eq!(
            text(&announce_key(&user, "m.r", 7), "sk"),
            "ANNOUNCE#m.r#00000000000000000007"
        );
        let result = result_key(&marathon, &user);
        assert_eq!(text(&result, "pk"), "MARATHON#01JAAAAAAAAAAAAAAAAAAAAAAA");
        assert!(is_result_sk(&text(&result, "sk")));
        assert!(!is_result_sk(&text(&entry_key(&marathon, &user), "sk")));
        assert!(!is_result_sk(&text(&marathon_key(&marathon), "sk")));
        assert_eq!(
            text(&record_key(&user, "r1"), "pk"),
            "RUNNER#01JBBBBBBBBBBBBBBBBBBBBBBB"
        );
        assert_eq!(text(&log_key(&user, "01JE"), "sk"), "LOG#01JE");
        let part = mail_part_key("01JE", 3);
        assert_eq!(
            (text(&part, "pk"), text(&part, "sk")),
            ("MAIL#01JE".into(), "PART#000003".into())
        );
    }
}
