//! The mail for a notice and a recipient: subject, text and HTML, in the deployment's
//! language (NOTIFICATION_LANGUAGE, Korean unless it says `en`) with a section in the other
//! one, or in one language when the profile names it. [`Mail::to_mime`] makes it the
//! message SES sends: multipart/alternative, the plain text first and the HTML second.
//! Each mail links to the web app's pages about it (SITE_URL: the result, the marathon,
//! the points, the account); without a SITE_URL it has no link rather than a broken one.
//!
//! Safety rules: anything that reaches a header (subject, display names) loses control
//! characters (CR and LF above all), Unicode line separators and bidirectional overrides
//! here, and mail-builder encodes non-ASCII and special characters as RFC 2047 words, so
//! no user text can start a header or an address of its own. Every piece of text in the
//! HTML body is escaped where it is rendered, user-provided or not.

use std::fmt::Write as _;

use domain::race::ResultStatus;
use infra::site::SiteUrl;
use mail_builder::MessageBuilder;
use mail_builder::headers::address::Address;
use time::{OffsetDateTime, UtcOffset};

use crate::account_mail;
use crate::notice::{MarathonChange, Notice, ResultChange, SecurityEvent};
use crate::recipients::Recipient;

/// The language type of the greeting; profiles and the deployment name one by its tag.
pub use domain::greeting::Language;

/// The display name of every mail's From: fixed, so no user text ever speaks as sender.
pub const SENDER_NAME: &str = "mrmrthon";
const SUBJECT_PREFIX: &str = "[mrmrthon]";
/// Marathon names are at most 200 characters; a subject shows the first 80.
const SUBJECT_NAME_CHARS: usize = 80;
const DISPLAY_NAME_CHARS: usize = 64;
const BODY_NAME_CHARS: usize = 200;

/// One message, ready to be made MIME and sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// The bare address the From header carries (SES's verified identity), also the
    /// envelope sender.
    pub sender: String,
    /// The recipient's checked, bare address.
    pub to: String,
    /// The recipient's display name, header-safe; empty when the profile has none.
    pub to_name: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl Mail {
    /// The message as RFC 5322 bytes: `From: mrmrthon <sender>`, `To`, the subject,
    /// `Date` (`at`), a Message-ID on the sender's domain, and a multipart/alternative
    /// body with the text part first and the HTML part last (clients show the last part
    /// they can render). Header encoding, folding and transfer encodings are
    /// mail-builder's.
    pub fn to_mime(&self, at: OffsetDateTime) -> Vec<u8> {
        let to: Address<'_> = if self.to_name.is_empty() {
            self.to.as_str().into()
        } else {
            (self.to_name.as_str(), self.to.as_str()).into()
        };
        let domain = self.sender.rsplit_once('@').map_or("mrmrthon.dev", |(_, d)| d);
        MessageBuilder::new()
            .from((SENDER_NAME, self.sender.as_str()))
            .to(to)
            .subject(self.subject.as_str())
            .date(at.unix_timestamp())
            .message_id(format!("{}@{domain}", ulid::Ulid::new()))
            .text_body(self.text.as_str())
            .html_body(self.html.as_str())
            .write_to_vec()
            // writing into a Vec cannot fail
            .unwrap_or_default()
    }
}

/// Header-safe text: control characters (CR, LF, TAB, NUL, C1), Unicode line and
/// paragraph separators, zero-width and bidirectional formatting characters become
/// spaces; whitespace runs collapse; the ends are trimmed; at most `max` characters
/// (an ellipsis marks a cut).
pub fn header_text(raw: &str, max: usize) -> String {
    let mut out = String::with_capacity(raw.len().min(max * 4));
    let mut count = 0;
    let mut pending_space = false;
    for c in raw.chars() {
        // printable ASCII is most of every name and sentence: it skips the Unicode tables
        let kept = c.is_ascii_graphic() || (!c.is_ascii() && !c.is_whitespace() && !is_unsafe(c));
        if !kept {
            pending_space = !out.is_empty();
            continue;
        }
        let needed = usize::from(pending_space) + 1;
        if count + needed > max {
            out.push('…');
            return out;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(c);
        count += needed;
    }
    out
}

fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{2028}' | '\u{2029}'            // line / paragraph separators
            | '\u{200B}'..='\u{200F}'          // zero-width, LRM, RLM
            | '\u{202A}'..='\u{202E}'          // bidi embeddings and overrides
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'          // bidi isolates
            | '\u{FEFF}')
}

