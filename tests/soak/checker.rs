//! What the history implies against what the system did. Each kind of effect is counted
//! as expected, observed, lost (implied, not there), duplicated (there more than once) and
//! unexpected (there, implied by nothing, or saying something the history contradicts).
//!
//! - **Ledger**: each result's award item holds the version and points of its last change.
//! - **Totals**: each runner's total is the sum of its results' contributions.
//! - **Discord**: a post per change that moved a total, once (`result_id`, version: the
//!   post's footer), its delta the change's contribution minus what the ledger held
//!   before. A version that a later one overtook before it was applied was never awarded,
//!   so it has no post; then the next post's delta covers both, which the chain check
//!   accepts (counted apart as `overtaken`).
//! - **Mail**: one mail to the runner per change: a recorded or corrected result by its
//!   finish time (unique in the run), a removal by marathon, counted.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use local::mailbox::Mail;
use local::sink::Post;

use super::{Op, OpKind, Slot};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Count {
    pub expected: u64,
    pub observed: u64,
    pub lost: u64,
    pub duplicated: u64,
    pub unexpected: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Figures {
    pub ledger: Count,
    pub totals: Count,
    pub discord: Count,
    pub mail: Count,
    /// Versions overtaken before they were applied (no award, so no post: not lost).
    pub overtaken: u64,
    /// The first few discrepancies, for the report.
    pub notes: Vec<String>,
}

impl Figures {
    pub fn lost(&self) -> u64 {
        self.each().map(|c| c.lost).sum()
    }
    pub fn duplicated(&self) -> u64 {
        self.each().map(|c| c.duplicated).sum()
    }
    pub fn unexpected(&self) -> u64 {
        self.each().map(|c| c.unexpected).sum()
    }
    fn each(&self) -> impl Iterator<Item = &Count> {
        [&self.ledger, &self.totals, &self.discord, &self.mail].into_iter()
    }
    fn note(&mut self, note: String) {
        if self.notes.len() < 20 {
            self.notes.push(note);
        }
    }
}

/// A runner's part of the Users table: the total and the award items.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ledger {
    pub totals: BTreeMap<String, i64>,
    /// result id -> (version, points)
    pub awards: BTreeMap<String, (u64, i64)>,
}

/// Reads each runner's profile total and award items (strongly consistent queries).
pub async fn read_ledger(
    dynamo: &aws_sdk_dynamodb::Client,
    table: &str,
    slots: &[Slot],
) -> Result<Ledger, String> {
    use aws_sdk_dynamodb::types::AttributeValue;
    let number = |item: &std::collections::HashMap<String, AttributeValue>, name: &str| {
        item.get(name)
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse::<i64>().ok())
    };
    let runners: BTreeSet<String> = slots.iter().map(|s| s.runner.to_string()).collect();
    let mut ledger = Ledger::default();
    for runner in runners {
        let mut start = None;
        loop {
            let page = dynamo
                .query()
                .table_name(table)
                .consistent_read(true)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", AttributeValue::S(format!("USER#{runner}")))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| format!("reading {runner}'s ledger: {e}"))?;
            for item in page.items() {
                let sk = item
                    .get("sk")
                    .and_then(|v| v.as_s().ok())
                    .cloned()
                    .unwrap_or_default();
                if sk == "PROFILE" {
                    ledger
                        .totals
                        .insert(runner.clone(), number(item, "total_points").unwrap_or(0));
                } else if let Some(result) = sk.strip_prefix("AWARD#") {
                    let version = number(item, "version").unwrap_or(0) as u64;
                    let points = number(item, "points").unwrap_or(0);
                    ledger.awards.insert(result.to_owned(), (version, points));
                }
            }
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                break;
            }
        }
    }
    Ok(ledger)
}

/// What a mail says: to whom, about which marathon (by name), and the finish time it
/// gives (none for a removal).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct MailKey {
    pub to: String,
    pub marathon: Option<String>,
    pub finish_time: Option<String>,
    pub removed: bool,
}

/// The mailbox's mails, each parsed once.
#[derive(Debug, Default)]
pub struct ParsedMail {
    seen: BTreeMap<PathBuf, MailKey>,
}

