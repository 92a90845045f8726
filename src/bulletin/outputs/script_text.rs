//! The bulletin's script as the announcer's text, for reading along or
//! reading live when the audio cannot be played.

use std::io;

use crate::bulletin::deliver::{Delivery, Output};
use crate::script::format::Format;

pub struct ScriptText;

impl Output for ScriptText {
    fn key(&self) -> &'static str {
        "script_txt"
    }

    fn suffix(&self) -> &'static str {
        ".txt"
    }

    fn write(&self, delivery: &Delivery<'_>, mut out: &mut dyn io::Write) -> io::Result<()> {
        Format::Txt.write(&delivery.bulletin.script, &mut out)
    }
}