/// HTML text and attribute escaping, onto the end of `out`. The five characters are ASCII,
/// so a byte scan finds them (UTF-8 continuation bytes never equal them); a `find` with a
/// char set decoded every character and was the compose's hottest loop.
fn push_escaped(out: &mut String, raw: &str) {
    let mut start = 0;
    for (at, byte) in raw.bytes().enumerate() {
        let entity = match byte {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        out.push_str(&raw[start..at]);
        out.push_str(entity);
        start = at + 1;
    }
    out.push_str(&raw[start..]);
}

/// The address SES can send to, or None: it must be a well-formed address (the domain's
/// own rule) in ASCII (SES takes no SMTPUTF8; a Unicode domain would need Punycode).
pub fn address(raw: &str) -> Option<String> {
    let email = domain::Email::parse(raw).ok()?;
    email.as_str().is_ascii().then(|| email.as_str().to_owned())
}

/// Which languages a mail carries: the one the profile names, else the deployment's
/// first and the other after it.
fn languages(preferred: Option<Language>, deployment: Language) -> Vec<Language> {
    match preferred {
        Some(language) => vec![language],
        None => vec![deployment, deployment.other()],
    }
}

/// One language's part of a mail, as plain text; escaped when rendered to HTML.
struct Section {
    language: Language,
    heading: String,
    paragraphs: Vec<String>,
    facts: Vec<(&'static str, String)>,
    /// (label, URL): the web app's pages about the notice.
    links: Vec<(&'static str, String)>,
}

/// The mail for `notice` to `recipient`, from `sender` (a bare, verified address) to
/// `to` (the recipient's checked address); `language` is the deployment's, `site` the web
/// app the mail links to (none: no links).
pub fn compose(
    notice: &Notice,
    recipient: &Recipient,
    to: &str,
    sender: &str,
    language: Language,
    site: Option<&SiteUrl>,
) -> Mail {
    let langs = languages(recipient.language, language);
    let name = header_text(&recipient.name, BODY_NAME_CHARS);
    let sections: Vec<Section> = langs.iter().map(|&l| section(notice, &name, l, site)).collect();
    // the first section's heading is that language's subject line already
    let heading = sections.first().map_or("", |s| s.heading.as_str());
    let second = langs.get(1).copied();
    let subject = subject(notice, second, heading);
    Mail {
        sender: sender.to_owned(),
        to: to.to_owned(),
        to_name: header_text(&recipient.name, DISPLAY_NAME_CHARS),
        text: render_text(&sections),
        html: render_html(&subject, &sections),
        subject,
    }
}

fn subject(notice: &Notice, second: Option<Language>, heading: &str) -> String {
    let mut subject = format!("{SUBJECT_PREFIX} {heading}");
    if let Some(language) = second {
        subject.push_str(&format!(" ({})", short(notice, language)));
    }
    // every piece went through header_text already; once more for the whole
    header_text(&subject, 250)
}

/// The account mails' texts live in `account_mail`.
fn account_subject(event: &SecurityEvent, korean: bool) -> String {
    account_mail::subjects(event)
        .map(|(ko, en)| if korean { ko } else { en })
        .unwrap_or_default()
        .to_owned()
}

fn account_short(event: &SecurityEvent, korean: bool) -> &'static str {
    account_mail::shorts(event)
        .map(|(ko, en)| if korean { ko } else { en })
        .unwrap_or_default()
}

fn marathon_of(notice: &Notice) -> Option<String> {
    match notice {
        Notice::Result { marathon_name, .. } | Notice::Marathon { marathon_name, .. } => {
            Some(header_text(marathon_name, SUBJECT_NAME_CHARS))
        }
        Notice::Security { .. } => None,
    }
}

fn korean_subject(notice: &Notice) -> String {
    let m = marathon_of(notice).unwrap_or_default();
    match notice {
        Notice::Result { change, .. } => match change {
            ResultChange::Recorded => format!("{m} 공식 기록이 등록되었습니다"),
            ResultChange::Corrected => format!("{m} 공식 기록이 정정되었습니다"),
            ResultChange::Removed => format!("{m} 공식 기록이 삭제되었습니다"),
        },
        Notice::Marathon { change, .. } => match change {
            MarathonChange::Updated => format!("{m} 대회 정보가 변경되었습니다"),
            MarathonChange::Cancelled => format!("{m} 대회가 취소되었습니다"),
        },
        Notice::Security { event, .. } => match event {
            SecurityEvent::AccountLocked { .. } => "계정이 일시적으로 잠겼습니다".into(),
            SecurityEvent::RefreshReuse => "보안을 위해 로그인 세션을 종료했습니다".into(),
            SecurityEvent::PasswordChanged
            | SecurityEvent::PasswordReset { .. }
            | SecurityEvent::VerifyEmail { .. }
            | SecurityEvent::AccountDeleted { .. } => account_subject(event, true),
        },
    }
}

fn english_subject(notice: &Notice) -> String {
    let m = marathon_of(notice).unwrap_or_default();
    match notice {
        Notice::Result { change, .. } => match change {
            ResultChange::Recorded => format!("Your official result for {m} has been recorded"),
            ResultChange::Corrected => format!("Your official result for {m} has been corrected"),
            ResultChange::Removed => format!("Your official result for {m} has been removed"),
        },
        Notice::Marathon { change, .. } => match change {
            MarathonChange::Updated => format!("The details of {m} have changed"),
            MarathonChange::Cancelled => format!("{m} has been cancelled"),
        },
        Notice::Security { event, .. } => match event {
            SecurityEvent::AccountLocked { .. } => "Your account has been temporarily locked".into(),
            SecurityEvent::RefreshReuse => "We signed you out to protect your account".into(),
            SecurityEvent::PasswordChanged
            | SecurityEvent::PasswordReset { .. }
            | SecurityEvent::VerifyEmail { .. }
            | SecurityEvent::AccountDeleted { .. } => account_subject(event, false),
        },
    }
}

/// The subject's short second half, in the mail's second language.
fn short(notice: &Notice, language: Language) -> &'static str {
    match language {
        Language::English => short_english(notice),
        Language::Korean => short_korean(notice),
    }
}

fn short_korean(notice: &Notice) -> &'static str {
    match notice {
        Notice::Result { change, .. } => match change {
            ResultChange::Recorded => "공식 기록 등록",
            ResultChange::Corrected => "공식 기록 정정",
            ResultChange::Removed => "공식 기록 삭제",
        },
        Notice::Marathon { change, .. } => match change {
            MarathonChange::Updated => "대회 정보 변경",
            MarathonChange::Cancelled => "대회 취소",
        },
        Notice::Security { event, .. } => match event {
            SecurityEvent::AccountLocked { .. } => "계정 잠금",
            SecurityEvent::RefreshReuse => "보안 로그아웃",
            SecurityEvent::PasswordChanged
            | SecurityEvent::PasswordReset { .. }
            | SecurityEvent::VerifyEmail { .. }
            | SecurityEvent::AccountDeleted { .. } => account_short(event, true),
        },
    }
}

fn short_english(notice: &Notice) -> &'static str {
    match notice {
        Notice::Result { change, .. } => match change {
            ResultChange::Recorded => "Official result recorded",
            ResultChange::Corrected => "Official result corrected",
            ResultChange::Removed => "Official result removed",
        },
        Notice::Marathon { change, .. } => match change {
            MarathonChange::Updated => "Race details changed",
            MarathonChange::Cancelled => "Race cancelled",
        },
        Notice::Security { event, .. } => match event {
            SecurityEvent::AccountLocked { .. } => "Account locked",
            SecurityEvent::RefreshReuse => "Signed out for security",
            SecurityEvent::PasswordChanged
            | SecurityEvent::PasswordReset { .. }
            | SecurityEvent::VerifyEmail { .. }
            | SecurityEvent::AccountDeleted { .. } => account_short(event, false),
        },
    }
}

