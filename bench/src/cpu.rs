//! Handler CPU: runs the criterion benches (bench/benches/handlers.rs) and reads their
//! estimates from `target/criterion/<group>/<bench>/new/estimates.json`.

use serde::Deserialize;

use crate::builder::run_niced;
use crate::lab::{Kind, Result, target_dir};

/// One measured path, as the report shows it.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    pub function: &'static str,
    pub group: &'static str,
    pub id: &'static str,
    pub what: &'static str,
    /// None: reported for information, no budget applies.
    pub budget: Option<Kind>,
}

/// Must match the groups and ids in benches/handlers.rs.
pub const CASES: [Case; 10] = [
    Case {
        function: "login",
        group: "login",
        id: "jwks-get",
        what: "GET /.well-known/jwks.json: API Gateway v2 event -> lambda_http request -> router -> JSON body",
        budget: Some(Kind::Api),
    },
    Case {
        function: "login",
        group: "login",
        id: "signup-invalid",
        what: "POST /auth/signup with a body that fails validation (every field named; no argon2)",
        budget: Some(Kind::Api),
    },
    Case {
        function: "login",
        group: "login",
        id: "login-argon2",
        what: "POST /auth/login that succeeds: argon2id verify at OWASP parameters (deliberately slow)",
        budget: None,
    },
    Case {
        function: "record-api",
        group: "record-api",
        id: "create-record",
        what: "POST /me/records with the token the runner's app sends on every request (served from \
               the verifier's cache of verified tokens after its first use), body validation, activity \
               entry, JSON response (store: a stub RaceStore in the bench crate)",
        budget: Some(Kind::Api),
    },
    Case {
        function: "record-api",
        group: "record-api",
        id: "create-record-new-token",
        what: "the same with a token this container has not seen yet (its first request: RS256 \
               verification in full; 2048 tokens in turn, twice what the cache holds)",
        budget: None,
    },
    Case {
        function: "record-api",
        group: "record-api",
        id: "verify-token",
        what: "RS256 access-token verification alone, of a token not remembered (once per token and container)",
        budget: None,
    },
    Case {
        function: "official-record-stream",
        group: "official-record-stream",
        id: "translate",
        what: "translate() of one MODIFY stream record of an official result (new image decoded, old version read) -> envelope \
               -> JSON",
        budget: Some(Kind::Records),
    },
    Case {
        function: "point-increase",
        group: "point-increase",
        id: "decode-award-encode",
        what: "Envelope::parse of a result.recorded body + award_change + points.awarded envelope -> JSON",
        budget: Some(Kind::Records),
    },
    Case {
        function: "discord-webhook",
        group: "discord-webhook",
        id: "decode-render-encode",
        what: "Envelope::parse of a points.awarded body + WebhookMessage::for_award + JSON (the idempotency \
               claim and the HTTP post are I/O, excluded)",
        budget: Some(Kind::Records),
    },
    Case {
        function: "log-mailer",
        group: "log-mailer",
        id: "decode-compose",
        what: "NewImage -> ActivityEntry + Notice::from_entry + compose() of one mail (Korean and English) \
               (recipient reads, idempotency and SES are I/O, excluded)",
        budget: Some(Kind::Records),
    },
];

#[derive(Debug, Clone, Copy)]
pub struct Estimate {
    /// Nanoseconds.
    pub median: f64,
    pub median_low: f64,
    pub median_high: f64,
}

#[derive(Deserialize)]
struct Estimates {
    median: Statistic,
}

#[derive(Deserialize)]
struct Statistic {
    point_estimate: f64,
    confidence_interval: Interval,
}

#[derive(Deserialize)]
struct Interval {
    lower_bound: f64,
    upper_bound: f64,
}

/// `cargo bench -p mrmrthon-bench --bench handlers` (release profile, niced).
pub fn run_benches() -> Result<()> {
    eprintln!("handler CPU: cargo bench -p mrmrthon-bench --bench handlers");
    run_niced(
        "cargo",
        &["bench", "-p", "mrmrthon-bench", "--bench", "handlers"],
        "criterion.log",
        None,
    )
    .map(|_| ())
}

pub fn estimate(case: &Case) -> Result<Estimate> {
    let path = target_dir()
        .join("criterion")
        .join(case.group)
        .join(case.id)
        .join("new")
        .join("estimates.json");
    let text =
        std::fs::read_to_string(&path).map_err(|e| format!("no estimates at {}: {e}", path.display()))?;
    let estimates: Estimates =
        serde_json::from_str(&text).map_err(|e| format!("unreadable {}: {e}", path.display()))?;
    Ok(Estimate {
        median: estimates.median.point_estimate,
        median_low: estimates.median.confidence_interval.lower_bound,
        median_high: estimates.median.confidence_interval.upper_bound,
    })
}
