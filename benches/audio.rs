//! Assembling (converting 22.05 kHz speech to 48 kHz into place) and
//! loudness-normalizing 15 minutes of speech on one core (goal: at least
//! 500× real time). The speech is real espeak-ng output of
//! the example article's cues, repeated with the script's pauses until it
//! lasts 15 minutes, so the meter sees speech and silence as in a bulletin.
//!
//!     cargo bench --bench audio
//!
//! Then writes the levelled programme as a 15-minute bulletin is delivered:
//! the 16-bit WAV, MP3 (for the loudspeaker systems and the podcast feed)
//! with the default `[mp3]` settings and with 128 kbit/s stereo, and Ogg
//! Opus with the default `[opus]`, each encoded and written atomically to a
//! file, with its speed against the WAV write (and the assembly).
//!
//! Prints one line per round and the best and median speed.

use std::time::{Duration, Instant};

use bantin::audio::mp3::{self, Channels, Mp3Settings};
use bantin::audio::opus::{self, OpusSettings};
use bantin::audio::{self, LoudnessTarget, Pcm, Segment};
use bantin::normalize::Normalizer;
use bantin::pipeline;
use bantin::settings::AudioSettings;
use bantin::voice::Voices;

const PROGRAMME: Duration = Duration::from_secs(15 * 60);
const ROUNDS: usize = 5;

fn main() {
    let article = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/articles/hung-yen-tuyen-giao-2021-07-29.txt"
    ))
    .expect("the example article is in the repository");
    let voices = Voices::builtin();
    let voice = voices.get("vi").expect("built-in voice");
    let settings = AudioSettings::default();
    let (_, script) = pipeline::prepare(
        &article,
        Some("tin.txt"),
        &Normalizer::builtin().expect("built-in lexicon"),
        voice,
        &settings,
    )
    .expect("the example article reads");
    // One speech segment per cue at espeak-ng's 22.05 kHz, converted to
    // 48 kHz as it is assembled, as in a render (synthesis is not timed).
    let synth = voice.synthesizer();
    let cues: Vec<Segment> = script
        .cues
        .iter()
        .map(|cue| {
            Segment::whole(
                synth.synthesize(&cue.spoken).expect("espeak-ng speaks"),
                cue.pause_after.max(Duration::from_millis(450)),
            )
        })
        .collect();
    let mut segments = Vec::new();
    let mut length = Duration::ZERO;
    while length < PROGRAMME {
        for cue in &cues {
            length += cue.parts[0].duration() + cue.pause_after;
            segments.push(cue.clone());
        }
    }
    let mut speeds = Vec::new();
    let mut levelled = Pcm::new(settings.sample_rate_hz, Vec::new());
    for round in 0..ROUNDS {
        let started = Instant::now();
        let mut program =
            audio::mix(&segments, settings.sample_rate_hz, 1).expect("converts to 48 kHz");
        let loudness = audio::normalize(&mut program.pcm, LoudnessTarget::default())
            .expect("speech is not silent");
        let elapsed = started.elapsed();
        let seconds = program.pcm.duration().as_secs_f64();
        let speed = seconds / elapsed.as_secs_f64();
        speeds.push(speed);
        println!(
            "round {round}: {seconds:.0} s of audio assembled and levelled in {:.3} s = {speed:.0}x real time ({:.2} LUFS, {:.2} dBTP)",
            elapsed.as_secs_f64(),
            loudness.integrated_lufs,
            loudness.true_peak_dbtp
        );
        levelled = std::hint::black_box(program.pcm);
    }
    speeds.sort_by(f64::total_cmp);
    let baseline = speeds[ROUNDS / 2];
    println!(
        "assemble (22.05 -> 48 kHz) + normalize, 15 min, one thread: median {baseline:.0}x, best {:.0}x real time",
        speeds[ROUNDS - 1]
    );

    // The delivered forms of a 15-minute bulletin, each timed from the
    // levelled programme to a file on disk, against writing the WAV.
    let folder = tempfile::tempdir().expect("a temporary folder");
    let median_speed = |name: &str, encode: &dyn Fn() -> Vec<u8>| {
        let mut speeds = Vec::new();
        let mut size = 0;
        for round in 0..3 {
            let started = Instant::now();
            let bytes = encode();
            bantin::output::write_atomic(&folder.path().join(format!("{name}-{round}")), &bytes)
                .expect("the temporary folder takes the file");
            speeds.push(levelled.duration().as_secs_f64() / started.elapsed().as_secs_f64());
            size = bytes.len();
        }
        speeds.sort_by(f64::total_cmp);
        (speeds[1], size)
    };
    let (wav_speed, wav_size) = median_speed("wav", &|| {
        audio::wav::encode(&levelled, audio::wav::BitDepth::Sixteen)
            .expect("the programme fits a WAV")
    });
    println!(
        "WAV 16-bit 48 kHz write, 15 min: median {wav_speed:.0}x real time, {:.1} MB",
        wav_size as f64 / 1e6
    );
    let stereo = Mp3Settings {
        bit_rate_kbps: 128,
        channels: Channels::Stereo,
        sample_rate_hz: 48_000,
    };
    for (name, mp3_settings) in [
        ("64 kbit/s mono 44.1 kHz", Mp3Settings::default()),
        ("128 kbit/s stereo 48 kHz", stereo),
    ] {
        let (speed, size) = median_speed("mp3", &|| {
            mp3::encode(&levelled, &mp3_settings, &mp3::Tags::default())
                .expect("the programme encodes")
        });
        println!(
            "MP3 {name}, 15 min: median {speed:.0}x real time, {:.1} MB ({:.3} of the WAV write's speed, {:.2} of the assembly's)",
            size as f64 / 1e6,
            speed / wav_speed,
            speed / baseline
        );
    }
    let opus_settings = OpusSettings::default();
    let (speed, size) = median_speed("opus", &|| {
        opus::encode(&levelled, &opus_settings, &mp3::Tags::default())
            .expect("the programme encodes")
    });
    println!(
        "Ogg Opus {} kbit/s mono, 15 min: median {speed:.0}x real time, {:.1} MB ({:.3} of the WAV write's speed, {:.2} of the assembly's)",
        opus_settings.bit_rate_kbps,
        size as f64 / 1e6,
        speed / wav_speed,
        speed / baseline
    );
}
