//! The welcome message the original system gave each role, in Korean by default.

use crate::user::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Language {
    #[default]
    Korean,
    English,
}

impl Language {
    /// A language tag ("ko", "en", "en-US", "ko_KR"...) by its primary subtag; `None` for
    /// other languages. Profiles and the deployment's NOTIFICATION_LANGUAGE use it.
    pub fn from_tag(tag: &str) -> Option<Self> {
        let primary = tag.split(['-', '_']).next()?.trim().to_ascii_lowercase();
        match primary.as_str() {
            "ko" => Some(Self::Korean),
            "en" => Some(Self::English),
            _ => None,
        }
    }

    /// The other one: the second section of a bilingual mail.
    pub fn other(self) -> Self {
        match self {
            Self::Korean => Self::English,
            Self::English => Self::Korean,
        }
    }

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
    fn tags_are_read_by_their_primary_subtag() {
        assert_eq!(Language::from_tag("ko"), Some(Language::Korean));
        assert_eq!(Language::from_tag("en-US"), Some(Language::English));
        assert_eq!(Language::from_tag(" KO_kr"), Some(Language::Korean));
        assert_eq!(Language::from_tag("fr"), None);
        assert_eq!(Language::from_tag(""), None);
        assert_eq!(Language::Korean.other(), Language::English);
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