impl ParsedMail {
    pub fn read(&mut self, mails: &[Mail]) {
        for mail in mails {
            if self.seen.contains_key(&mail.path) {
                continue;
            }
            let Ok(raw) = std::fs::read(&mail.path) else {
                continue;
            };
            let text = mail_parser::MessageParser::default()
                .parse(&raw)
                .and_then(|m| m.body_text(0).map(|t| t.into_owned()))
                .unwrap_or_default();
            let marathon = text.lines().find_map(|line| {
                let start = line.find("Soak ")?;
                let rest = &line[start..];
                let end = rest.find(" Marathon ")? + " Marathon ".len() + 2;
                rest.get(..end).map(str::to_owned)
            });
            let finish_time = text.lines().find_map(|line| {
                line.strip_prefix("- 기록: ")
                    .or_else(|| line.strip_prefix("- Finish time: "))
                    .map(|t| t.trim().to_owned())
            });
            let removed =
                text.contains("공식 기록이 삭제되었고") || text.contains("has removed your official result");
            let to = mail.to.first().map(|t| address_of(t)).unwrap_or_default();
            self.seen.insert(
                mail.path.clone(),
                MailKey {
                    to,
                    marathon,
                    finish_time,
                    removed,
                },
            );
        }
    }

    fn keys(&self) -> impl Iterator<Item = &MailKey> {
        self.seen.values()
    }

    /// Mails already parsed (for the checker's own tests).
    pub fn from_keys(keys: Vec<MailKey>) -> ParsedMail {
        ParsedMail {
            seen: keys
                .into_iter()
                .enumerate()
                .map(|(i, key)| (PathBuf::from(format!("{i}.eml")), key))
                .collect(),
        }
    }
}

/// `Name <a@b>` or `a@b`, lowercased.
fn address_of(to: &str) -> String {
    let bare = match (to.rfind('<'), to.rfind('>')) {
        (Some(start), Some(end)) if start < end => &to[start + 1..end],
        _ => to,
    };
    bare.trim().to_lowercase()
}

/// The post's result id and version (its footer: `기록 <id> · 버전 <v>` or
/// `result <id> · version <v>`) and its delta (the third field), when it is an award post.
fn post_award(post: &Post) -> Option<(String, u64, i64)> {
    let embed = post.body.get("embeds")?.get(0)?;
    let footer = embed.get("footer")?.get("text")?.as_str()?;
    let mut words = footer.split_whitespace();
    let _ = words.next()?;
    let result_id = words.next()?.to_owned();
    let version = words.last()?.parse().ok()?;
    let delta = embed.get("fields")?.get(2)?.get("value")?.as_str()?;
    let delta = delta.trim_start_matches('+').parse().ok()?;
    Some((result_id, version, delta))
}

