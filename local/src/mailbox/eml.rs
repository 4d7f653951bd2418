//! Sent mail as RFC 5322 text (`.eml`), readable in a text editor and openable in a mail
//! client: UTF-8 bodies sent as 8bit, non-ASCII header text as RFC 2047 encoded words.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc2822;

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

/// RFC 5322 allows 998 octets per line; longer body lines need base64.
const MAX_LINE: usize = 998;
/// Encoded words are at most 75 characters; 45 bytes of text fit one.
const WORD_BYTES: usize = 45;

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
        let mut out = String::new();
        let mut header = |name: &str, value: String| {
            out.push_str(name);
            out.push_str(": ");
            out.push_str(&value);
            out.push_str("\r\n");
        };
        header("Message-ID", format!("<{}@email.amazonses.com>", self.id));
        header("Date", date.format(&Rfc2822).unwrap_or_default());
        header("From", address(&self.from));
        for (name, list) in [("To", &self.to), ("Cc", &self.cc), ("Bcc", &self.bcc)] {
            if !list.is_empty() {
                header(
                    name,
                    list.iter().map(|a| address(a)).collect::<Vec<_>>().join(", "),
                );
            }
        }
        header("Subject", words(&self.subject));
        header("MIME-Version", "1.0".into());
        let kind = if self.is_html() { "text/html" } else { "text/plain" };
        header("Content-Type", format!("{kind}; charset=UTF-8"));
        let body = self.body.replace("\r\n", "\n");
        if body.lines().all(|l| l.len() <= MAX_LINE) {
            header("Content-Transfer-Encoding", "8bit".into());
            out.push_str("\r\n");
            out.push_str(&body.replace('\n', "\r\n"));
        } else {
            header("Content-Transfer-Encoding", "base64".into());
            out.push_str("\r\n");
            let encoded = STANDARD.encode(self.body.as_bytes());
            for chunk in encoded.as_bytes().chunks(76) {
                out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
                out.push_str("\r\n");
            }
        }
        if !out.ends_with("\r\n") {
            out.push_str("\r\n");
        }
        out
    }
}

/// Header text: as is when ASCII, else UTF-8 base64 encoded words, folded.
pub fn words(text: &str) -> String {
    if text.is_ascii() {
        return text.to_owned();
    }
    let mut pieces = Vec::new();
    let mut piece = String::new();
    for c in text.chars() {
        if piece.len() + c.len_utf8() > WORD_BYTES {
            pieces.push(std::mem::take(&mut piece));
        }
        piece.push(c);
    }
    if !piece.is_empty() {
        pieces.push(piece);
    }
    pieces
        .iter()
        .map(|p| format!("=?UTF-8?B?{}?=", STANDARD.encode(p.as_bytes())))
        .collect::<Vec<_>>()
        .join("\r\n ")
}

/// `Name <a@b>` with a non-ASCII name encoded; bare addresses as they are.
fn address(address: &str) -> String {
    match address.rsplit_once('<') {
        Some((name, rest)) if !name.trim().is_empty() => {
            let name = name.trim().trim_matches('"');
            format!("{} <{rest}", words(name))
        }
        _ => address.to_owned(),
    }
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
        assert!(text.contains("From: =?UTF-8?B?"), "{text}");
        assert!(text.contains(" <no-reply@mrmrthon.dev>\r\n"), "{text}");
        assert!(text.contains("To: kim@example.com\r\n"), "{text}");
        assert!(text.contains("Bcc: audit@example.com\r\n"), "{text}");
        assert!(!text.contains("Cc: "), "{text}");
        assert!(
            text.contains("Content-Type: text/plain; charset=UTF-8\r\n"),
            "{text}"
        );
        assert!(
            text.ends_with("\r\n\r\n안녕하세요\r\n기록: 3:59:59\r\n"),
            "{text}"
        );
        let subject = header_value(&text, "subject").unwrap();
        let decoded: String = subject
            .split(' ')
            .map(|w| {
                let b64 = w.trim_start_matches("=?UTF-8?B?").trim_end_matches("?=");
                String::from_utf8(STANDARD.decode(b64).unwrap()).unwrap()
            })
            .collect();
        assert_eq!(decoded, "결과가 기록되었습니다");
        assert!(text.lines().all(|l| l.len() <= 78 || !l.starts_with("Subject")));
    }

    #[test]
    fn html_and_long_lines() {
        assert!(mail("<p>hi</p>").is_html());
        assert!(!mail("a < b, c > d").is_html());
        let long = mail(&"x".repeat(1200)).render(datetime!(2026-11-21 10:00:00 UTC));
        assert!(long.contains("Content-Transfer-Encoding: base64"));
        assert!(long.lines().all(|l| l.len() <= 998));
    }

    #[test]
    fn reads_folded_headers() {
        let raw = "From: a@b\r\nSubject: one\r\n two\r\nX-Correlation-Id: c1\r\n\r\nSubject: body";
        assert_eq!(header_value(raw, "subject").as_deref(), Some("one two"));
        assert_eq!(header_value(raw, "x-correlation-id").as_deref(), Some("c1"));
        assert_eq!(header_value(raw, "to"), None);
    }
}
