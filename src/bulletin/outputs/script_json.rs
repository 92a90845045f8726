//! The bulletin's script as JSON (measured cue times), as `bantin script`
//! writes an article's.

use std::io;

use crate::bulletin::deliver::{Delivery, Output};
use crate::script::format::Format;

pub struct ScriptJson;

impl Output for ScriptJson {
    fn key(&self) -> &'static str {
        "script_json"
    }

    fn suffix(&self) -> &'static str {
        ".json"
    }

    fn write(&self, delivery: &Delivery<'_>, mut out: &mut dyn io::Write) -> io::Result<()> {
        Format::Json.write(&delivery.bulletin.script, &mut out)
    }
}