const KST: UtcOffset = match UtcOffset::from_hms(9, 0, 0) {
    Ok(offset) => offset,
    Err(_) => UtcOffset::UTC,
};

fn when(at: OffsetDateTime, language: Language) -> String {
    let (local, zone) = match language {
        Language::Korean => (at.to_offset(KST), "KST"),
        Language::English => (at.to_offset(UtcOffset::UTC), "UTC"),
    };
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} {zone}",
        local.year(),
        u8::from(local.month()),
        local.day(),
        local.hour(),
        local.minute()
    )
}

/// The pages a notice links to, labelled in `language`: a result and the points it gave,
/// the points alone once a result is removed, a marathon, the account after a security
/// event (where the password is changed).
fn links(notice: &Notice, language: Language, site: &SiteUrl) -> Vec<(&'static str, String)> {
    let ko = language == Language::Korean;
    let points = (if ko { "내 포인트" } else { "Your points" }, site.my_points());
    match notice {
        Notice::Result {
            change: ResultChange::Removed,
            ..
        } => vec![points],
        Notice::Result { runner, marathon, .. } => vec![
            (
                if ko { "기록 보기" } else { "Your result" },
                site.result(marathon, runner),
            ),
            points,
        ],
        Notice::Marathon { change, marathon, .. } => {
            let label = match (ko, change) {
                (true, MarathonChange::Updated) => "바뀐 내용 확인",
                (false, MarathonChange::Updated) => "See what changed",
                (true, MarathonChange::Cancelled) => "대회 페이지",
                (false, MarathonChange::Cancelled) => "The race page",
            };
            vec![(label, site.marathon(marathon))]
        }
        // the account is gone: nothing on the site is its any more
        Notice::Security {
            event: SecurityEvent::AccountDeleted { .. },
            ..
        } => Vec::new(),
        Notice::Security { event, .. } => match account_mail::reset_link(event, ko, site) {
            Some(link) => vec![link],
            None => vec![(if ko { "내 계정" } else { "Your account" }, site.account())],
        },
    }
}

fn section(notice: &Notice, name: &str, language: Language, site: Option<&SiteUrl>) -> Section {
    let inline = |raw: &str| header_text(raw, BODY_NAME_CHARS);
    let (heading, mut paragraphs, mut facts) = match language {
        Language::Korean => (korean_subject(notice), Vec::new(), Vec::new()),
        Language::English => (english_subject(notice), Vec::new(), Vec::new()),
    };
    paragraphs.push(match (language, name.is_empty()) {
        (Language::Korean, false) => format!("{name}님, 안녕하세요."),
        (Language::Korean, true) => "안녕하세요.".to_owned(),
        (Language::English, false) => format!("Hello {name},"),
        (Language::English, true) => "Hello,".to_owned(),
    });
    let ko = language == Language::Korean;
    match notice {
        Notice::Result {
            change,
            marathon_name,
            finish_time,
            points,
            status,
            ..
        } => {
            let m = inline(marathon_name);
            paragraphs.push(match (ko, change) {
                (true, ResultChange::Recorded) => format!("{m} 대회의 공식 기록이 등록되었습니다."),
                (true, ResultChange::Corrected) => format!("{m} 대회의 공식 기록이 정정되었습니다."),
                (true, ResultChange::Removed) => {
                    format!("{m} 대회의 공식 기록이 삭제되었고, 이 기록으로 받은 포인트도 회수됩니다.")
                }
                (false, ResultChange::Recorded) => {
                    format!("The organizer of {m} has recorded your official result.")
                }
                (false, ResultChange::Corrected) => {
                    format!("The organizer of {m} has corrected your official result.")
                }
                (false, ResultChange::Removed) => format!(
                    "The organizer of {m} has removed your official result; the points it gave are withdrawn."
                ),
            });
            if *change != ResultChange::Removed {
                if *status != ResultStatus::Finished {
                    facts.push((
                        if ko { "상태" } else { "Status" },
                        status_words(*status, ko).to_owned(),
                    ));
                }
                if let Some(time) = finish_time {
                    facts.push((if ko { "기록" } else { "Finish time" }, inline(time)));
                }
                if let Some(points) = points {
                    facts.push((if ko { "포인트" } else { "Points" }, points.to_string()));
                }
            }
        }
        Notice::Marathon {
            change,
            marathon_name,
            date,
            changes,
            ..
        } => {
            let m = inline(marathon_name);
            paragraphs.push(match (ko, change) {
                (true, MarathonChange::Updated) => {
                    format!("참가 신청하신 {m} 대회의 정보가 변경되었습니다.")
                }
                (true, MarathonChange::Cancelled) => {
                    format!("참가 신청하신 {m} 대회가 주최 측 사정으로 취소되었습니다.")
                }
                (false, MarathonChange::Updated) => {
                    format!("The details of {m}, which you registered for, have changed.")
                }
                (false, MarathonChange::Cancelled) => {
                    format!("{m}, which you registered for, has been cancelled by its organizer.")
                }
            });
            if let Some(date) = date {
                facts.push((if ko { "대회일" } else { "Race date" }, inline(date)));
            }
            if !changes.is_empty() {
                let names: Vec<&str> = changes.iter().map(|c| field_label(c, ko)).collect();
                facts.push((
                    if ko { "바뀐 항목" } else { "Changed" },
                    inline(&names.join(", ")),
                ));
            }
        }
        Notice::Security { event, source_ip, .. } => {
            match (ko, event) {
                (true, SecurityEvent::AccountLocked { until }) => {
                    paragraphs.push("로그인 실패가 여러 번 반복되어 계정을 잠시 잠갔습니다.".into());
                    if let Some(until) = until {
                        facts.push(("잠금 해제", when(*until, language)));
                    }
                    paragraphs
                        .push("본인이 시도한 것이 아니라면 잠금이 풀린 뒤 비밀번호를 변경해 주세요.".into());
                }
                (false, SecurityEvent::AccountLocked { until }) => {
                    paragraphs
                        .push("After repeated failed logins we locked your account for a while.".into());
                    if let Some(until) = until {
                        facts.push(("Unlocks at", when(*until, language)));
                    }
                    paragraphs.push("If this was not you, change your password once the lock ends.".into());
                }
                (true, SecurityEvent::RefreshReuse) => {
                    paragraphs.push(
                        "이미 사용된 로그인 갱신 토큰이 다시 사용되어, 해당 로그인 세션을 모두 종료했습니다. 다시 로그인해 주세요.".into(),
                    );
                    paragraphs.push("본인이 아니라면 비밀번호를 변경해 주세요.".into());
                }
                (false, SecurityEvent::RefreshReuse) => {
                    paragraphs.push(
                        "A refresh token that had already been used was presented again, so we ended that login session everywhere. Please log in again.".into(),
                    );
                    paragraphs.push("If this was not you, change your password.".into());
                }
                (
                    _,
                    SecurityEvent::PasswordChanged
                    | SecurityEvent::PasswordReset { .. }
                    | SecurityEvent::VerifyEmail { .. }
                    | SecurityEvent::AccountDeleted { .. },
                ) => {
                    paragraphs.extend(account_mail::paragraphs(event, ko).unwrap_or_default());
                }
            }
            if let Some(ip) = source_ip {
                facts.push((if ko { "요청 IP" } else { "Request IP" }, inline(ip)));
            }
        }
    }
    Section {
        language,
        heading,
        paragraphs,
        facts,
        links: site.map(|site| links(notice, language, site)).unwrap_or_default(),
    }
}

