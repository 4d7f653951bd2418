//! Sent mail as RFC 5322 text (`.eml`), readable in a text editor and openable in a mail
//! client: UTF-8 bodies sent as 8bit; headers (RFC 2047 encoded words for non-ASCII text)
//! written by mail-builder.

use mail_builder::MessageBuilder;
use mail_builder::headers::address::Address;
use mail_builder::mime::MimePart;
use time::OffsetDateTime;

/// A message as the emulator kept it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub id: String,
    pub from: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub bcc: Vec<String>,
    pub subject: String,
    pub body: String,
}

/// RFC 5322 allows 998 octets per line; longer body lines need a transfer encoding.
const MAX_LINE: usize = 998;

impl Outgoing {
    /// The emulator keeps one body: the HTML part when both were sent. Whether it is HTML
    /// is guessed from its look.
    pub fn is_html(&self) -> bool {
        let start = self.body.trim_start().to_ascii_lowercase();
        start.starts_with("<!doctype html")
            || start.starts_with("<html")
            || (start.starts_with('<') && self.body.contains("</"))
    }

    pub fn render(&self, date: OffsetDateTime) -> String {
        let kind = if self.is_html() { "text/html" } else { "text/plain" };
        let mut body = self.body.replace("\r\n", "\n").replace('\n', "\r\n");
        if !body.ends_with("\r\n") {
            body.push_str("\r\n");
        }
        let readable = body.lines().all(|l| l.len() <= MAX_LINE);
        let mut part = MimePart::new(kind, body);
        if readable {
            // as is, so the file reads in an editor; otherwise mail-builder picks base64
            // or quoted-printable
            part = part.transfer_encoding("8bit");
        }
        let mut message = MessageBuilder::new()
            .message_id(format!("{}@email.amazonses.com", self.id))
            .date(date.unix_timestamp())
            .from(address(&self.from))
            .subject(self.subject.as_str());
        if !self.to.is_empty() {
            message = message.to(addresses(&self.to));
        }
        if !self.cc.is_empty() {
            message = message.cc(addresses(&self.cc));
        }
        if !self.bcc.is_empty() {
            message = message.bcc(addresses(&self.bcc));
        }
        message
            .body(part)
            .write_to_string()
            // writing into a String cannot fail
            .unwrap_or_default()
    }
}

/// `Name <a@b>` (the name possibly quoted) or a bare address, as the emulator keeps them.
fn address(mailbox: &str) -> Address<'_> {
    match mailbox.rsplit_once('<') {
        Some((name, rest)) if !name.trim().is_empty() => {
            (name.trim().trim_matches('"'), rest.trim_end_matches('>').trim()).into()
        }
        _ => mailbox.trim().into(),
    }
}

fn addresses(list: &[String]) -> Address<'_> {
    list.iter().map(|a| address(a)).collect::<Vec<_>>().into()
}

/// The value of a header in raw RFC 5322 text (first occurrence, unfolded).
pub fn header_value(raw: &str, name: &str) -> Option<String> {
    let head = raw.split("\r\n\r\n").next().unwrap_or(raw);
    let head = head.split("\n\n").next().unwrap_or(head);
    let mut value: Option<String> = None;
    for line in head.lines() {
        let line = line.trim_end_matches('\r');
        match &mut value {
            Some(v) if line.starts_with([' ', '\t']) => {
                v.push(' ');
                v.push_str(line.trim());
            }
            Some(_) => break,
            None => {
                if let Some((key, rest)) = line.split_once(':')
                    && key.trim().eq_ignore_ascii_case(name)
                {
                    value = Some(rest.trim().to_owned());
                }
            }
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn mail(body: &str) -> Outgoing {
        Outgoing {
            id: "abc-1".into(),
            from: "마라톤 <no-reply@mrmrthon.dev>".into(),
            to: vec!["kim@example.com".into()],
            cc: vec![],
            bcc: vec!["audit@example.com".into()],
            subject: "결과가 기록되었습니다".into(),
            body: body.into(),
        }
    }

    fn parse(text: &str) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default()
            .parse(text.as_bytes())
            .expect("a parsable message")
    }

    #[test]
    fn renders_headers_and_an_8bit_body() {
        let text = mail("안녕하세요\n기록: 3:59:59").render(datetime!(2026-11-21 10:00:00 UTC));
        assert!(
            text.starts_with("Message-ID: <abc-1@email.amazonses.com>\r\n"),
            "{text}"
        );
        assert!(
            text.contains("Date: Sat, 21 Nov 2026 10:00:00 +0000\r\n"),
            "{text}"
        );
        assert!(text.contains(" <no-reply@mrmrthon.dev>\r\n"), "{text}");
        assert!(text.contains("To: <kim@example.com>\r\n"), "{text}");
        assert!(text.contains("Bcc: <audit@example.com>\r\n"), "{text}");
        assert!(!text.contains("Cc: "), "{text}");
        assert!(
            text.contains("Content-Type: text/plain; charset=\"utf-8\"\r\n"),
            "{text}"
        );
        assert!(text.contains("Content-Transfer-Encoding: 8bit\r\n"), "{text}");
        assert!(
            text.ends_with("\r\n\r\n안녕하세요\r\n기록: 3:59:59\r\n"),
            "{text}"
        );
        let head = text.split("\r\n\r\n").next().unwrap();
        assert!(head.is_ascii(), "{head}");
        assert!(head.lines().all(|l| l.len() <= 78), "{head}");
        let message = parse(&text);
        assert_eq!(message.subject(), Some("결과가 기록되었습니다"));
        let from = message.from().and_then(|a| a.first()).unwrap();
        assert_eq!(
            (from.name(), from.address()),
            (Some("마라톤"), Some("no-reply@mrmrthon.dev"))
        );
        assert_eq!(
            message.body_text(0).as_deref(),
            Some("안녕하세요\r\n기록: 3:59:59\r\n")
        );
    }

    #[test]
    fn html_and_long_lines() {
        assert!(mail("<p>hi</p>").is_html());
        assert!(!mail("a < b, c > d").is_html());
        let html = mail("<p>hi</p>").render(datetime!(2026-11-21 10:00:00 UTC));
        assert!(
            html.contains("Content-Type: text/html; charset=\"utf-8\""),
            "{html}"
        );
        let long = mail(&"x".repeat(1200)).render(datetime!(2026-11-21 10:00:00 UTC));
        assert!(!long.contains("Content-Transfer-Encoding: 8bit"), "{long}");
        assert!(long.lines().all(|l| l.len() <= 998));
        assert_eq!(
            parse(&long).body_text(0).as_deref().map(str::trim_end),
            Some("x".repeat(1200).as_str())
        );
    }

    #[test]
    fn reads_folded_headers() {
        let raw = "From: a@b\r\nSubject: one\r\n two\r\nX-Correlation-Id: c1\r\n\r\nSubject: body";
        assert_eq!(header_value(raw, "subject").as_deref(), Some("one two"));
        assert_eq!(header_value(raw, "x-correlation-id").as_deref(), Some("c1"));
        assert_eq!(header_value(raw, "to"), None);
    }
}
