//! The daily bulletin (bản tin): its configuration (`[bulletin]` in
//! bantin.toml), the spoken date and greeting, assembling the programme from
//! approved items between jingles, fitting it to its slot, delivering it
//! atomically into the playout drop folder, and the scheduler that decides
//! when each (date, slot) is built.
//!
//! Knows nothing of where approved items or run records are stored: the
//! scheduler talks to a [`schedule::RunLog`] and a [`schedule::Job`], and
//! assembly takes the items it is given, in editor order.

pub mod assemble;
pub mod config;
pub mod fit;
pub mod schedule;
pub mod spoken_date;

pub use assemble::{
    AssembleError, Assembled, BulletinItem, Delivered, Manifest, assemble, deliver,
};
pub use config::{BulletinConfig, ConfigError, Slot};
pub use fit::Fit;
pub use schedule::{RunKey, RunLog, Scheduler};