fn footer(language: Language) -> &'static str {
    match language {
        Language::Korean => "이 메일은 mrmrthon에서 자동으로 발송되었습니다.",
        Language::English => "This is an automated message from mrmrthon.",
    }
}

fn render_text(sections: &[Section]) -> String {
    let mut out = String::with_capacity(2048);
    for (i, s) in sections.iter().enumerate() {
        if i > 0 {
            let name = match s.language {
                Language::Korean => "한국어",
                Language::English => "English",
            };
            let _ = write!(out, "\n---------- {name} ----------\n\n");
        }
        out.push_str(&s.heading);
        out.push_str("\n\n");
        for p in &s.paragraphs {
            out.push_str(p);
            out.push_str("\n\n");
        }
        for (label, value) in &s.facts {
            let _ = writeln!(out, "- {label}: {value}");
        }
        if !s.facts.is_empty() {
            out.push('\n');
        }
        for (label, url) in &s.links {
            let _ = writeln!(out, "{label}: {url}");
        }
        if !s.links.is_empty() {
            out.push('\n');
        }
    }
    let footers: Vec<&str> = sections.iter().map(|s| footer(s.language)).collect();
    out.push_str("--\n");
    out.push_str(&footers.join("\n"));
    out.push('\n');
    out
}

fn render_html(subject: &str, sections: &[Section]) -> String {
    let lang = |l: Language| match l {
        Language::Korean => "ko",
        Language::English => "en",
    };
    let first = sections.first().map_or(Language::Korean, |s| s.language);
    // one buffer, escaped text pushed straight into it: the mail is ~2 KiB
    let mut out = String::with_capacity(4096);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>",
        lang(first)
    );
    push_escaped(&mut out, subject);
    out.push_str("</title></head>\n<body style=\"font-family:sans-serif;line-height:1.5;color:#222\">\n");
    for (i, s) in sections.iter().enumerate() {
        if i > 0 {
            out.push_str("<hr>\n");
        }
        let _ = write!(
            out,
            "<div lang=\"{}\">\n<h1 style=\"font-size:18px\">",
            lang(s.language)
        );
        push_escaped(&mut out, &s.heading);
        out.push_str("</h1>\n");
        for p in &s.paragraphs {
            out.push_str("<p>");
            push_escaped(&mut out, p);
            out.push_str("</p>\n");
        }
        if !s.facts.is_empty() {
            out.push_str("<table>\n");
            for (label, value) in &s.facts {
                out.push_str("<tr><th align=\"left\">");
                push_escaped(&mut out, label);
                out.push_str("</th><td>");
                push_escaped(&mut out, value);
                out.push_str("</td></tr>\n");
            }
            out.push_str("</table>\n");
        }
        for (label, url) in &s.links {
            out.push_str("<p><a href=\"");
            push_escaped(&mut out, url);
            out.push_str("\">");
            push_escaped(&mut out, label);
            out.push_str("</a></p>\n");
        }
        out.push_str("</div>\n");
    }
    out.push_str("<p style=\"color:#888;font-size:12px\">");
    for (i, s) in sections.iter().enumerate() {
        if i > 0 {
            out.push_str("<br>");
        }
        push_escaped(&mut out, footer(s.language));
    }
    out.push_str("</p>\n</body>\n</html>\n");
    out
}

/// A result's status in words (a finish is not said: its time says it).
fn status_words(status: ResultStatus, ko: bool) -> &'static str {
    match (status, ko) {
        (ResultStatus::Finished, true) => "완주",
        (ResultStatus::Finished, false) => "Finished",
        (ResultStatus::Dnf, true) => "완주하지 못함 (DNF)",
        (ResultStatus::Dnf, false) => "Did not finish (DNF)",
        (ResultStatus::Dns, true) => "출발하지 않음 (DNS)",
        (ResultStatus::Dns, false) => "Did not start (DNS)",
        (ResultStatus::Dq, true) => "실격 (DQ)",
        (ResultStatus::Dq, false) => "Disqualified (DQ)",
    }
}

