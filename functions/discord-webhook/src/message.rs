//! The Discord message for one points award: a short `content` line (what push
//! notifications show) and one embed with the runner, the marathon, the signed delta and
//! the new total. User text (names) is escaped so it renders literally, never as a link,
//! heading or mention; `allowed_mentions` is empty so nothing in a message can ping anyone;
//! every part is trimmed to Discord's limits, counted in characters, not bytes. The words
//! are in the deployment's language (Korean unless NOTIFICATION_LANGUAGE says `en`), the
//! language the mails start in. With a SITE_URL the title links to the result's page and
//! the description to the result, the marathon and the runner's public points (a post
//! is read by everyone in the channel, so not `/me/points`, which is each reader's own);
//! without one the post has no link.

use domain::events::PointsAwarded;
use domain::greeting::Language;
use infra::site::SiteUrl;
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Discord's documented limits, in characters.
pub mod limits {
    pub const CONTENT: usize = 2000;
    pub const TITLE: usize = 256;
    pub const DESCRIPTION: usize = 4096;
    pub const FIELD_NAME: usize = 256;
    pub const FIELD_VALUE: usize = 1024;
    pub const FOOTER: usize = 2048;
    /// Title, description, field names and values, footer and author name together.
    pub const EMBED_TOTAL: usize = 6000;
}

/// A name never takes more than this much of the content line.
const NAME_IN_CONTENT: usize = 256;

const GREEN: u32 = 0x2ecc71;
const ORANGE: u32 = 0xe67e22;
const GREY: u32 = 0x95a5a6;

/// The body of an Execute Webhook request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WebhookMessage {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub content: String,
    pub embeds: Vec<Embed>,
    pub allowed_mentions: AllowedMentions,
}

