//! Delivering a bulletin into the playout drop folder: every output in
//! [`outputs`] (the Broadcast WAV and its sidecars: script JSON and text,
//! manifest) is published at once through [`crate::output::publish`],
//! which writes each file in full before renaming any and renames the WAV
//! last, so a playout system watching for WAV files never sees a bulletin
//! without its sidecars or a half file.
//!
//! A new sidecar (a playout system's XML, an MP3) is a new type in
//! `outputs/` implementing [`Output`] and one line in [`SIDECARS`]; the
//! station names the sidecars it wants (`[bulletin] sidecars`).

use std::io;
use std::path::{Path, PathBuf};

use jiff::civil::Date;

use super::build::{BuiltBulletin, BulletinError};
use super::config::{BulletinConfig, FEED_NEEDS};
use super::manifest::{Files, ManifestCheck};
use super::outputs;
use crate::output::{Entry, publish};
use crate::settings::AudioSettings;

/// What an output is written from.
pub struct Delivery<'a> {
    pub bulletin: &'a BuiltBulletin,
    pub config: &'a BulletinConfig,
    pub settings: &'a AudioSettings,
}

/// One file of a delivered bulletin.
pub trait Output: Sync {
    /// Its key in the manifest's `files` (`wav`, `script_json`, …).
    fn key(&self) -> &'static str;
    /// What follows the bulletin's stem in its file name (`.wav`,
    /// `.manifest.json`).
    fn suffix(&self) -> &'static str;
    /// Refuses, before anything is written, a bulletin this output cannot
    /// hold.
    ///
    /// # Errors
    /// [`BulletinError`] saying why.
    fn check(&self, _delivery: &Delivery<'_>) -> Result<(), BulletinError> {
        Ok(())
    }
    /// Writes the file.
    ///
    /// # Errors
    /// `out`'s errors.
    fn write(&self, delivery: &Delivery<'_>, out: &mut dyn io::Write) -> io::Result<()>;
}

/// The Broadcast WAV: the file the playout system waits for, published last.
pub const WAV: &dyn Output = &outputs::Wav;

/// Every file that may be published beside the WAV, in the order they are
/// renamed into place (all before the WAV).
pub const SIDECARS: &[&dyn Output] = &[
    &outputs::ScriptJson,
    &outputs::ScriptText,
    &outputs::ManifestFile,
    &outputs::Rdxml,
    &outputs::Mp3,
    &outputs::Opus,
];

/// The sidecars a station gets when it names none.
pub const DEFAULT_SIDECARS: [&str; 3] = ["script_json", "script_txt", "manifest"];

/// The sidecar whose key is `key`.
pub fn sidecar(key: &str) -> Option<&'static dyn Output> {
    SIDECARS.iter().copied().find(|o| o.key() == key)
}

/// The sidecars `config` asks for, in [`SIDECARS`] order.
fn chosen_sidecars(config: &BulletinConfig) -> impl Iterator<Item = &'static dyn Output> + '_ {
    SIDECARS
        .iter()
        .copied()
        .filter(|o| config.sidecars.iter().any(|k| k == o.key()))
}

/// The files of one bulletin in the drop folder.
#[derive(Debug, Clone)]
pub struct FileNames {
    pub folder: PathBuf,
    /// The keys of the sidecars delivered, in [`SIDECARS`] order.
    pub sidecars: Vec<&'static str>,
    /// The file name without its suffix.
    pub stem: String,
    pub wav: String,
    pub script_json: String,
    pub script_txt: String,
    pub manifest: String,
}

impl FileNames {
    pub fn new(config: &BulletinConfig, date: Date, slot: &str) -> FileNames {
        let wav = config.file_name(date, slot);
        let stem = wav
            .strip_suffix(WAV.suffix())
            .expect("the file pattern ends in .wav")
            .to_string();
        let name = |output: &dyn Output| format!("{stem}{}", output.suffix());
        FileNames {
            folder: config.drop_folder.clone(),
            sidecars: chosen_sidecars(config).map(|o| o.key()).collect(),
            script_json: name(&outputs::ScriptJson),
            script_txt: name(&outputs::ScriptText),
            manifest: name(&outputs::ManifestFile),
            wav,
            stem,
        }
    }

    /// The name of `output`'s file.
    pub fn of(&self, output: &dyn Output) -> String {
        format!("{}{}", self.stem, output.suffix())
    }

