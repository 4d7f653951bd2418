//! A runner's registration for a marathon.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::marathon::{MarathonId, MarathonLabel};
use crate::user::{UserId, UserName};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub marathon_id: MarathonId,
    pub runner_id: UserId,
    pub runner_name: UserName,
    /// Copied from the marathon so "my entries" reads without a join; listings put the
    /// current name and date back (`MarathonLabel`).
    pub marathon_name: String,
    pub marathon_date: Date,
    #[serde(with = "time::serde::rfc3339")]
    pub registered_at: OffsetDateTime,
}

impl MarathonLabel for Entry {
    fn marathon_id(&self) -> &MarathonId {
        &self.marathon_id
    }

    fn relabel(&mut self, name: &str, date: Date) {
        name.clone_into(&mut self.marathon_name);
        self.marathon_date = date;
    }
}
