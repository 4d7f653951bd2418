//! What every handler reaches: the stores, the token verifier and the clock.

use std::sync::Arc;

use domain::Clock;
use domain::import::ImportStore;
use domain::ports::{LeaderboardStore, PointsStore, RaceStore, UserStore};
use infra::http::Verifies;
use infra::tokens::TokenVerifier;

pub struct Api {
    pub races: Arc<dyn RaceStore>,
    pub users: Arc<dyn UserStore>,
    pub points: Arc<dyn PointsStore>,
    /// The season leaderboard point-increase maintains.
    pub leaderboard: Arc<dyn LeaderboardStore>,
    /// Bulk results imports (their state; the files are in `files`).
    pub imports: Arc<dyn ImportStore>,
    /// The imports bucket: presigned uploads and commit markers.
    pub files: infra::s3::ImportFiles,
    pub verifier: TokenVerifier,
    pub clock: Arc<dyn Clock>,
}

pub type State = Arc<Api>;

impl Verifies for Api {
    fn verifier(&self) -> &TokenVerifier {
        &self.verifier
    }

    fn now(&self) -> time::OffsetDateTime {
        self.clock.now()
    }
}

impl Api {
    /// The ports the use cases work through.
    pub fn ports(&self) -> crate::usecases::Ports<'_> {
        crate::usecases::Ports {
            races: &*self.races,
            users: &*self.users,
            points: &*self.points,
            leaderboard: &*self.leaderboard,
            imports: &*self.imports,
            uploads: &self.files,
            clock: &*self.clock,
        }
    }
}