/// Compares the history with the ledger, the posts and the mails.
pub fn check(slots: &[Slot], history: &[Op], ledger: &Ledger, posts: &[Post], mail: &ParsedMail) -> Figures {
    let mut figures = Figures::default();
    let mut by_slot: BTreeMap<usize, Vec<&Op>> = BTreeMap::new();
    for op in history {
        by_slot.entry(op.slot).or_default().push(op);
    }
    let ours: BTreeMap<String, usize> = slots
        .iter()
        .enumerate()
        .map(|(i, s)| (s.result_id(), i))
        .collect();

    // the ledger: each result's award at its last change
    let mut expected_totals: BTreeMap<String, i64> =
        slots.iter().map(|s| (s.runner.to_string(), 0)).collect();
    for (slot, ops) in &by_slot {
        let last = ops.last().expect("a slot in by_slot has operations");
        let id = slots[*slot].result_id();
        *expected_totals
            .entry(slots[*slot].runner.to_string())
            .or_default() += last.contribution;
        figures.ledger.expected += 1;
        match ledger.awards.get(&id) {
            None => {
                figures.ledger.lost += 1;
                figures.note(format!(
                    "ledger: no award for {id} (last change v{})",
                    last.version
                ));
            }
            Some(&(version, points)) => {
                figures.ledger.observed += 1;
                if version < last.version {
                    figures.ledger.lost += 1;
                    figures.note(format!(
                        "ledger: {id} at v{version}, its last change is v{}",
                        last.version
                    ));
                } else if version > last.version || points != last.contribution {
                    figures.ledger.unexpected += 1;
                    figures.note(format!(
                        "ledger: {id} holds v{version} {points} points, the history v{} {}",
                        last.version, last.contribution
                    ));
                }
            }
        }
    }
    for (id, _) in ledger
        .awards
        .iter()
        .filter(|(id, _)| !by_slot.contains_key(&ours.get(*id).copied().unwrap_or(usize::MAX)))
    {
        figures.ledger.observed += 1;
        figures.ledger.unexpected += 1;
        figures.note(format!("ledger: an award for {id}, which no operation touched"));
    }

    // the totals: each runner's, against the history and against its own awards
    for (runner, expected) in &expected_totals {
        figures.totals.expected += 1;
        let Some(total) = ledger.totals.get(runner) else {
            figures.totals.lost += 1;
            figures.note(format!("totals: no profile for {runner}"));
            continue;
        };
        figures.totals.observed += 1;
        if total < expected {
            figures.totals.lost += 1;
            figures.note(format!(
                "totals: {runner} has {total}, the history says {expected}"
            ));
        } else if total > expected {
            // more than every award together: a delta applied twice
            figures.totals.duplicated += 1;
            figures.note(format!(
                "totals: {runner} has {total}, the history says {expected}"
            ));
        }
    }

    // Discord: posts that Discord took (2xx), by result and version
    let mut posted: BTreeMap<(String, u64), (i64, u64)> = BTreeMap::new();
    for post in posts.iter().filter(|p| (200..300).contains(&p.status)) {
        figures.discord.observed += 1;
        match post_award(post) {
            Some((id, version, delta)) if ours.contains_key(&id) => {
                posted.entry((id, version)).or_insert((delta, 0)).1 += 1;
            }
            // another test's result on a shared stack, or not an award post
            Some(_) => figures.discord.observed -= 1,
            None => {
                figures.discord.unexpected += 1;
                figures.note(format!("discord: a post that is no award: {}", post.body));
            }
        }
    }
    for (slot, ops) in &by_slot {
        let id = slots[*slot].result_id();
        let versions: BTreeMap<u64, i64> = ops.iter().map(|op| (op.version, op.contribution)).collect();
        // the posts there are, in version order, as a chain of deltas
        let mut held = 0;
        let (mut announced, mut lost_here) = (0u64, 0u64);
        for ((_, version), (delta, count)) in posted.range((id.clone(), 0)..=(id.clone(), u64::MAX)) {
            figures.discord.duplicated += count - 1;
            if *count > 1 {
                figures.note(format!("discord: {id} v{version} posted {count} times"));
            }
            let Some(contribution) = versions.get(version) else {
                figures.discord.unexpected += 1;
                figures.note(format!(
                    "discord: {id} v{version} ({delta:+}) is no change of the history"
                ));
                continue;
            };
            if *delta != contribution - held {
                // an applied change in between was never announced
                figures.discord.lost += 1;
                lost_here += 1;
                figures.note(format!(
                    "discord: {id} v{version} says {delta:+}, the ledger went from {held} to {contribution}"
                ));
            }
            held = *contribution;
            announced += 1;
        }
        let last = ops.last().expect("operations").contribution;
        if held != last {
            figures.discord.lost += 1;
            lost_here += 1;
            figures.note(format!(
                "discord: {id}: the posts end at {held}, its last change at {last}"
            ));
        }
        // the posts the history implies when every version is applied in order
        let implied = ops
            .iter()
            .scan(0, |before, op| {
                let moved = op.contribution != *before;
                *before = op.contribution;
                Some(moved)
            })
            .filter(|moved| *moved)
            .count() as u64;
        figures.discord.expected += implied;
        figures.overtaken += implied.saturating_sub(announced + lost_here);
    }

    // mail: one per change to the runner
    let mut expected_mail: BTreeMap<MailKey, u64> = BTreeMap::new();
    for op in history {
        let slot = &slots[op.slot];
        let key = MailKey {
            to: slot.email.clone(),
            marathon: Some(slot.marathon_name.clone()),
            finish_time: op.finish_time.clone(),
            removed: op.kind == OpKind::Delete,
        };
        *expected_mail.entry(key).or_default() += 1;
        figures.mail.expected += 1;
    }
    let addresses: BTreeSet<&str> = slots.iter().map(|s| s.email.as_str()).collect();
    let mut observed_mail: BTreeMap<&MailKey, u64> = BTreeMap::new();
    for key in mail.keys().filter(|k| addresses.contains(k.to.as_str())) {
        *observed_mail.entry(key).or_default() += 1;
        figures.mail.observed += 1;
    }
    for (key, expected) in &expected_mail {
        let observed = observed_mail.get(key).copied().unwrap_or(0);
        if observed < *expected {
            figures.mail.lost += expected - observed;
            figures.note(format!("mail: {key:?}: {observed} of {expected}"));
        } else if observed > *expected {
            figures.mail.duplicated += observed - expected;
            figures.note(format!("mail: {key:?}: {observed} for {expected}"));
        }
    }
    for (key, observed) in observed_mail
        .iter()
        .filter(|(k, _)| !expected_mail.contains_key(**k))
    {
        figures.mail.unexpected += observed;
        figures.note(format!("mail: {key:?} x{observed}, which no change implies"));
    }
    figures
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn slot() -> Slot {
        Slot {
            marathon: "M1".into(),
            marathon_name: "Soak abc Marathon 00".into(),
            marathon_points: 100,
            runner: domain::UserId::generate(),
            email: "r@example.com".into(),
        }
    }

    fn op(index: usize, kind: OpKind, version: u64, contribution: i64) -> Op {
        Op {
            index,
            slot: 0,
            kind,
            correlation_id: format!("c{index}"),
            version,
            contribution,
            finish_time: (kind != OpKind::Delete).then(|| format!("2:00:{index:02}")),
            attempts: 1,
        }
    }

    fn post(slot: &Slot, version: u64, delta: i64) -> Post {
        Post {
            id: 1,
            at: String::new(),
            path: "/webhooks/local/mrmrthon".into(),
            query: None,
            correlation_id: None,
            body: json!({"embeds": [{
                "fields": [{"value": "x"}, {"value": "y"}, {"value": format!("{delta:+}")}, {"value": "0"}],
                "footer": {"text": format!("기록 {} · 버전 {version}", slot.result_id())},
            }]}),
            status: 204,
        }
    }

    fn mail(slot: &Slot, op: &Op) -> MailKey {
        MailKey {
            to: slot.email.clone(),
            marathon: Some(slot.marathon_name.clone()),
            finish_time: op.finish_time.clone(),
            removed: op.kind == OpKind::Delete,
        }
    }

    /// Created (110), bonus changed (115), corrected (115), deleted (0): the effects of
    /// that history, complete.
    fn world() -> (Vec<Slot>, Vec<Op>, Ledger, Vec<Post>, Vec<MailKey>) {
        let s = slot();
        let history = vec![
            op(1, OpKind::Record, 10, 110),
            op(2, OpKind::Bonus, 20, 115),
            op(3, OpKind::Correct, 30, 115),
            op(4, OpKind::Delete, 31, 0),
        ];
        let ledger = Ledger {
            totals: [(s.runner.to_string(), 0)].into(),
            awards: [(s.result_id(), (31, 0))].into(),
        };
        let posts = vec![post(&s, 10, 110), post(&s, 20, 5), post(&s, 31, -115)];
        let mails = history.iter().map(|o| mail(&s, o)).collect();
        (vec![s], history, ledger, posts, mails)
    }

    #[test]
    fn the_complete_effects_of_a_history_count_nothing_wrong() {
        let (slots, history, ledger, posts, mails) = world();
        let figures = check(&slots, &history, &ledger, &posts, &ParsedMail::from_keys(mails));
        assert_eq!(
            (figures.lost(), figures.duplicated(), figures.unexpected()),
            (0, 0, 0),
            "{figures:?}"
        );
        assert_eq!(figures.discord.expected, 3);
        assert_eq!(figures.mail.observed, 4);
    }

    #[test]
    fn a_missing_post_a_repeated_mail_and_a_stale_award_are_counted() {
        let (slots, history, mut ledger, mut posts, mut mails) = world();
        // the bonus change was applied but never announced: the deletion's delta shows it
        posts.remove(1);
        // a mail twice, one never sent, one about nothing that happened
        mails.push(mails[0].clone());
        mails.remove(2);
        mails.push(MailKey {
            finish_time: Some("9:99:99".into()),
            ..mails[0].clone()
        });
        // the ledger stopped at the correction, the total counts the bonus twice
        ledger.awards.insert(slots[0].result_id(), (30, 115));
        ledger.totals.insert(slots[0].runner.to_string(), 120);
        let figures = check(&slots, &history, &ledger, &posts, &ParsedMail::from_keys(mails));
        assert_eq!(figures.discord.lost, 1, "{figures:?}");
        assert_eq!(figures.ledger.lost, 1, "{figures:?}");
        assert_eq!(figures.totals.duplicated, 1, "{figures:?}");
        assert_eq!(
            (
                figures.mail.lost,
                figures.mail.duplicated,
                figures.mail.unexpected
            ),
            (1, 1, 1),
            "{figures:?}"
        );
    }

    #[test]
    fn a_post_twice_and_a_post_of_no_change_are_counted_an_overtaken_version_is_not() {
        let (slots, history, ledger, mut posts, mails) = world();
        posts.push(posts[2].clone());
        posts.push(post(&slots[0], 99, 7));
        // a Discord refusal is no effect
        posts.push(Post {
            status: 429,
            ..posts[0].clone()
        });
        let figures = check(
            &slots,
            &history,
            &ledger,
            &posts,
            &ParsedMail::from_keys(mails.clone()),
        );
        assert_eq!(
            (figures.discord.duplicated, figures.discord.unexpected),
            (1, 1),
            "{figures:?}"
        );

        // the creation overtaken by the bonus change: one post of +115 covers both
        let posts = vec![post(&slots[0], 20, 115), post(&slots[0], 31, -115)];
        let figures = check(&slots, &history, &ledger, &posts, &ParsedMail::from_keys(mails));
        assert_eq!(
            (figures.lost(), figures.duplicated(), figures.unexpected()),
            (0, 0, 0),
            "{figures:?}"
        );
        assert_eq!(figures.overtaken, 1);
    }
}