    /// Every delivered file's name by its key, the WAV first.
    pub fn files(&self) -> Files {
        let sidecars = self.sidecars.iter().filter_map(|k| sidecar(k));
        Files(
            std::iter::once(WAV)
                .chain(sidecars)
                .map(|o| (o.key(), self.of(o)))
                .collect(),
        )
    }
}

/// Paths of a delivered bulletin.
#[derive(Debug, Clone)]
pub struct Delivered {
    pub wav: PathBuf,
    /// The listen check's summary ("checked, no cue flagged …"), when run.
    pub check: Option<String>,
    /// Every file, in the order they were published (the WAV last).
    pub files: Vec<PathBuf>,
}

/// Writes the bulletin's outputs into the drop folder (made if missing):
/// the sidecars first, then the WAV. If anything fails, the files of this
/// delivery are removed again. With the listen check on, the bulletin is
/// heard back first and the outcome goes into its manifest; a flagged cue
/// holds it back when the station says so (`[listen] hold_bulletin_on_flag`).
/// With a podcast feed, what it reads (MP3, manifest, script) is then kept
/// in the feed's folder; a failure there is logged and the delivery stands.
///
/// # Errors
/// [`BulletinError::Write`] naming the drop folder (unwritable, full),
/// [`BulletinError::Encode`] for audio a WAV cannot hold,
/// [`BulletinError::Held`] naming the flagged cues.
pub fn deliver(
    bulletin: &mut BuiltBulletin,
    config: &BulletinConfig,
    settings: &AudioSettings,
) -> Result<Delivered, BulletinError> {
    if let Some(listen) = &config.listen {
        let outcome = listen.check(
            &bulletin.manifest.made.voice,
            &bulletin.pcm,
            &bulletin.script,
        );
        let check = ManifestCheck::of(&outcome, &bulletin.script);
        if listen.settings.hold_bulletin_on_flag && check.flagged > 0 {
            return Err(BulletinError::Held {
                reason: held_reason(&check),
            });
        }
        bulletin.manifest.listen_check = Some(check);
    }
    let bulletin = &*bulletin;
    let manifest = &bulletin.manifest;
    let date: Date = manifest.date.parse().expect("the manifest's own date");
    let names = FileNames::new(config, date, &manifest.slot);
    let delivery = Delivery {
        bulletin,
        config,
        settings,
    };
    let in_order = || chosen_sidecars(config).chain(std::iter::once(WAV));
    for output in in_order() {
        output.check(&delivery)?;
    }
    if config.feed_folder.is_some() {
        for output in feed_outputs() {
            output.check(&delivery)?;
        }
    }
    let delivery = &delivery;
    let entries = in_order()
        .map(|output| Entry::new(names.of(output), move |out| output.write(delivery, out)))
        .collect();
    let files = publish(&names.folder, entries).map_err(|source| BulletinError::Write {
        folder: names.folder.display().to_string(),
        source,
    })?;
    if let Some(folder) = &config.feed_folder
        && let Err(e) = keep_for_feed(folder, &names, delivery)
    {
        // Delivered all the same: playout has it, the feed will have the next.
        tracing::warn!(
            "the podcast feed misses the {} bulletin of {}: cannot keep it in {}: {e}",
            manifest.slot,
            manifest.date,
            folder.display()
        );
    }
    Ok(Delivered {
        wav: names.folder.join(&names.wav),
        check: manifest.listen_check.as_ref().map(|c| c.summary.clone()),
        files,
    })
}

/// The outputs the podcast feed reads.
fn feed_outputs() -> impl Iterator<Item = &'static dyn Output> {
    FEED_NEEDS.iter().filter_map(|key| sidecar(key))
}

/// Puts what the feed reads into its folder, copied from the drop folder
/// when delivered there too (the MP3 is encoded once) and still there,
/// written afresh otherwise; then keeps only the newest bulletins the feed
/// lists.
///
/// # Errors
/// I/O errors writing into `folder` or removing old files from it.
fn keep_for_feed(folder: &Path, names: &FileNames, delivery: &Delivery<'_>) -> io::Result<()> {
    let entries = feed_outputs()
        .map(|output| {
            let delivered = names
                .sidecars
                .contains(&output.key())
                .then(|| names.folder.join(names.of(output)));
            Entry::new(names.of(output), move |out| {
                if let Some(Ok(mut file)) = delivered.map(std::fs::File::open) {
                    return io::copy(&mut file, out).map(|_| ());
                }
                output.write(delivery, out)
            })
        })
        .collect();
    publish(folder, entries)?;
    match &delivery.config.feed {
        Some(feed) => prune_feed_folder(folder, feed.items),
        None => Ok(()),
    }
}

