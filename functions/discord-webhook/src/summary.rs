//! The one Discord post of a bulk import: how many results it wrote, removed and
//! refused, and the podium of each category (fastest three, by chip time). Names are
//! escaped and every part is fitted to Discord's limits as an award's post is.

use domain::events::ResultsImported;
use domain::greeting::Language;
use infra::site::SiteUrl;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::message::{AllowedMentions, Embed, EmbedField, Footer, WebhookMessage, escape, fit, limits};

const BLUE: u32 = 0x3498db;

/// Discord shows at most 25 fields in an embed.
const MAX_FIELDS: usize = 25;

const MEDALS: [&str; 3] = ["🥇", "🥈", "🥉"];

impl WebhookMessage {
    /// The summary of one committed import.
    pub fn for_import(
        summary: &ResultsImported,
        occurred_at: OffsetDateTime,
        language: Language,
        site: Option<&SiteUrl>,
    ) -> Self {
        let marathon = escape(&summary.marathon_name);
        let short_marathon = fit(marathon.clone(), 256);
        let (title, line, overall, footer) = match language {
            Language::Korean => (
                "결과 일괄 등록",
                format!(
                    "📋 **{short_marathon}** 결과 {}건 등록 · {}건 삭제 · 오류 {}건",
                    summary.applied, summary.removed, summary.failed
                ),
                "종합",
                format!("가져오기 {}", summary.import_id),
            ),
            Language::English => (
                "Results imported",
                format!(
                    "📋 **{short_marathon}**: {} results imported, {} removed, {} rows refused",
                    summary.applied, summary.removed, summary.failed
                ),
                "Overall",
                format!("import {}", summary.import_id),
            ),
        };
        let fields = summary
            .podiums
            .iter()
            .filter(|p| !p.places.is_empty())
            .take(MAX_FIELDS)
            .map(|podium| {
                let name = if podium.category == "overall" {
                    overall.to_owned()
                } else {
                    escape(&podium.category)
                };
                let value = podium
                    .places
                    .iter()
                    .zip(MEDALS)
                    .map(|(place, medal)| {
                        format!("{medal} {} {}", escape(&place.runner_name), place.chip_time)
                    })
                    .collect::<Vec<_>>()
                    .join("\n");
                EmbedField {
                    name: fit(name, limits::FIELD_NAME),
                    value: fit(value, limits::FIELD_VALUE),
                    inline: true,
                }
            })
            .collect();
        let mut embed = Embed {
            title: title.to_owned(),
            url: site.map(|s| format!("{}/results", s.marathon(&summary.marathon_id))),
            description: Some(fit(marathon, limits::DESCRIPTION)),
            color: BLUE,
            fields,
            footer: Some(Footer {
                text: fit(footer, limits::FOOTER),
            }),
            timestamp: occurred_at.format(&Rfc3339).ok(),
        };
        embed.fit_total();
        Self {
            content: fit(line, limits::CONTENT),
            embeds: vec![embed],
            allowed_mentions: AllowedMentions::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::events::{Podium, PodiumPlace};
    use domain::marathon::MarathonId;
    use domain::user::UserId;
    use time::macros::datetime;

    fn summary(categories: usize) -> ResultsImported {
        ResultsImported {
            import_id: "01JIMPORT".into(),
            marathon_id: MarathonId::generate(),
            marathon_name: "Seoul *Marathon*".into(),
            applied: 997,
            removed: 0,
            failed: 3,
            podiums: (0..categories)
                .map(|c| Podium {
                    category: if c == 0 {
                        "overall".into()
                    } else {
                        format!("M{c}0-{c}9")
                    },
                    places: (0..3)
                        .map(|p| PodiumPlace {
                            runner_id: UserId::generate(),
                            runner_name: format!("@everyone {c}{p}"),
                            chip_time: format!("2:1{p}:00"),
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    #[test]
    fn the_summary_counts_and_lists_each_podium_with_names_escaped() {
        let message = WebhookMessage::for_import(
            &summary(2),
            datetime!(2026-11-21 10:00 UTC),
            Language::English,
            None,
        );
        assert!(
            message.content.contains("997 results imported"),
            "{}",
            message.content
        );
        assert!(message.content.contains("3 rows refused"));
        assert!(message.content.contains(r"Seoul \*Marathon\*"));
        let embed = &message.embeds[0];
        assert_eq!(embed.fields.len(), 2);
        assert_eq!(embed.fields[0].name, "Overall");
        assert!(
            embed.fields[0].value.starts_with(r"🥇 \@everyone 00 2:10:00"),
            "{}",
            embed.fields[0].value
        );
        assert_eq!(embed.fields[1].name, r"M10\-19");
        assert!(message.allowed_mentions.parse.is_empty());
        let korean = WebhookMessage::for_import(
            &summary(1),
            datetime!(2026-11-21 10:00 UTC),
            Language::Korean,
            None,
        );
        assert!(korean.content.contains("997건 등록"), "{}", korean.content);
    }

    #[test]
    fn many_categories_stay_within_discords_limits() {
        let message = WebhookMessage::for_import(
            &summary(40),
            datetime!(2026-11-21 10:00 UTC),
            Language::English,
            None,
        );
        let embed = &message.embeds[0];
        assert_eq!(embed.fields.len(), MAX_FIELDS);
        assert!(embed.total_chars() <= limits::EMBED_TOTAL);
    }
}
