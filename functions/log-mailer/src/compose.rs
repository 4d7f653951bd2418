//! The mail for a notice and a recipient: subject, text and HTML, Korean first with an
//! English section (or one language when the profile names it).
//!
//! Safety rules: anything that reaches a header (subject, display names) loses control
//! characters (CR and LF above all), Unicode line separators and bidirectional overrides,
//! and a non-plain display name is sent as RFC 2047 encoded words, so no user text can
//! start a header or an address of its own. Every piece of text in the HTML body is
//! escaped where it is rendered, user-provided or not.

use std::fmt::Write as _;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use time::{OffsetDateTime, UtcOffset};

use crate::notice::{MarathonChange, Notice, ResultChange, SecurityEvent};
use crate::recipients::Recipient;

/// The display name of every mail's From: fixed, so no user text ever speaks as sender.
pub const SENDER_NAME: &str = "mrmrthon";
const SUBJECT_PREFIX: &str = "[mrmrthon]";
/// Marathon names are at most 200 characters; a subject shows the first 80.
const SUBJECT_NAME_CHARS: usize = 80;
const DISPLAY_NAME_CHARS: usize = 64;
const BODY_NAME_CHARS: usize = 200;
/// RFC 2047: an encoded word is at most 75 characters; 45 bytes of UTF-8 fit one.
const WORD_BYTES: usize = 45;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    Korean,
    English,
}

impl Language {
    /// A profile's `language` attribute, when profiles get one ("ko", "en", "en-US"...).
    pub fn from_tag(tag: &str) -> Option<Self> {
        let primary = tag.split(['-', '_']).next()?.trim().to_ascii_lowercase();
        match primary.as_str() {
            "ko" => Some(Self::Korean),
            "en" => Some(Self::English),
            _ => None,
        }
    }
}

/// One message, ready for SendEmail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// `mrmrthon <sender@…>`.
    pub from: String,
    /// The bare address the From header carries (SES's verified identity).
    pub sender: String,
    /// `"Name" <a@b>` or `=?UTF-8?B?…?= <a@b>` or a bare address.
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
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

/// RFC 2047 "B" encoded words, split on character boundaries.
pub fn encoded_words(text: &str) -> String {
    let mut words = Vec::new();
    let mut piece = String::new();
    for c in text.chars() {
        if piece.len() + c.len_utf8() > WORD_BYTES {
            words.push(std::mem::take(&mut piece));
        }
        piece.push(c);
    }
    if !piece.is_empty() {
        words.push(piece);
    }
    words
        .iter()
        .map(|w| format!("=?UTF-8?B?{}?=", STANDARD.encode(w.as_bytes())))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `display <address>` for a From or To header. A plain ASCII name is quoted; anything
/// else (non-ASCII, quotes, angle brackets, commas, ...) is encoded, which is also what
/// SES requires for non-ASCII display names.
pub fn mailbox(display: &str, address: &str) -> String {
    let name = header_text(display, DISPLAY_NAME_CHARS);
    if name.is_empty() {
        return address.to_owned();
    }
    let plain = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '.' | '-' | '_'));
    if plain {
        format!("\"{name}\" <{address}>")
    } else {
        format!("{} <{address}>", encoded_words(&name))
    }
}

/// The address SES can send to, or None: it must be a well-formed address (the domain's
/// own rule) in ASCII (SES takes no SMTPUTF8; a Unicode domain would need Punycode).
pub fn address(raw: &str) -> Option<String> {
    let email = domain::Email::parse(raw).ok()?;
    email.as_str().is_ascii().then(|| email.as_str().to_owned())
}

/// Which languages a mail carries, from what the profile says.
fn languages(preferred: Option<Language>) -> &'static [Language] {
    match preferred {
        Some(Language::Korean) => &[Language::Korean],
        Some(Language::English) => &[Language::English],
        None => &[Language::Korean, Language::English],
    }
}