/// A marathon field as a mail names it (the API's names; an unknown one as it is).
fn field_label(field: &str, ko: bool) -> &str {
    match (field, ko) {
        ("name", true) => "대회명",
        ("name", false) => "name",
        ("date", true) => "대회일",
        ("date", false) => "race date",
        ("location", true) => "장소",
        ("location", false) => "location",
        ("course", true) => "코스",
        ("course", false) => "course",
        ("points", true) => "포인트",
        ("points", false) => "points",
        ("dnf_points", true) => "완주하지 못한 참가자 포인트",
        ("dnf_points", false) => "points for a DNF",
        ("capacity", true) => "정원",
        ("capacity", false) => "capacity",
        ("registration_closes_at", true) => "접수 마감",
        ("registration_closes_at", false) => "registration deadline",
        (other, _) => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escaping_covers_the_five_characters() {
        let mut out = String::from("<p>");
        push_escaped(&mut out, "a&b<c>d\"e'f & 안녕 <>");
        assert_eq!(out, "<p>a&amp;b&lt;c&gt;d&quot;e&#39;f &amp; 안녕 &lt;&gt;");
        let mut plain = String::new();
        push_escaped(&mut plain, "서울 마라톤");
        push_escaped(&mut plain, "");
        push_escaped(&mut plain, "&");
        assert_eq!(plain, "서울 마라톤&amp;");
    }
    use domain::UserId;
    use domain::marathon::MarathonId;
    use time::macros::datetime;

    const EVIL_NAME: &str = "Kim\r\nBcc: victim@example.com\r\n<script>alert(1)</script>";
    const EVIL_MARATHON: &str = "Seoul\r\nSubject: free money\n<img src=x onerror=alert(1)>";

    fn recipient(name: &str, language: Option<Language>) -> Recipient {
        Recipient {
            user_id: UserId::generate(),
            email: "kim@example.com".into(),
            name: name.into(),
            language,
            email_verified: true,
        }
    }

    fn recorded(marathon: &str) -> Notice {
        Notice::Result {
            change: ResultChange::Recorded,
            runner: UserId::generate(),
            marathon: MarathonId::generate(),
            marathon_name: marathon.into(),
            finish_time: Some("3:59:59".into()),
            points: Some(100),
            status: ResultStatus::Finished,
        }
    }

    fn mail(notice: &Notice, r: &Recipient) -> Mail {
        compose(
            notice,
            r,
            "kim@example.com",
            "no-reply@mrmrthon.dev",
            Language::Korean,
            Some(&site()),
        )
    }

    fn site() -> SiteUrl {
        SiteUrl::parse("https://mrmrthon.dev").unwrap()
    }

    fn mime(mail: &Mail) -> Vec<u8> {
        mail.to_mime(datetime!(2026-11-21 10:00 UTC))
    }

    fn parse(raw: &[u8]) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default()
            .parse(raw)
            .expect("a parsable message")
    }

    /// The header block of a message, as sent.
    fn head(raw: &[u8]) -> String {
        let text = String::from_utf8(raw.to_vec()).expect("the message is ASCII/UTF-8");
        text.split("\r\n\r\n").next().unwrap().to_owned()
    }

    #[test]
    fn header_text_strips_line_breaks_and_controls() {
        assert_eq!(header_text("a\r\nBcc: x@y\u{0}\tz", 100), "a Bcc: x@y z");
        assert_eq!(
            header_text("  \u{2028}left\u{202E}right\u{2029} ", 100),
            "left right"
        );
        assert_eq!(header_text("\u{85}next line", 100), "next line");
        assert_eq!(header_text("abcdef", 3), "abc…");
        assert_eq!(header_text("서울 마라톤", 100), "서울 마라톤");
        // DEL, no-break and ideographic spaces, zero-width and bidi isolates are not text
        assert_eq!(
            header_text("a\u{7f}b\u{a0}c\u{3000}d\u{200b}e\u{2066}f~", 100),
            "a b c d e f~"
        );
    }

    #[test]
    fn a_hostile_name_and_marathon_give_a_safe_subject_from_and_to() {
        let m = mail(&recorded(EVIL_MARATHON), &recipient(EVIL_NAME, None));
        for header in [&m.subject, &m.to_name] {
            assert!(
                !header.chars().any(|c| c.is_control()),
                "control character in {header:?}"
            );
        }
        assert!(
            m.subject.starts_with("[mrmrthon] Seoul Subject: free money <img"),
            "{}",
            m.subject
        );
        let raw = mime(&m);
        let head = head(&raw);
        // no header of the message starts with user text
        for forged in ["Bcc:", "Subject: free money"] {
            assert!(
                !head.lines().any(|l| l.starts_with(forged)),
                "{forged} in\n{head}"
            );
        }
        assert!(head.is_ascii(), "{head}");
        let message = parse(&raw);
        let from = message.from().and_then(|a| a.first()).unwrap();
        assert_eq!(
            (from.name(), from.address()),
            (Some("mrmrthon"), Some("no-reply@mrmrthon.dev"))
        );
        // the display name cannot make an address of its own: one recipient, ours
        let to: Vec<_> = message.to().unwrap().iter().collect();
        assert_eq!(to.len(), 1, "{head}");
        assert_eq!(to[0].address(), Some("kim@example.com"));
        assert_eq!(
            to[0].name(),
            Some("Kim Bcc: victim@example.com <script>alert(1)</script>")
        );
        assert_eq!(message.subject(), Some(m.subject.as_str()));
    }

    #[test]
    fn the_message_is_multipart_alternative_with_text_then_html() {
        use mail_parser::MimeHeaders;
        let m = mail(&recorded("서울 마라톤"), &recipient("김러너", None));
        let raw = mime(&m);
        let message = parse(&raw);
        let kind = message.content_type().unwrap();
        assert_eq!((kind.ctype(), kind.subtype()), ("multipart", Some("alternative")));
        let parts = message.root_part().sub_parts().expect("a multipart body");
        let parts: Vec<_> = parts.iter().map(|id| message.part(*id).unwrap()).collect();
        let kinds: Vec<_> = parts
            .iter()
            .map(|p| {
                let t = p.content_type().unwrap();
                (
                    t.ctype(),
                    t.subtype().unwrap_or_default(),
                    t.attribute("charset").unwrap_or_default().to_ascii_lowercase(),
                )
            })
            .collect();
        assert_eq!(
            kinds,
            [
                ("text", "plain", "utf-8".into()),
                ("text", "html", "utf-8".into())
            ]
        );
        // both parts decode to what was composed, Korean first in each
        assert_eq!(parts[0].text_contents(), Some(m.text.as_str()));
        assert_eq!(parts[1].text_contents(), Some(m.html.as_str()));
        assert_eq!(message.body_text(0).as_deref(), Some(m.text.as_str()));
        assert_eq!(message.body_html(0).as_deref(), Some(m.html.as_str()));
        for body in [&m.text, &m.html] {
            let ko = body.find("김러너님, 안녕하세요.").unwrap();
            assert!(ko < body.find("Hello 김러너,").unwrap(), "{body}");
        }
        assert!(message.message_id().unwrap().ends_with("@mrmrthon.dev"));
        assert_eq!(
            message.date().map(|d| d.to_timestamp()),
            Some(datetime!(2026-11-21 10:00 UTC).unix_timestamp())
        );
    }

    #[test]
    fn korean_subjects_and_names_are_encoded_words_that_decode_back() {
        let m = mail(
            &recorded(&"서울 국제 마라톤 ".repeat(6)),
            &recipient(&"김".repeat(60), None),
        );
        let raw = mime(&m);
        let head = head(&raw);
        assert!(head.is_ascii(), "{head}");
        // folded: no header line over RFC 5322's 78 characters, words at most 75
        assert!(head.lines().all(|l| l.len() <= 78), "{head}");
        assert!(head.contains("=?utf-8?") || head.contains("=?UTF-8?"), "{head}");
        let message = parse(&raw);
        assert_eq!(message.subject(), Some(m.subject.as_str()));
        assert!(m.subject.contains("서울 국제 마라톤"), "{}", m.subject);
        let to = message.to().and_then(|a| a.first()).unwrap();
        assert_eq!(to.name(), Some("김".repeat(60).as_str()));
        // a plain ASCII name and no name at all
        let plain = compose(
            &recorded("Seoul"),
            &recipient("Kim Runner", None),
            "k@x.io",
            "no-reply@mrmrthon.dev",
            Language::Korean,
            None,
        );
        let raw = mime(&plain);
        let to = parse(&raw).to().and_then(|a| a.first()).cloned().unwrap();
        assert_eq!((to.name(), to.address()), (Some("Kim Runner"), Some("k@x.io")));
        let nameless = compose(
            &recorded("Seoul"),
            &recipient("\r\n", None),
            "k@x.io",
            "no-reply@mrmrthon.dev",
            Language::Korean,
            None,
        );
        assert_eq!(nameless.to_name, "");
        let raw = mime(&nameless);
        let to = parse(&raw).to().and_then(|a| a.first()).cloned().unwrap();
        assert_eq!((to.name(), to.address()), (None, Some("k@x.io")));
    }

    #[test]
    fn an_english_deployment_puts_english_first_with_a_korean_section() {
        let m = compose(
            &recorded("서울 마라톤"),
            &recipient("김러너", None),
            "kim@example.com",
            "no-reply@mrmrthon.dev",
            Language::English,
            None,
        );
        assert_eq!(
            m.subject,
            "[mrmrthon] Your official result for 서울 마라톤 has been recorded (공식 기록 등록)"
        );
        let en = m.text.find("Hello 김러너,").unwrap();
        let ko = m.text.find("김러너님, 안녕하세요.").unwrap();
        assert!(en < ko, "{}", m.text);
        assert!(m.text.contains("\n---------- 한국어 ----------\n"), "{}", m.text);
        assert!(m.html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
        // a profile's own language still wins over the deployment's
        let ko_only = compose(
            &recorded("Seoul"),
            &recipient("Kim", Some(Language::Korean)),
            "kim@example.com",
            "no-reply@mrmrthon.dev",
            Language::English,
            None,
        );
        assert!(!ko_only.text.contains("Hello"), "{}", ko_only.text);
    }

    #[test]
    fn user_text_is_escaped_in_html_and_flattened_in_text() {
        let m = mail(&recorded(EVIL_MARATHON), &recipient(EVIL_NAME, None));
        assert!(!m.html.contains("<script"), "{}", m.html);
        assert!(!m.html.contains("<img"), "{}", m.html);
        assert!(
            m.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{}",
            m.html
        );
        assert!(
            m.html.contains("&lt;img src=x onerror=alert(1)&gt;"),
            "{}",
            m.html
        );
        // the name stays on its line: no forged "Bcc:" line in the text body either
        assert!(!m.text.lines().any(|l| l.starts_with("Bcc:")), "{}", m.text);
        assert!(
            m.text
                .contains("Kim Bcc: victim@example.com <script>alert(1)</script>님, 안녕하세요.")
        );
    }

    #[test]
    fn korean_comes_first_with_an_english_section_by_default() {
        let m = mail(&recorded("서울 마라톤"), &recipient("김러너", None));
        assert_eq!(
            m.subject,
            "[mrmrthon] 서울 마라톤 공식 기록이 등록되었습니다 (Official result recorded)"
        );
        let ko = m.text.find("김러너님, 안녕하세요.").unwrap();
        let en = m.text.find("Hello 김러너,").unwrap();
        assert!(ko < en, "{}", m.text);
        assert!(m.text.contains("- 기록: 3:59:59\n- 포인트: 100\n"), "{}", m.text);
        assert!(m.text.contains("- Finish time: 3:59:59\n"), "{}", m.text);
        assert!(m.html.starts_with("<!DOCTYPE html>\n<html lang=\"ko\">"));
        assert!(m.html.contains("<div lang=\"en\">"));
    }

    #[test]
    fn a_profile_language_picks_one_language() {
        let en = mail(&recorded("Seoul"), &recipient("Kim", Some(Language::English)));
        assert_eq!(
            en.subject,
            "[mrmrthon] Your official result for Seoul has been recorded"
        );
        assert!(!en.text.contains("안녕하세요"), "{}", en.text);
        assert!(en.html.contains("<html lang=\"en\">"));
        let ko = mail(&recorded("Seoul"), &recipient("Kim", Some(Language::Korean)));
        assert!(!ko.text.contains("Hello"), "{}", ko.text);
        assert_eq!(Language::from_tag("en-US"), Some(Language::English));
        assert_eq!(Language::from_tag("fr"), None);
    }

    #[test]
    fn every_notice_has_its_own_subject_and_facts() {
        let marathon = MarathonId::generate();
        let cancelled = Notice::Marathon {
            change: MarathonChange::Cancelled,
            marathon,
            marathon_name: "Jeju".into(),
            date: Some("2027-03-21".into()),
            changes: Vec::new(),
        };
        let m = mail(&cancelled, &recipient("", None));
        assert_eq!(
            m.subject,
            "[mrmrthon] Jeju 대회가 취소되었습니다 (Race cancelled)"
        );
        assert!(
            m.text.starts_with("Jeju 대회가 취소되었습니다\n\n안녕하세요.\n"),
            "{}",
            m.text
        );
        assert!(m.text.contains("- Race date: 2027-03-21\n"), "{}", m.text);

        let locked = Notice::Security {
            event: SecurityEvent::AccountLocked {
                until: Some(datetime!(2026-11-21 10:15 UTC)),
            },
            user: UserId::generate(),
            at: datetime!(2026-11-21 10:00 UTC),
            source_ip: Some("203.0.113.7".into()),
        };
        let m = mail(&locked, &recipient("Kim", None));
        assert_eq!(
            m.subject,
            "[mrmrthon] 계정이 일시적으로 잠겼습니다 (Account locked)"
        );
        assert!(
            m.text.contains("- 잠금 해제: 2026-11-21 19:15 KST\n"),
            "{}",
            m.text
        );
        assert!(
            m.text.contains("- Unlocks at: 2026-11-21 10:15 UTC\n"),
            "{}",
            m.text
        );
        assert!(m.text.contains("- 요청 IP: 203.0.113.7\n"), "{}", m.text);

        let removed = Notice::Result {
            change: ResultChange::Removed,
            runner: UserId::generate(),
            marathon: MarathonId::generate(),
            marathon_name: "Seoul".into(),
            finish_time: Some("3:59:59".into()),
            points: Some(100),
            status: ResultStatus::Finished,
        };
        let m = mail(&removed, &recipient("Kim", None));
        assert!(m.subject.contains("삭제"), "{}", m.subject);
        assert!(
            !m.text.contains("3:59:59"),
            "a removed result shows no time: {}",
            m.text
        );
    }

    #[test]
    fn a_dnf_says_so_and_shows_no_finish_time() {
        let dnf = Notice::Result {
            change: ResultChange::Corrected,
            runner: UserId::generate(),
            marathon: MarathonId::generate(),
            marathon_name: "Seoul".into(),
            finish_time: None,
            points: Some(20),
            status: ResultStatus::Dnf,
        };
        let m = mail(&dnf, &recipient("Kim", None));
        for line in [
            "- 상태: 완주하지 못함 (DNF)\n",
            "- Status: Did not finish (DNF)\n",
            "- Points: 20\n",
        ] {
            assert!(m.text.contains(line), "{line:?} in\n{}", m.text);
        }
        assert!(!m.text.contains("Finish time"), "{}", m.text);
        // a finish states its time, not a status
        let finished = mail(&recorded("Seoul"), &recipient("Kim", None));
        assert!(!finished.text.contains("Status"), "{}", finished.text);
    }

    #[test]
    fn only_addresses_ses_can_take_pass() {
        assert_eq!(address(" Kim@Example.COM ").as_deref(), Some("kim@example.com"));
        assert_eq!(address("kim@example"), None);
        assert_eq!(address("kim@example.com\r\nBcc: x@y.z"), None);
        assert_eq!(address("김@example.com"), None);
        assert_eq!(address(""), None);
    }

    fn result_notice(change: ResultChange) -> (Notice, MarathonId, UserId) {
        let (marathon, runner) = (MarathonId::generate(), UserId::generate());
        let notice = Notice::Result {
            change,
            runner: runner.clone(),
            marathon: marathon.clone(),
            marathon_name: "서울 마라톤".into(),
            finish_time: Some("3:59:59".into()),
            points: Some(100),
            status: ResultStatus::Finished,
        };
        (notice, marathon, runner)
    }

    #[test]
    fn a_result_mail_links_to_the_result_and_the_points_in_both_parts() {
        let (notice, marathon, runner) = result_notice(ResultChange::Recorded);
        let m = mail(&notice, &recipient("김러너", None));
        let result = format!("https://mrmrthon.dev/marathons/{marathon}/results/{runner}");
        for line in [
            format!("기록 보기: {result}\n"),
            "내 포인트: https://mrmrthon.dev/me/points\n".to_owned(),
            format!("Your result: {result}\n"),
            "Your points: https://mrmrthon.dev/me/points\n".to_owned(),
        ] {
            assert!(m.text.contains(&line), "{line} in\n{}", m.text);
        }
        for anchor in [
            format!("<p><a href=\"{result}\">기록 보기</a></p>"),
            format!("<p><a href=\"{result}\">Your result</a></p>"),
            "<p><a href=\"https://mrmrthon.dev/me/points\">내 포인트</a></p>".to_owned(),
        ] {
            assert!(m.html.contains(&anchor), "{anchor} in\n{}", m.html);
        }
        // each section's links are in its own language, after its facts
        let ko = m.text.find("기록 보기").unwrap();
        assert!(m.text.find("- 포인트: 100").unwrap() < ko);
        assert!(ko < m.text.find("Hello").unwrap(), "{}", m.text);
        // a removed result has no page: the points it took back do
        let (removed, ..) = result_notice(ResultChange::Removed);
        let m = mail(&removed, &recipient("Kim", Some(Language::English)));
        assert!(!m.text.contains("/results/"), "{}", m.text);
        assert!(
            m.text.contains("Your points: https://mrmrthon.dev/me/points\n"),
            "{}",
            m.text
        );
    }

    #[test]
    fn a_marathon_mail_links_to_the_marathon_instead_of_asking_to_find_it() {
        let marathon = MarathonId::generate();
        let updated = Notice::Marathon {
            change: MarathonChange::Updated,
            marathon: marathon.clone(),
            marathon_name: "Jeju".into(),
            date: Some("2027-03-21".into()),
            changes: Vec::new(),
        };
        let m = mail(&updated, &recipient("Kim", None));
        let page = format!("https://mrmrthon.dev/marathons/{marathon}");
        assert!(
            m.text.contains(&format!("바뀐 내용 확인: {page}\n")),
            "{}",
            m.text
        );
        assert!(
            m.text.contains(&format!("See what changed: {page}\n")),
            "{}",
            m.text
        );
        assert!(
            m.html
                .contains(&format!("<a href=\"{page}\">See what changed</a>")),
            "{}",
            m.html
        );
        assert!(
            !m.text.contains("race page") && !m.text.contains("대회 페이지에서"),
            "{}",
            m.text
        );
        let cancelled = Notice::Marathon {
            change: MarathonChange::Cancelled,
            marathon,
            marathon_name: "Jeju".into(),
            date: None,
            changes: Vec::new(),
        };
        let m = mail(&cancelled, &recipient("Kim", Some(Language::Korean)));
        assert!(m.text.contains(&format!("대회 페이지: {page}\n")), "{}", m.text);
    }

    #[test]
    fn the_password_change_notice_tells_both_languages_and_links_to_the_account() {
        let changed = Notice::Security {
            event: SecurityEvent::PasswordChanged,
            user: UserId::generate(),
            at: datetime!(2026-11-21 10:00 UTC),
            source_ip: Some("203.0.113.7".into()),
        };
        let m = mail(&changed, &recipient("Kim", None));
        for expected in [
            "비밀번호가 변경되었습니다",
            "Your password has been changed",
            "every login session on every device was ended",
            "203.0.113.7",
            "Your account: https://mrmrthon.dev/account\n",
        ] {
            assert!(m.text.contains(expected), "{expected}: {}", m.text);
        }
    }

    #[test]
    fn the_deletion_confirmation_says_what_went_and_what_stays_and_links_nowhere() {
        let deleted = Notice::Security {
            event: SecurityEvent::AccountDeleted {
                address: crate::notice::ErasedAddress("gone@example.com".into()),
            },
            user: UserId::generate(),
            at: datetime!(2026-11-21 10:00 UTC),
            source_ip: None,
        };
        let m = mail(&deleted, &recipient("", None));
        for expected in [
            "계정이 삭제되었습니다",
            "Your account has been deleted",
            "Anonymous runner",
            "every session has ended",
        ] {
            assert!(m.text.contains(expected), "{expected}: {}", m.text);
        }
        assert!(!m.text.contains("https://"), "no link: {}", m.text);
    }

    #[test]
    fn the_reset_mail_carries_the_link_and_no_account_link() {
        let user = UserId::generate();
        let token = domain::reset::ResetToken {
            user_id: user.clone(),
            secret: "s".repeat(43),
        };
        let reset = Notice::Security {
            event: SecurityEvent::PasswordReset {
                token: token.clone(),
                expires_at: datetime!(2026-11-21 10:30 UTC),
            },
            user,
            at: datetime!(2026-11-21 10:00 UTC),
            source_ip: None,
        };
        let m = mail(&reset, &recipient("Kim", None));
        let link = format!("https://mrmrthon.dev/reset-password?token={}", token.encode());
        assert!(
            m.text.contains(&format!("Reset your password: {link}\n")),
            "{}",
            m.text
        );
        assert!(
            m.text.contains(&format!("비밀번호 재설정: {link}\n")),
            "{}",
            m.text
        );
        assert!(m.html.contains(&format!("<a href=\"{link}\">")), "{}", m.html);
        assert!(!m.text.contains("/account"), "{}", m.text);
        assert!(m.text.contains("30 minutes"), "{}", m.text);
    }

    #[test]
    fn the_verification_mail_carries_its_link() {
        let user = UserId::generate();
        let token = domain::reset::ResetToken {
            user_id: user.clone(),
            secret: "v".repeat(43),
        };
        let notice = Notice::Security {
            event: SecurityEvent::VerifyEmail {
                token: token.clone(),
                expires_at: datetime!(2026-11-22 10:00 UTC),
            },
            user,
            at: datetime!(2026-11-21 10:00 UTC),
            source_ip: None,
        };
        let m = mail(&notice, &recipient("Kim", None));
        let link = format!("https://mrmrthon.dev/verify-email?token={}", token.encode());
        assert!(
            m.text.contains(&format!("Verify your email: {link}\n")),
            "{}",
            m.text
        );
        assert!(m.text.contains("24 hours"), "{}", m.text);
    }

    #[test]
    fn a_security_mail_links_to_the_account() {
        let reuse = Notice::Security {
            event: SecurityEvent::RefreshReuse,
            user: UserId::generate(),
            at: datetime!(2026-11-21 10:00 UTC),
            source_ip: None,
        };
        let m = mail(&reuse, &recipient("Kim", None));
        assert!(
            m.text.contains("내 계정: https://mrmrthon.dev/account\n"),
            "{}",
            m.text
        );
        assert!(
            m.text.contains("Your account: https://mrmrthon.dev/account\n"),
            "{}",
            m.text
        );
    }

    #[test]
    fn without_a_site_url_a_mail_has_no_link_at_all() {
        let (notice, ..) = result_notice(ResultChange::Recorded);
        let updated = Notice::Marathon {
            change: MarathonChange::Updated,
            marathon: MarathonId::generate(),
            marathon_name: "Jeju".into(),
            date: None,
            changes: Vec::new(),
        };
        for notice in [notice, updated] {
            let m = compose(
                &notice,
                &recipient("Kim", None),
                "kim@example.com",
                "no-reply@mrmrthon.dev",
                Language::Korean,
                None,
            );
            assert!(!m.text.contains("http"), "{}", m.text);
            assert!(!m.html.contains("<a "), "{}", m.html);
            assert!(
                !m.text.contains("기록 보기") && !m.text.contains("바뀐 내용 확인"),
                "{}",
                m.text
            );
            assert!(!m.text.contains("race page"), "{}", m.text);
        }
    }
}
