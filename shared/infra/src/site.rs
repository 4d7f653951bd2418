//! The web app's public origin (SITE_URL, template.yaml) and the pages of it that mails and
//! Discord posts link to: the SPA routes of the web app contract. Links are made of the
//! origin and ids the system generated (ULIDs), so no user text ever reaches a URL.

use domain::UserId;
use domain::marathon::MarathonId;

/// An absolute `http(s)://host[:port]` origin, without a trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteUrl(String);

impl SiteUrl {
    /// The origin `raw` names: http or https, a host, no user info, and nothing after the
    /// authority but an optional `/`. None otherwise (a path, a query, a fragment).
    pub fn parse(raw: &str) -> Option<SiteUrl> {
        let uri: http::Uri = raw.trim().parse().ok()?;
        let scheme = uri.scheme_str().filter(|s| matches!(*s, "http" | "https"))?;
        let authority = uri.authority()?;
        let plain = !authority.host().is_empty() && !authority.as_str().contains('@');
        let bare = matches!(uri.path(), "" | "/") && uri.query().is_none() && !raw.contains('#');
        (plain && bare).then(|| SiteUrl(format!("{scheme}://{authority}")))
    }

    /// `SITE_URL` through the function's environment reader: None when unset or blank
    /// (then nothing links), an error naming the variable when it is not an origin.
    pub fn from_env<F: Fn(&str) -> Option<String>>(
        env: &crate::config::Env<F>,
    ) -> Result<Option<SiteUrl>, crate::config::ConfigError> {
        env.parse_with("SITE_URL", SiteUrl::parse)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `/marathons/{id}`: the marathon, its details and registration.
    pub fn marathon(&self, marathon: &MarathonId) -> String {
        format!("{}/marathons/{marathon}", self.0)
    }

    /// `/marathons/{id}/results/{runner_id}`: one result, shareable.
    pub fn result(&self, marathon: &MarathonId, runner: &UserId) -> String {
        format!("{}/marathons/{marathon}/results/{runner}", self.0)
    }

    /// `/runners/{id}`: a runner's public points.
    pub fn runner(&self, runner: &UserId) -> String {
        format!("{}/runners/{runner}", self.0)
    }

    /// `/me/points`: the signed-in runner's own points.
    pub fn my_points(&self) -> String {
        format!("{}/me/points", self.0)
    }

    /// `/account`: the signed-in user's account (password, language).
    pub fn account(&self) -> String {
        format!("{}/account", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ConfigError, Env};

    #[test]
    fn origins_parse_and_lose_a_trailing_slash() {
        for (raw, origin) in [
            ("https://mrmrthon.dev", "https://mrmrthon.dev"),
            ("https://mrmrthon.dev/", "https://mrmrthon.dev"),
            ("http://127.0.0.1:3000", "http://127.0.0.1:3000"),
            (
                " https://d111111abcdef8.cloudfront.net ",
                "https://d111111abcdef8.cloudfront.net",
            ),
        ] {
            assert_eq!(SiteUrl::parse(raw).map(|s| s.0), Some(origin.to_owned()), "{raw}");
        }
    }

    #[test]
    fn anything_but_an_origin_is_refused() {
        for raw in [
            "",
            "mrmrthon.dev",
            "ftp://mrmrthon.dev",
            "javascript:alert(1)",
            "https://",
            "https://mrmrthon.dev/app",
            "https://mrmrthon.dev/?x=1",
            "https://mrmrthon.dev/#top",
            "https://evil.example@mrmrthon.dev",
            "https://mrmrthon.dev\r\nX: y",
            "https://mrmr thon.dev",
        ] {
            assert_eq!(SiteUrl::parse(raw), None, "{raw:?}");
        }
    }

    #[test]
    fn links_are_the_contracts_routes() {
        let site = SiteUrl::parse("https://mrmrthon.dev/").unwrap();
        let marathon = MarathonId::parse("01JC0000000000000000000003").unwrap();
        let runner = UserId::parse("01JC0000000000000000000002").unwrap();
        assert_eq!(
            site.marathon(&marathon),
            "https://mrmrthon.dev/marathons/01JC0000000000000000000003"
        );
        assert_eq!(
            site.result(&marathon, &runner),
            "https://mrmrthon.dev/marathons/01JC0000000000000000000003/results/01JC0000000000000000000002"
        );
        assert_eq!(
            site.runner(&runner),
            "https://mrmrthon.dev/runners/01JC0000000000000000000002"
        );
        assert_eq!(site.my_points(), "https://mrmrthon.dev/me/points");
        assert_eq!(site.account(), "https://mrmrthon.dev/account");
    }

    #[test]
    fn the_environment_gives_none_when_blank_and_an_error_when_unusable() {
        let read = |value: &'static str| {
            SiteUrl::from_env(&Env::new(move |name: &str| {
                (name == "SITE_URL").then(|| value.to_owned())
            }))
        };
        assert_eq!(read("  "), Ok(None));
        assert_eq!(
            read("https://mrmrthon.dev").unwrap().unwrap().as_str(),
            "https://mrmrthon.dev"
        );
        assert!(matches!(read("mrmrthon.dev"), Err(ConfigError::Invalid(n, _)) if n == "SITE_URL"));
    }
}