/// One language's part of a mail, as plain text; escaped when rendered to HTML.
struct Section {
    language: Language,
    heading: String,
    paragraphs: Vec<String>,
    facts: Vec<(&'static str, String)>,
}

/// The mail for `notice` to `recipient`, from `sender` (a bare, verified address) to
/// `to` (the recipient's checked address).
pub fn compose(notice: &Notice, recipient: &Recipient, to: &str, sender: &str) -> Mail {
    let langs = languages(recipient.language);
    let name = header_text(&recipient.name, BODY_NAME_CHARS);
    let sections: Vec<Section> = langs.iter().map(|&l| section(notice, &name, l)).collect();
    // the first section's heading is that language's subject line already
    let heading = sections.first().map_or("", |s| s.heading.as_str());
    let subject = subject(notice, langs.len() > 1, heading);
    Mail {
        from: mailbox(SENDER_NAME, sender),
        sender: sender.to_owned(),
        to: mailbox(&recipient.name, to),
        text: render_text(&sections),
        html: render_html(&subject, &sections),
        subject,
    }
}

fn subject(notice: &Notice, bilingual: bool, heading: &str) -> String {
    let mut subject = format!("{SUBJECT_PREFIX} {heading}");
    if bilingual {
        subject.push_str(&format!(" ({})", short_english(notice)));
    }
    // every piece went through header_text already; once more for the whole
    header_text(&subject, 250)
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

fn section(notice: &Notice, name: &str, language: Language) -> Section {
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
            ..
        } => {
            let m = inline(marathon_name);
            paragraphs.push(match (ko, change) {
                (true, MarathonChange::Updated) => {
                    format!("참가 신청하신 {m} 대회의 정보가 변경되었습니다. 대회 페이지에서 바뀐 내용을 확인해 주세요.")
                }
                (true, MarathonChange::Cancelled) => {
                    format!("참가 신청하신 {m} 대회가 주최 측 사정으로 취소되었습니다.")
                }
                (false, MarathonChange::Updated) => format!(
                    "The details of {m}, which you registered for, have changed. Please check the race page."
                ),
                (false, MarathonChange::Cancelled) => {
                    format!("{m}, which you registered for, has been cancelled by its organizer.")
                }
            });
            if let Some(date) = date {
                facts.push((if ko { "대회일" } else { "Race date" }, inline(date)));
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
            out.push_str("\n---------- English ----------\n\n");
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
        }
    }

    fn recorded(marathon: &str) -> Notice {
        Notice::Result {
            change: ResultChange::Recorded,
            runner: UserId::generate(),
            marathon_name: marathon.into(),
            finish_time: Some("3:59:59".into()),
            points: Some(100),
        }
    }

    fn mail(notice: &Notice, r: &Recipient) -> Mail {
        compose(notice, r, "kim@example.com", "no-reply@mrmrthon.dev")
    }

    fn decode_words(header: &str) -> String {
        header
            .split(' ')
            .filter(|w| w.starts_with("=?UTF-8?B?"))
            .map(|w| {
                let b64 = w.trim_start_matches("=?UTF-8?B?").trim_end_matches("?=");
                String::from_utf8(STANDARD.decode(b64).unwrap()).unwrap()
            })
            .collect()
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
        for header in [&m.subject, &m.from, &m.to] {
            assert!(
                !header.chars().any(|c| c.is_control()),
                "control character in {header:?}"
            );
        }
        assert_eq!(m.from, "\"mrmrthon\" <no-reply@mrmrthon.dev>");
        assert!(
            m.subject.starts_with("[mrmrthon] Seoul Subject: free money <img"),
            "{}",
            m.subject
        );
        // the display name is encoded, so `<`, `>` and `:` in it cannot make an address
        assert!(m.to.ends_with(" <kim@example.com>"), "{}", m.to);
        assert_eq!(m.to.matches('<').count(), 1, "{}", m.to);
        assert!(!m.to.contains("victim@"), "{}", m.to);
        assert_eq!(
            decode_words(&m.to),
            "Kim Bcc: victim@example.com <script>alert(1)</script>"
        );
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
    fn display_names_are_quoted_or_encoded() {
        assert_eq!(mailbox("Kim Runner", "k@x.io"), "\"Kim Runner\" <k@x.io>");
        assert_eq!(mailbox("", "k@x.io"), "k@x.io");
        assert_eq!(mailbox("\r\n", "k@x.io"), "k@x.io");
        let quoted = mailbox("Kim \"The Rocket\", Jr", "k@x.io");
        assert!(quoted.starts_with("=?UTF-8?B?"), "{quoted}");
        assert_eq!(decode_words(&quoted), "Kim \"The Rocket\", Jr");
        let long = mailbox(&"김".repeat(60), "k@x.io");
        assert!(long.split(' ').all(|w| w.len() <= 75), "{long}");
        assert_eq!(decode_words(&long), "김".repeat(60));
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
            marathon_name: "Seoul".into(),
            finish_time: Some("3:59:59".into()),
            points: Some(100),
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
    fn only_addresses_ses_can_take_pass() {
        assert_eq!(address(" Kim@Example.COM ").as_deref(), Some("kim@example.com"));
        assert_eq!(address("kim@example"), None);
        assert_eq!(address("kim@example.com\r\nBcc: x@y.z"), None);
        assert_eq!(address("김@example.com"), None);
        assert_eq!(address(""), None);
    }
}
