//! The mrmrthon domain: who the users are, the rules they live by, and the ports the
//! functions talk to the outside world through. No AWS SDK, no Lambda types, no I/O.

pub mod activity;
pub mod clock;
pub mod entry;
pub mod erasure;
pub mod events;
pub mod greeting;
pub mod import;
pub mod leaderboard;
pub mod lockout;
pub mod marathon;
pub mod paging;
pub mod password;
pub mod points;
pub mod ports;
pub mod race;
pub mod record;
pub mod refresh;
pub mod reset;
pub mod result;
pub mod user;
pub mod validation;

#[cfg(any(test, feature = "memory"))]
pub mod memory;

pub use clock::{Clock, SystemClock};
pub use user::{ANONYMOUS_NAME, Email, PublicProfile, Role, User, UserId, UserName};
pub use validation::{FieldError, ValidationErrors};
