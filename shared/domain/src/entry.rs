//! A runner's registration for a marathon.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::marathon::{MarathonId, MarathonLabel};
use crate::race::Bib;
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
    /// Assigned at registration (the next free number) or set by the organizer; unique
    /// within the marathon. None for entries from before bibs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bib: Option<Bib>,
}

/// One runner of a marathon's roster: what the import matches a file's rows against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterEntry {
    pub bib: Bib,
    pub runner_id: UserId,
    pub runner_name: UserName,
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
