//! Reading the links the service mails (`${SITE_URL}/verify-email?token=...`,
//! `/reset-password?token=...`) back out of the mailbox's `.eml` files, as a user would
//! follow them: the seed verifies its demo accounts this way, and the browser test opens
//! the verification link.

use std::path::Path;

/// The token of the first link to `/{route}?token=` in the mail's text part, decoded from
/// whatever transfer encoding the mail uses.
pub fn link_token(raw: &[u8], route: &str) -> Option<String> {
    let message = mail_parser::MessageParser::default().parse(raw)?;
    let text = message.body_text(0)?;
    let marker = format!("/{route}?token=");
    let start = text.find(&marker)? + marker.len();
    let token: String = text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    (!token.is_empty()).then_some(token)
}

/// Whether the mail is addressed to `address` (case-insensitive, display names aside).
pub fn addressed_to(raw: &[u8], address: &str) -> bool {
    mail_parser::MessageParser::default()
        .parse(raw)
        .and_then(|m| {
            m.to().map(|to| {
                to.iter()
                    .filter_map(|a| a.address())
                    .any(|a| a.eq_ignore_ascii_case(address))
            })
        })
        .unwrap_or(false)
}

/// The token of the newest mail in `dir` to `address` with a link to `/{route}`. The
/// mailbox names its files `<stamp>-<id>.eml`, so the newest sorts last.
pub fn newest_link_token(dir: &Path, address: &str, route: &str) -> Option<String> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|e| e == "eml"))
        .collect();
    files.sort();
    files.iter().rev().find_map(|path| {
        let raw = std::fs::read(path).ok()?;
        if addressed_to(&raw, address) {
            link_token(&raw, route)
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    /// As log-mailer sends it: multipart/alternative, the text part in base64.
    fn mail(to: &str, text: &str) -> Vec<u8> {
        let encoded = base64::engine::general_purpose::STANDARD.encode(text);
        format!(
            "From: mrmrthon <no-reply@example.com>\r\nTo: \"Park\" <{to}>\r\nSubject: verify\r\n\
             MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"b\"\r\n\r\n\
             --b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n\
             {encoded}\r\n--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>html</p>\r\n--b--\r\n"
        )
        .into_bytes()
    }

    #[test]
    fn the_token_comes_out_of_a_base64_text_part() {
        let raw = mail(
            "park@example.com",
            "확인: http://127.0.0.1:3000/verify-email?token=01JC0000000000000000000001.abc_DEF-123\nbye",
        );
        assert_eq!(
            link_token(&raw, "verify-email").as_deref(),
            Some("01JC0000000000000000000001.abc_DEF-123")
        );
        assert_eq!(link_token(&raw, "reset-password"), None);
        assert!(addressed_to(&raw, "PARK@example.com"));
        assert!(!addressed_to(&raw, "ark@example.com"), "whole addresses only");
    }

    #[test]
    fn the_newest_mail_to_the_address_wins() {
        let dir = std::env::temp_dir().join(format!("mrmrthon-links-{}", ulid::Ulid::new()));
        std::fs::create_dir_all(&dir).unwrap();
        let link = |t: &str| format!("http://x/verify-email?token={t}");
        std::fs::write(
            dir.join("20261121T100000000-a.eml"),
            mail("kim@example.com", &link("old")),
        )
        .unwrap();
        std::fs::write(
            dir.join("20261121T100500000-b.eml"),
            mail("kim@example.com", &link("new")),
        )
        .unwrap();
        std::fs::write(
            dir.join("20261121T101000000-c.eml"),
            mail("lee@example.com", &link("lee")),
        )
        .unwrap();
        std::fs::write(dir.join("notes.txt"), "not a mail").unwrap();
        assert_eq!(
            newest_link_token(&dir, "kim@example.com", "verify-email").as_deref(),
            Some("new")
        );
        assert_eq!(
            newest_link_token(&dir, "lee@example.com", "verify-email").as_deref(),
            Some("lee")
        );
        assert_eq!(newest_link_token(&dir, "park@example.com", "verify-email"), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