/// `{"parse": []}`: no @everyone, @here, role or user mention is ever parsed.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct AllowedMentions {
    pub parse: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Embed {
    pub title: String,
    /// Where the title links to: the result's page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub color: u32,
    pub fields: Vec<EmbedField>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub footer: Option<Footer>,
    /// ISO 8601; Discord shows it in each reader's time zone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmbedField {
    pub name: String,
    pub value: String,
    pub inline: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Footer {
    pub text: String,
}

/// The words of a post in one language (the deployment's NOTIFICATION_LANGUAGE).
struct Words {
    awarded: &'static str,
    deducted: &'static str,
    updated: &'static str,
    runner: &'static str,
    marathon: &'static str,
    points: &'static str,
    total: &'static str,
    result_link: &'static str,
    marathon_link: &'static str,
    points_link: &'static str,
}

const KOREAN: Words = Words {
    awarded: "포인트 적립",
    deducted: "포인트 차감",
    updated: "포인트 변경",
    runner: "러너",
    marathon: "대회",
    points: "포인트",
    total: "누적 포인트",
    result_link: "기록 보기",
    marathon_link: "대회 페이지",
    points_link: "러너 포인트",
};

const ENGLISH: Words = Words {
    awarded: "Points awarded",
    deducted: "Points deducted",
    updated: "Points updated",
    runner: "Runner",
    marathon: "Marathon",
    points: "Points",
    total: "New total",
    result_link: "Result",
    marathon_link: "Marathon page",
    points_link: "Runner's points",
};

impl WebhookMessage {
    /// The message for one award in `language`; `occurred_at` is the envelope's; `site`
    /// the web app the post links to (none: no links).
    pub fn for_award(
        award: &PointsAwarded,
        occurred_at: OffsetDateTime,
        language: Language,
        site: Option<&SiteUrl>,
    ) -> Self {
        let runner = escape(&award.runner_name);
        let marathon = escape(&award.marathon_name);
        let delta = format!("{:+}", award.delta);
        let (short_runner, short_marathon) = (
            fit(runner.clone(), NAME_IN_CONTENT),
            fit(marathon.clone(), NAME_IN_CONTENT),
        );
        let total = award.total;
        let (words, line) = match language {
            Language::Korean => (
                &KOREAN,
                format!("🏅 **{short_runner}** 님 · **{short_marathon}** · {delta}점 (누적 {total}점)"),
            ),
            Language::English => {
                let unit = if award.delta.unsigned_abs() == 1 {
                    "point"
                } else {
                    "points"
                };
                (
                    &ENGLISH,
                    format!("🏅 **{short_runner}** {delta} {unit} at **{short_marathon}** (total {total})"),
                )
            }
        };
        let content = fit(line, limits::CONTENT);
        let (title, color) = match award.delta {
            d if d > 0 => (words.awarded, GREEN),
            d if d < 0 => (words.deducted, ORANGE),
            _ => (words.updated, GREY),
        };
        let field = |name: &str, value: String| EmbedField {
            name: fit(name.to_owned(), limits::FIELD_NAME),
            value: fit(value, limits::FIELD_VALUE),
            inline: true,
        };
        let footer = match language {
            Language::Korean => format!("기록 {} · 버전 {}", award.result_id, award.result_version),
            Language::English => format!("result {} · version {}", award.result_id, award.result_version),
        };
        let result_page = site.map(|s| s.result(&award.marathon_id, &award.runner_id));
        // Masked links of our labels and URLs made of ids: no user text in them. Short
        // enough that the embed's total never cuts them (the names are cut first).
        let description = site.map(|s| {
            format!(
                "[{}]({}) · [{}]({}) · [{}]({})",
                words.result_link,
                s.result(&award.marathon_id, &award.runner_id),
                words.marathon_link,
                s.marathon(&award.marathon_id),
                words.points_link,
                s.runner(&award.runner_id),
            )
        });
        let mut embed = Embed {
            title: fit(title.to_owned(), limits::TITLE),
            url: result_page,
            description,
            color,
            fields: vec![
                field(words.runner, runner),
                field(words.marathon, marathon),
                field(words.points, delta),
                field(words.total, total.to_string()),
            ],
            // The footer does not render markdown: no user text goes there.
            footer: Some(Footer {
                text: fit(footer, limits::FOOTER),
            }),
            timestamp: occurred_at.format(&Rfc3339).ok(),
        };
        embed.fit_total();
        Self {
            content,
            embeds: vec![embed],
            allowed_mentions: AllowedMentions::default(),
        }
    }
}

impl Embed {
    /// The characters Discord counts against [`limits::EMBED_TOTAL`].
    pub fn total_chars(&self) -> usize {
        chars(&self.title)
            + self.description.as_deref().map_or(0, chars)
            + self
                .fields
                .iter()
                .map(|f| chars(&f.name) + chars(&f.value))
                .sum::<usize>()
            + self.footer.as_ref().map_or(0, |f| chars(&f.text))
    }

    /// Shrinks the parts made of data (description, footer, field values), longest first
    /// and evenly, until the whole embed fits: the largest common cap that fits is found,
    /// and every part above it is cut to it. The title and field names are ours and short.
    pub fn fit_total(&mut self) {
        let total = self.total_chars();
        if total <= limits::EMBED_TOTAL {
            return;
        }
        let mut parts: Vec<&mut String> = Vec::new();
        parts.extend(self.description.as_mut());
        parts.extend(self.footer.as_mut().map(|f| &mut f.text));
        parts.extend(self.fields.iter_mut().map(|f| &mut f.value));
        let lens: Vec<usize> = parts.iter().map(|p| chars(p)).collect();
        let fixed = total - lens.iter().sum::<usize>();
        let budget = limits::EMBED_TOTAL.saturating_sub(fixed);
        let used = |cap: usize| lens.iter().map(|len| (*len).min(cap)).sum::<usize>();
        // the largest cap whose total fits (cap 0 always does)
        let (mut low, mut high) = (0, lens.iter().copied().max().unwrap_or(0));
        while low < high {
            let mid = (low + high).div_ceil(2);
            if used(mid) <= budget {
                low = mid;
            } else {
                high = mid - 1;
            }
        }
        for part in parts {
            *part = fit(std::mem::take(part), low);
        }
    }
}

fn chars(text: &str) -> usize {
    text.chars().count()
}

/// At most `limit` characters; a cut text ends with `…`. Never ends in the middle of an
/// escape (a lone trailing backslash would escape the ellipsis).
pub fn fit(text: String, limit: usize) -> String {
    if chars(&text) <= limit {
        return text;
    }
    if limit == 0 {
        return String::new();
    }
    let mut cut: String = text.chars().take(limit - 1).collect();
    let trailing = cut.chars().rev().take_while(|c| *c == '\\').count();
    if trailing % 2 == 1 {
        cut.pop();
    }
    cut.push('…');
    cut
}

/// User text as literal text: line breaks and control characters become spaces, and
/// every character Discord's markdown gives a meaning (emphasis, code, spoilers, quotes,
/// headings, lists, masked links, `<@id>` mentions, `@everyone`) is backslash-escaped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.trim().chars() {
        match c {
            c if c.is_control() => out.push(' '),
            '\\' | '*' | '_' | '~' | '`' | '|' | '>' | '<' | '#' | '-' | '[' | ']' | '@' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::marathon::MarathonId;
    use domain::user::UserId;
    use serde_json::Value;
    use time::macros::datetime;

    fn award(runner: &str, marathon: &str, delta: i64, total: i64) -> PointsAwarded {
        PointsAwarded {
            runner_id: UserId::generate(),
            runner_name: runner.into(),
            marathon_id: MarathonId::generate(),
            marathon_name: marathon.into(),
            result_id: "01M.01R".into(),
            delta,
            total,
            result_version: 7,
            import_id: None,
        }
    }

    fn site() -> SiteUrl {
        SiteUrl::parse("https://mrmrthon.dev").unwrap()
    }

    #[test]
    fn the_post_links_to_the_result_the_marathon_and_the_runners_points() {
        let award = award("김민수", "서울 마라톤 2026", 110, 1210);
        let (m, r) = (&award.marathon_id, &award.runner_id);
        let result = format!("https://mrmrthon.dev/marathons/{m}/results/{r}");
        let body = json(&WebhookMessage::for_award(
            &award,
            OffsetDateTime::UNIX_EPOCH,
            Language::Korean,
            Some(&site()),
        ));
        let embed = &body["embeds"][0];
        assert_eq!(embed["url"], result.as_str(), "the title links to the result");
        assert_eq!(
            embed["description"],
            format!(
                "[기록 보기]({result}) · [대회 페이지](https://mrmrthon.dev/marathons/{m}) · [러너 포인트](https://mrmrthon.dev/runners/{r})"
            )
        );
        // the content line (push notifications) stays link-free: no preview unfurls
        assert!(!body["content"].as_str().unwrap().contains("http"));
        let english = json(&WebhookMessage::for_award(
            &award,
            OffsetDateTime::UNIX_EPOCH,
            Language::English,
            Some(&site()),
        ));
        assert!(
            english["embeds"][0]["description"]
                .as_str()
                .unwrap()
                .starts_with(&format!("[Result]({result}) · [Marathon page]("))
        );
    }

    #[test]
    fn without_a_site_url_the_post_has_no_link() {
        let body = json(&WebhookMessage::for_award(
            &award("Kim", "Seoul", 5, 5),
            OffsetDateTime::UNIX_EPOCH,
            Language::English,
            None,
        ));
        let embed = body["embeds"][0].as_object().unwrap();
        assert!(
            !embed.contains_key("url") && !embed.contains_key("description"),
            "{embed:?}"
        );
        assert!(!body.to_string().contains("http"), "{body}");
    }

    fn json(message: &WebhookMessage) -> Value {
        serde_json::to_value(message).unwrap()
    }

    fn field<'a>(message: &'a Value, name: &str) -> &'a str {
        message["embeds"][0]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .unwrap_or_else(|| panic!("no field {name}"))["value"]
            .as_str()
            .unwrap()
    }

    #[test]
    fn the_embed_names_runner_marathon_signed_delta_and_total() {
        let message = WebhookMessage::for_award(
            &award("김민수", "서울 마라톤 2026", 110, 1210),
            datetime!(2026-11-21 10:00 UTC),
            Language::English,
            None,
        );
        let body = json(&message);
        assert_eq!(body["embeds"].as_array().unwrap().len(), 1);
        let embed = &body["embeds"][0];
        assert_eq!(embed["title"], "Points awarded");
        assert_eq!(field(&body, "Runner"), "김민수");
        assert_eq!(field(&body, "Marathon"), "서울 마라톤 2026");
        assert_eq!(field(&body, "Points"), "+110");
        assert_eq!(field(&body, "New total"), "1210");
        assert_eq!(embed["footer"]["text"], "result 01M.01R · version 7");
        assert_eq!(embed["timestamp"], "2026-11-21T10:00:00Z");
        assert_eq!(
            body["content"],
            "🏅 **김민수** +110 points at **서울 마라톤 2026** (total 1210)"
        );
    }

    #[test]
    fn a_korean_deployment_posts_in_korean() {
        let body = json(&WebhookMessage::for_award(
            &award("김민수", "서울 마라톤 2026", 110, 1210),
            datetime!(2026-11-21 10:00 UTC),
            Language::Korean,
            None,
        ));
        let embed = &body["embeds"][0];
        assert_eq!(embed["title"], "포인트 적립");
        assert_eq!(field(&body, "러너"), "김민수");
        assert_eq!(field(&body, "대회"), "서울 마라톤 2026");
        assert_eq!(field(&body, "포인트"), "+110");
        assert_eq!(field(&body, "누적 포인트"), "1210");
        assert_eq!(embed["footer"]["text"], "기록 01M.01R · 버전 7");
        assert_eq!(
            body["content"],
            "🏅 **김민수** 님 · **서울 마라톤 2026** · +110점 (누적 1210점)"
        );
        let deducted = json(&WebhookMessage::for_award(
            &award("Kim", "Seoul", -10, 100),
            OffsetDateTime::UNIX_EPOCH,
            Language::Korean,
            None,
        ));
        assert_eq!(deducted["embeds"][0]["title"], "포인트 차감");
        assert_eq!(field(&deducted, "포인트"), "-10");
    }

    #[test]
    fn a_negative_delta_keeps_its_sign_and_reads_as_a_deduction() {
        let body = json(&WebhookMessage::for_award(
            &award("Kim", "Seoul", -10, 100),
            OffsetDateTime::UNIX_EPOCH,
            Language::English,
            None,
        ));
        assert_eq!(field(&body, "Points"), "-10");
        assert_eq!(body["embeds"][0]["title"], "Points deducted");
        assert_eq!(body["embeds"][0]["color"], ORANGE);
        let one = json(&WebhookMessage::for_award(
            &award("Kim", "Seoul", 1, 1),
            OffsetDateTime::UNIX_EPOCH,
            Language::English,
            None,
        ));
        assert_eq!(field(&one, "Points"), "+1");
        assert!(one["content"].as_str().unwrap().contains("+1 point at"));
    }

    #[test]
    fn allowed_mentions_is_present_and_empty() {
        let body = json(&WebhookMessage::for_award(
            &award("Kim", "Seoul", 5, 5),
            OffsetDateTime::UNIX_EPOCH,
            Language::English,
            None,
        ));
        assert_eq!(body["allowed_mentions"], serde_json::json!({"parse": []}));
    }

    #[test]
    fn everyone_here_and_user_mentions_in_a_name_are_escaped_not_mentions() {
        let body = json(&WebhookMessage::for_award(
            &award(
                "@everyone <@123456> @here",
                "[free](https://evil.example) # Big",
                5,
                5,
            ),
            OffsetDateTime::UNIX_EPOCH,
            Language::English,
            Some(&site()),
        ));
        assert_eq!(body["allowed_mentions"]["parse"], serde_json::json!([]));
        // the links are ours: a name cannot add or bend one
        let description = body["embeds"][0]["description"].as_str().unwrap();
        assert!(!description.contains("evil"), "{description}");
        assert_eq!(
            description.matches("](https://mrmrthon.dev/").count(),
            3,
            "{description}"
        );
        let content = body["content"].as_str().unwrap();
        for text in [content, field(&body, "Runner")] {
            assert!(text.contains(r"\@everyone"), "{text}");
            assert!(text.contains(r"\@here"), "{text}");
            assert!(text.contains(r"\<\@123456\>"), "{text}");
            assert!(!text.replace(r"\@", "").contains('@'), "an unescaped @ in {text}");
        }
        // a masked link and a heading stay literal text
        assert_eq!(field(&body, "Marathon"), r"\[free\](https://evil.example) \# Big");
    }

    #[test]
    fn markdown_and_line_breaks_in_names_are_literal() {
        assert_eq!(escape("  **Kim**_\n> x`|~  "), r"\*\*Kim\*\*\_ \> x\`\|\~");
        assert_eq!(escape(r"a\b"), r"a\\b");
        assert_eq!(escape("Jean-Luc"), r"Jean\-Luc");
    }

    #[test]
    fn fit_counts_characters_not_bytes() {
        let korean = "가".repeat(300); // 900 bytes, 300 characters
        assert_eq!(fit(korean.clone(), 300), korean);
        let cut = fit(korean, 256);
        assert_eq!(cut.chars().count(), 256);
        assert!(cut.ends_with('…'));
        assert!(cut.starts_with("가가"));
        let emoji = fit("🏃".repeat(5), 3);
        assert_eq!(emoji, "🏃🏃…");
    }

    #[test]
    fn fit_never_leaves_a_dangling_escape() {
        // "\*" pairs: a cut right after a backslash drops it
        let cut = fit(escape(&"*".repeat(10)), 4);
        assert_eq!(cut, "\\*…");
        assert!(chars(&cut) <= 4);
        let cut = fit(escape(&"*".repeat(10)), 5);
        assert_eq!(cut, "\\*\\*…");
    }

    #[test]
    fn long_multibyte_names_are_trimmed_to_every_limit() {
        let runner = "김".repeat(5000);
        let marathon = "🏃‍♀️".repeat(3000);
        let message = WebhookMessage::for_award(
            &award(&runner, &marathon, -12345, 99),
            OffsetDateTime::UNIX_EPOCH,
            Language::Korean,
            Some(&site()),
        );
        assert!(chars(&message.content) <= limits::CONTENT);
        let embed = &message.embeds[0];
        assert!(chars(&embed.title) <= limits::TITLE);
        for f in &embed.fields {
            assert!(chars(&f.name) <= limits::FIELD_NAME);
            assert!(chars(&f.value) <= limits::FIELD_VALUE, "{}", chars(&f.value));
        }
        assert_eq!(chars(&embed.fields[0].value), limits::FIELD_VALUE);
        assert!(embed.fields[0].value.ends_with('…'));
        assert!(chars(&embed.footer.as_ref().unwrap().text) <= limits::FOOTER);
        assert!(embed.total_chars() <= limits::EMBED_TOTAL);
        // the numbers survive the trimming of the names
        assert_eq!(embed.fields[2].value, "-12345");
        assert_eq!(embed.fields[3].value, "99");
        // and so do the links: the description is never cut
        let description = embed.description.as_deref().unwrap();
        assert!(
            description.starts_with("[기록 보기](https://mrmrthon.dev/marathons/"),
            "{description}"
        );
        assert!(
            description.ends_with(')') && !description.contains('…'),
            "{description}"
        );
        // still valid UTF-8 that serializes
        assert!(serde_json::to_string(&message).is_ok());
    }

    #[test]
    fn the_embed_total_is_enforced_across_parts() {
        let mut embed = Embed {
            title: "t".repeat(limits::TITLE),
            url: None,
            description: Some("д".repeat(limits::DESCRIPTION)),
            color: 0,
            fields: (0..4)
                .map(|i| EmbedField {
                    name: format!("field {i}"),
                    value: "値".repeat(limits::FIELD_VALUE),
                    inline: true,
                })
                .collect(),
            footer: Some(Footer {
                text: "f".repeat(limits::FOOTER),
            }),
            timestamp: None,
        };
        assert!(embed.total_chars() > limits::EMBED_TOTAL);
        embed.fit_total();
        let total = embed.total_chars();
        assert!(total <= limits::EMBED_TOTAL, "{total}");
        // cut evenly, not one part wiped out: close to the limit, every part still there
        assert!(total > limits::EMBED_TOTAL - 10, "{total}");
        assert_eq!(chars(&embed.title), limits::TITLE, "the title is not a data part");
        let description = embed.description.as_ref().unwrap();
        assert!(description.ends_with('…'));
        assert!(chars(description) > 900, "{}", chars(description));
        assert!(embed.fields.iter().all(|f| f.value.ends_with('…')));
        assert_eq!(embed.fields[0].name, "field 0");
    }
}
