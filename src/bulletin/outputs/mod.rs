//! The files a bulletin is delivered as, one type each, implementing
//! [`super::deliver::Output`]; [`super::deliver::SIDECARS`] lists them.
//! Rivendell's RDXML sidecar is [`Rdxml`].

mod manifest_file;
mod rdxml;
mod script_json;
mod script_text;
mod wav;

pub use manifest_file::ManifestFile;
pub use rdxml::Rdxml;
pub use script_json::ScriptJson;
pub use script_text::ScriptText;
pub use wav::Wav;