/// Keeps the `keep` newest bulletins in the feed's folder (by when their
/// manifest was written: the feed lists no more) and removes the others'
/// files.
///
/// # Errors
/// I/O errors listing the folder or removing a file.
fn prune_feed_folder(folder: &Path, keep: usize) -> io::Result<()> {
    let mut manifests = Vec::new();
    for entry in std::fs::read_dir(folder)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(stem) = name.strip_suffix(outputs::ManifestFile.suffix()) {
            manifests.push((entry.metadata()?.modified()?, stem.to_string()));
        }
    }
    manifests.sort_by(|a, b| b.cmp(a));
    for (_, stem) in manifests.iter().skip(keep) {
        for output in feed_outputs() {
            match std::fs::remove_file(folder.join(format!("{stem}{}", output.suffix()))) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
    }
    Ok(())
}

/// Why a bulletin is held: the flagged cues, where they are and what was
/// heard, for the run record.
fn held_reason(check: &ManifestCheck) -> String {
    let cues: Vec<String> = check
        .flagged_cues
        .iter()
        .map(|c| {
            format!(
                "cue {} at {} (heard {:?})",
                c.id,
                crate::script::clock(std::time::Duration::from_millis(c.start_ms)),
                c.heard
            )
        })
        .collect();
    format!(
        "the listen check flagged {} cue{} and the station holds such bulletins \
         ([listen] hold_bulletin_on_flag): {}",
        check.flagged,
        if check.flagged == 1 { "" } else { "s" },
        cues.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::wav;
    use crate::bulletin::build::tests::{build, config, item};

    #[test]
    fn the_feed_keeps_its_copies_of_the_newest_bulletins() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = config(dir.path(), false, 15.0);
        let kept = dir.path().join("feed");
        config.feed_folder = Some(kept.clone());
        config.feed = Some(crate::bulletin::config::FeedSettings {
            name: "hy".into(),
            public: false,
            title: None,
            description: None,
            link: None,
            base_url: None,
            image: None,
            email: None,
            items: 1,
            category: "News".into(),
        });
        let mut built = build(&config, vec![item("a", "Tin một\n\nCâu thứ nhất.")]).unwrap();
        deliver(&mut built, &config, &AudioSettings::default()).unwrap();
        let listing = |folder: &Path| {
            let mut names: Vec<String> = std::fs::read_dir(folder)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names
        };
        let first = ["json", "manifest.json", "mp3"].map(|s| format!("BANTIN_2021-07-29_sang.{s}"));
        assert_eq!(listing(&kept), first);
        // The drop folder gets only what the station chose, without the MP3.
        assert!(
            !listing(&dir.path().join("drop"))
                .iter()
                .any(|n| n.ends_with(".mp3"))
        );
        let manifest = kept.join(&first[1]);
        assert_eq!(
            std::fs::read(&manifest).unwrap(),
            std::fs::read(dir.path().join("drop").join(&first[1])).unwrap()
        );
        // An hour older, then another bulletin: the feed keeps one.
        std::fs::File::options()
            .write(true)
            .open(&manifest)
            .unwrap()
            .set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(3600))
            .unwrap();
        config.file_pattern = "TIN_{date}_{slot}.wav".into();
        deliver(&mut built, &config, &AudioSettings::default()).unwrap();
        assert_eq!(
            listing(&kept),
            ["json", "manifest.json", "mp3"].map(|s| format!("TIN_2021-07-29_sang.{s}"))
        );
    }

    #[test]
    fn delivers_four_files_and_leaves_no_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let config = config(dir.path(), false, 15.0);
        let mut built = build(&config, vec![item("a", "Tin một\n\nCâu thứ nhất.")]).unwrap();
        // A drop folder that cannot be made is named in the error.
        std::fs::write(dir.path().join("drop"), b"a file").unwrap();
        let blocked = deliver(&mut built, &config, &AudioSettings::default())
            .unwrap_err()
            .to_string();
        assert!(blocked.contains("drop folder"), "{blocked}");
        std::fs::remove_file(dir.path().join("drop")).unwrap();
        // A missing one is made.
        let delivered = deliver(&mut built, &config, &AudioSettings::default()).unwrap();
        let mut names: Vec<String> = std::fs::read_dir(dir.path().join("drop"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let expected =
            ["json", "manifest.json", "txt", "wav"].map(|s| format!("BANTIN_2021-07-29_sang.{s}"));
        assert_eq!(names, expected);
        // Published in order, the WAV last.
        assert_eq!(delivered.files.last(), Some(&delivered.wav));
        assert_eq!(delivered.files.len(), 4);
        let bytes = std::fs::read(&delivered.wav).unwrap();
        assert_eq!(&bytes[12..16], b"bext");
        let bext = wav::read_bext(&bytes).unwrap();
        assert_eq!(bext.originator, "bantin");
        assert_eq!(bext.originator_reference, "2021-07-29_sang");
        assert!(
            bext.coding_history
                .starts_with("A=PCM,F=48000,W=16,M=mono,T=bantin ")
        );
        assert_eq!(
            wav::decode(&bytes).unwrap().samples.len(),
            built.pcm.samples.len()
        );
        // The manifest lists the files by key, the WAV first.
        let manifest = std::fs::read_to_string(delivered.files[2].as_path()).unwrap();
        let keys: Vec<usize> = [
            "\"wav\"",
            "\"script_json\"",
            "\"script_txt\"",
            "\"manifest\"",
        ]
        .iter()
        .map(|k| manifest.find(k).unwrap())
        .collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "{manifest}");
        let json: serde_json::Value = serde_json::from_str(&manifest).unwrap();
        assert_eq!(json["files"]["wav"], "BANTIN_2021-07-29_sang.wav");
        assert_eq!(
            json["files"]["manifest"],
            "BANTIN_2021-07-29_sang.manifest.json"
        );
    }

    /// Delivered files get the mode any new file gets (0666 less the umask,
    /// so the playout system's user reads them under the usual 022), as
    /// every file bantin writes does.
    #[cfg(unix)]
    #[test]
    fn delivered_files_get_the_mode_of_a_new_file() {
        use std::os::unix::fs::PermissionsExt;
        let mode =
            |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o7777;
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain");
        std::fs::File::create(&plain).unwrap();
        let config = config(dir.path(), false, 15.0);
        let mut built = build(&config, vec![item("a", "Tin một\n\nCâu thứ nhất.")]).unwrap();
        let delivered = deliver(&mut built, &config, &AudioSettings::default()).unwrap();
        for path in &delivered.files {
            assert_eq!(mode(path), mode(&plain), "{}", path.display());
        }
    }

    #[test]
    fn file_names_follow_the_outputs() {
        let dir = tempfile::tempdir().unwrap();
        let config = config(dir.path(), false, 15.0);
        let names = FileNames::new(&config, Date::new(2021, 7, 29).unwrap(), "sang");
        assert_eq!(names.stem, "BANTIN_2021-07-29_sang");
        assert_eq!(names.manifest, "BANTIN_2021-07-29_sang.manifest.json");
        let files = names.files();
        assert_eq!(
            files.0.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
            ["wav", "script_json", "script_txt", "manifest"]
        );
        assert_eq!(files.get("script_txt"), Some("BANTIN_2021-07-29_sang.txt"));

        let mut with_rdxml = config.clone();
        with_rdxml.sidecars = vec!["rdxml".into(), "manifest".into()];
        let names = FileNames::new(&with_rdxml, Date::new(2021, 7, 29).unwrap(), "sang");
        assert_eq!(
            names.files().0,
            [
                ("wav", "BANTIN_2021-07-29_sang.wav".to_string()),
                (
                    "manifest",
                    "BANTIN_2021-07-29_sang.manifest.json".to_string()
                ),
                ("rdxml", "BANTIN_2021-07-29_sang.xml".to_string()),
            ]
        );
    }

    /// The MP3 and Opus outputs decode to the WAV's length (within a
    /// frame) and loudness (within 0.5 LU) and name the bulletin in UTF-8.
    #[test]
    fn mp3_and_opus_carry_the_programme_and_its_tags() {
        use id3::TagLike;
        let dir = tempfile::tempdir().unwrap();
        let mut config = config(dir.path(), false, 15.0);
        config.sidecars = vec!["mp3".into(), "opus".into(), "manifest".into()];
        config.encodings.mp3.sample_rate_hz = 48_000;
        let mut built = build(
            &config,
            vec![item(
                "a",
                "Tin một\n\nCâu thứ nhất. Câu thứ hai dài hơn một chút.",
            )],
        )
        .unwrap();
        let delivered = deliver(&mut built, &config, &AudioSettings::default()).unwrap();
        let names: Vec<String> = delivered
            .files
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            ["manifest.json", "mp3", "opus", "wav"].map(|s| format!("BANTIN_2021-07-29_sang.{s}"))
        );
        let wav = crate::audio::wav::decode(&std::fs::read(&delivered.wav).unwrap()).unwrap();
        let wav_lufs = crate::audio::measure(&wav).integrated_lufs;
        let frame_s = 1152.0 / 48_000.0;

        let mp3 = std::fs::read(&delivered.files[1]).unwrap();
        let tag = id3::Tag::read_from2(std::io::Cursor::new(&mp3)).unwrap();
        assert_eq!(tag.title(), Some(built.script.title.as_str()));
        assert!(tag.title().unwrap().contains("sáng"), "{:?}", tag.title());
        assert_eq!(tag.artist(), Some(built.manifest.station.as_str()));
        assert_eq!(tag.album(), Some("Bản tin sáng"));
        assert_eq!(
            tag.get("TDRC").and_then(|f| f.content().text()),
            Some("2021-07-29")
        );
        let decoded = crate::tts::mp3::decode(&mp3).unwrap();
        let seconds =
            |pcm: &crate::audio::Pcm| pcm.samples.len() as f64 / f64::from(pcm.sample_rate_hz);
        assert!(
            (seconds(&decoded) - seconds(&wav)).abs() <= frame_s,
            "{} vs {}",
            seconds(&decoded),
            seconds(&wav)
        );
        let lufs = crate::audio::measure(&decoded).integrated_lufs;
        assert!(
            (lufs - wav_lufs).abs() < 0.5,
            "MP3 {lufs} vs WAV {wav_lufs}"
        );

        let opus =
            crate::audio::opus::decode(&std::fs::read(&delivered.files[2]).unwrap()).unwrap();
        assert_eq!(opus.comment("TITLE"), Some(built.script.title.as_str()));
        assert_eq!(opus.comment("DATE"), Some("2021-07-29"));
        assert_eq!(opus.comment("ALBUM"), Some("Bản tin sáng"));
        assert!(
            (seconds(&opus.pcm) - seconds(&wav)).abs() <= 0.02,
            "{} vs {}",
            seconds(&opus.pcm),
            seconds(&wav)
        );
        let lufs = crate::audio::measure(&opus.pcm).integrated_lufs;
        assert!(
            (lufs - wav_lufs).abs() < 0.5,
            "Opus {lufs} vs WAV {wav_lufs}"
        );
    }

    /// The bulletin's config with the listen check on and a recognizer that
    /// hears nothing, so every cue is flagged.
    fn deaf_listener(dir: &std::path::Path, hold: bool) -> BulletinConfig {
        let mut config = config(dir, false, 15.0);
        config.listen = Some(crate::listen::BulletinListen {
            settings: crate::listen::ListenSettings {
                enabled: true,
                command: Some(
                    ["sh", "-c", r#"echo '{"text": ""}'"#, "sh", "{wav}"]
                        .map(String::from)
                        .to_vec(),
                ),
                hold_bulletin_on_flag: hold,
                ..Default::default()
            },
            data_dir: dir.to_path_buf(),
        });
        config
    }

    #[test]
    fn the_listen_check_goes_into_the_manifest_and_may_hold_the_bulletin() {
        let dir = tempfile::tempdir().unwrap();
        let items = || vec![item("a", "Tin một\n\nCâu thứ nhất. Câu thứ hai.")];

        let config = deaf_listener(dir.path(), false);
        let mut built = build(&config, items()).unwrap();
        let cues = built.script.cues.len();
        let delivered = deliver(&mut built, &config, &AudioSettings::default()).unwrap();
        assert_eq!(
            delivered.check.as_deref(),
            Some(format!("checked, {cues} cues flagged").as_str())
        );
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&delivered.files[2]).unwrap()).unwrap();
        let check = &manifest["listen_check"];
        assert_eq!(check["status"], "checked", "{manifest}");
        assert_eq!(check["flagged"], cues);
        assert_eq!(check["flagged_cues"][0]["heard"], "");
        assert!(check["flagged_cues"][0]["end_ms"].as_u64().unwrap() > 0);

        let held_dir = tempfile::tempdir().unwrap();
        let config = deaf_listener(held_dir.path(), true);
        let mut built = build(&config, items()).unwrap();
        let held = deliver(&mut built, &config, &AudioSettings::default())
            .unwrap_err()
            .to_string();
        assert!(
            held.starts_with("held, not delivered") && held.contains("hold_bulletin_on_flag"),
            "{held}"
        );
        assert!(held.contains("cue 1 at"), "{held}");
        assert!(!held_dir.path().join("drop").exists());
    }
}
