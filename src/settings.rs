//! The station's output audio settings (`[audio]` in bantin.toml): sample
//! rate, bit depth, loudness target and pauses, which every render and
//! bulletin follows, and the script timing a voice gets under them.
//! Plain data; knows nothing of how audio is made.

use serde::{Deserialize, Serialize};

use crate::audio::{LoudnessTarget, wav::BitDepth};
use crate::script::{Pauses, Timing};
use crate::voice::Voice;

/// Output audio settings (station settings).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AudioSettings {
    pub sample_rate_hz: u32,
    pub bit_depth: BitDepth,
    pub loudness: LoudnessTarget,
    pub pauses: Pauses,
}

impl Default for AudioSettings {
    fn default() -> Self {
        Self {
            sample_rate_hz: 48_000,
            bit_depth: BitDepth::Sixteen,
            loudness: LoudnessTarget::default(),
            pauses: Pauses::default(),
        }
    }
}

impl AudioSettings {
    /// Timing parameters of `voice` under these pause settings.
    pub fn timing(&self, voice: &Voice) -> Timing {
        Timing {
            syllables_per_minute: voice.syllables_per_minute,
            breath_group_syllables: voice.breath_group_syllables,
            pauses: self.pauses,
        }
    }
}
