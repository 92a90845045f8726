//! The daily bulletin (bản tin): its configuration (`[bulletin]` in
//! bantin.toml), the spoken date and greeting, assembling the programme from
//! approved items between jingles (plan → speak → fit → lay out), its
//! manifest, delivering it atomically into the playout drop folder, and the
//! scheduler that decides when each (date, slot) is built.
//!
//! Knows nothing of where approved items or run records are stored: the
//! scheduler talks to a [`schedule::RunLog`] and a [`schedule::Job`], and
//! assembly takes the items it is given, in editor order.

pub mod build;
pub mod config;
pub mod deliver;
pub mod fit;
mod layout;
pub mod manifest;
mod outputs;
mod plan;
pub mod schedule;
mod speak;
pub mod spoken_date;
mod timeline;

pub use build::{BuiltBulletin, BulletinError, BulletinItem, build};
pub use config::{BulletinConfig, BulletinConfigError, Slot};
pub use deliver::{Delivered, FileNames, deliver};
pub use fit::Fit;
pub use manifest::Manifest;
pub use schedule::{RunKey, RunLog, Scheduler};
pub use speak::GreetingVoice;
