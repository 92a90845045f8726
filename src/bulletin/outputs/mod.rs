//! The files a bulletin is delivered as, one type each, implementing
//! [`super::deliver::Output`]; [`super::deliver::SIDECARS`] lists them.

mod manifest_file;
mod script_json;
mod script_text;
mod wav;

pub use manifest_file::ManifestFile;
pub use script_json::ScriptJson;
pub use script_text::ScriptText;
pub use wav::Wav;
