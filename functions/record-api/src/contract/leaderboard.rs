//! `GET /leaderboard` and `GET /me/bests`: their query and responses.

use domain::leaderboard::{Performance, PerformanceSource, Season, Standing};
use domain::result::FinishTime;
use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::{IntoParams, ToSchema};

use super::RecordKind;

/// `?season=&limit=&cursor=`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LeaderboardQuery {
    /// The year (default: this year, UTC). An award counts in the year of its marathon's date.
    #[param(value_type = Option<u32>, minimum = 1900, maximum = 9999, nullable = false)]
    pub season: Option<String>,
    /// Runners per page (default 20).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100, nullable = false)]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page of the same season, as given.
    #[param(nullable = false)]
    pub cursor: Option<String>,
}

/// A page of a season's standings.
#[derive(Debug, Serialize, ToSchema)]
pub struct Leaderboard {
    pub season: u16,
    /// Most points first; runners with equal points share a rank (1, 2, 2, 4) and come
    /// in a fixed order, so pages neither repeat nor skip anyone.
    pub items: Vec<LeaderboardRow>,
    /// Present when there is more: pass it back as `cursor` (with the same `season`).
    pub next_cursor: Option<String>,
}

/// One runner's place in a season.
#[derive(Debug, Serialize, ToSchema)]
pub struct LeaderboardRow {
    /// 1 + the number of runners with more points.
    pub rank: u64,
    pub runner_id: String,
    /// The runner's current name (null if the account is gone).
    pub name: Option<String>,
    /// The season's points: the sum of the runner's awards for results of that year.
    pub points: u64,
}

impl Leaderboard {
    pub fn new(season: Season, page: domain::paging::Page<Standing>) -> Self {
        Self {
            season: season.year(),
            items: page
                .items
                .into_iter()
                .map(|s| LeaderboardRow {
                    rank: s.rank,
                    runner_id: s.runner_id.to_string(),
                    name: s.runner_name.map(|n| n.as_str().to_owned()),
                    points: s.points,
                })
                .collect(),
            next_cursor: page.next_cursor,
        }
    }
}

/// Where a best time comes from.
#[derive(Debug, Serialize, ToSchema)]
#[schema(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum BestSource {
    /// An official result (a finish).
    Official,
    /// One of the runner's private records.
    Record,
}

/// The runner's best time over one distance.
#[derive(Debug, Serialize, ToSchema)]
pub struct BestView {
    /// The course the distance is: "full", "half", "10k", "5k" by their exact lengths,
    /// otherwise the distance in metres.
    #[schema(schema_with = super::course)]
    pub course: serde_json::Value,
    pub distance_m: u32,
    pub seconds: u32,
    /// "H:MM:SS".
    pub time: String,
    pub date: Date,
    pub source: BestSource,
    /// For an official result: its marathon.
    pub marathon_id: Option<String>,
    pub marathon_name: Option<String>,
    /// For a private record: the record.
    pub record_id: Option<String>,
    pub record_kind: Option<RecordKind>,
}

/// `GET /me/bests`.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonalBests {
    /// One per distance, shortest first.
    pub items: Vec<BestView>,
}

impl From<Performance> for BestView {
    fn from(p: Performance) -> Self {
        let course = p.course().to_json();
        let (source, marathon_id, marathon_name, record_id, record_kind) = match p.source {
            PerformanceSource::Official {
                marathon_id,
                marathon_name,
            } => (
                BestSource::Official,
                Some(marathon_id.to_string()),
                Some(marathon_name),
                None,
                None,
            ),
            PerformanceSource::Record { record_id, kind } => (
                BestSource::Record,
                None,
                None,
                Some(record_id),
                Some(match kind {
                    domain::record::RecordKind::Training => RecordKind::Training,
                    domain::record::RecordKind::Race => RecordKind::Race,
                }),
            ),
        };
        Self {
            course,
            distance_m: p.distance_m,
            seconds: p.seconds,
            time: FinishTime::from_seconds(p.seconds).display(),
            date: p.date,
            source,
            marathon_id,
            marathon_name,
            record_id,
            record_kind,
        }
    }
}
