//! The welcome message the original system gave each role, in Korean by default.

use crate::user::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Language {
    #[default]
    Korean,
    English,
}

impl Language {
    /// Picks from an `Accept-Language` header by quality; Korean unless English is preferred.
    pub fn from_accept_language(header: Option<&str>) -> Self {
        let Some(header) = header else {
            return Self::Korean;
        };
        let mut best: Option<(f32, Self)> = None;
        for part in header.split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let quality = pieces
                .find_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.parse::<f32>().ok()))
                .unwrap_or(1.0);
            let language = match tag.split('-').next() {
                Some("en") => Self::English,
                Some("ko") => Self::Korean,
                _ => continue,
            };
            if best.is_none_or(|(q, _)| quality > q) {
                best = Some((quality, language));
            }
        }
        best.map_or(Self::Korean, |(_, language)| language)
    }
}

pub fn welcome(role: Role, language: Language) -> &'static str {
    match (role, language) {
        (Role::Organizer, Language::Korean) => "주최자님 환영합니다",
        (Role::Runner, Language::Korean) => "개인 사용자님 환영합니다",
        (Role::Organizer, Language::English) => "Welcome, organizer",
        (Role::Runner, Language::English) => "Welcome, runner",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn korean_greetings_match_the_original_system() {
        assert_eq!(welcome(Role::Organizer, Language::Korean), "주최자님 환영합니다");
        assert_eq!(
            welcome(Role::Runner, Language::Korean),
            "개인 사용자님 환영합니다"
        );
    }

    #[test]
    fn accept_language_picks_the_preferred_known_language() {
        assert_eq!(Language::from_accept_language(None), Language::Korean);
        assert_eq!(
            Language::from_accept_language(Some("en-US,en;q=0.9")),
            Language::English
        );
        assert_eq!(
            Language::from_accept_language(Some("ko-KR,en;q=0.5")),
            Language::Korean
        );
        assert_eq!(
            Language::from_accept_language(Some("fr, en;q=0.8, ko;q=0.9")),
            Language::Korean
        );
        assert_eq!(Language::from_accept_language(Some("de")), Language::Korean);
    }
}
