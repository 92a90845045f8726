//! bantin turns Vietnamese news articles into broadcast-ready speech.
//!
//! # Pipeline
//!
//! ```text
//! bytes (txt | html | docx) --ingest::read--> Article { title, published, byline, text, blocks, dropped }
//!   --segment::split--> Sentence { span, paragraph } --segment::breath_groups--> parts
//!   --normalize::Normalizer::expand--> Token { span, spoken, kind, rule }   (never fails)
//!   --script::build--> Script { cues: [Cue { id, paragraph, text, spoken, start, end }] }
//!   --speak (tts::Synthesizer, cached)--> per-cue Pcm --audio::mix--> Program (f32)
//!   --audio::level--> --audio::wav--> WAV, written by output
//! ```
//!
//! Every stage is a plain function over plain types and can be used without the
//! server or the CLI. Only `ingest`, `tts`, `output`, the cache, the store and the
//! CLI do I/O. [`pipeline`] chains the stages the way the CLI, the service and
//! the bulletin use them; [`speak`] is where cues become audio; [`settings`]
//! holds the station's audio settings; [`output`] is the one atomic writer.
//!
//! A `span` is always a byte range into [`ingest::Article::text`]: every spoken
//! word keeps the place it came from, so an editor can see why it is read so.

pub mod audio;
pub mod billing;
pub mod bulletin;
pub mod cache;
pub mod calibrate;
pub mod config;
pub mod diff;
pub mod feed;
pub mod hooks;
pub mod ingest;
pub mod limits;
pub mod listen;
pub mod memory;
pub mod normalize;
pub mod output;
pub mod pipeline;
pub mod script;
pub mod segment;
pub mod server;
pub mod settings;
pub mod speak;
pub mod store;
pub mod text;
pub mod tts;
pub mod voice;
pub mod web;

pub use ingest::Article;
pub use normalize::{Normalizer, Token};
pub use script::{Cue, Script};
pub use segment::Sentence;
