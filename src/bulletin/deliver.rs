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
use std::path::PathBuf;

use jiff::civil::Date;

use super::build::{BuiltBulletin, BulletinError};
use super::config::BulletinConfig;
use super::manifest::Files;
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
    /// Every file, in the order they were published (the WAV last).
    pub files: Vec<PathBuf>,
}

/// Writes the bulletin's outputs into the drop folder (made if missing):
/// the sidecars first, then the WAV. If anything fails, the files of this
/// delivery are removed again.
///
/// # Errors
/// [`BulletinError::Write`] naming the drop folder (unwritable, full),
/// [`BulletinError::Encode`] for audio a WAV cannot hold.
pub fn deliver(
    bulletin: &BuiltBulletin,
    config: &BulletinConfig,
    settings: &AudioSettings,
) -> Result<Delivered, BulletinError> {
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
    let delivery = &delivery;
    let entries = in_order()
        .map(|output| Entry::new(names.of(output), move |out| output.write(delivery, out)))
        .collect();
    let files = publish(&names.folder, entries).map_err(|source| BulletinError::Write {
        folder: names.folder.display().to_string(),
        source,
    })?;
    Ok(Delivered {
        wav: names.folder.join(&names.wav),
        files,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::wav;
    use crate::bulletin::build::tests::{build, config, item};

    #[test]
    fn delivers_four_files_and_leaves_no_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let config = config(dir.path(), false, 15.0);
        let built = build(&config, vec![item("a", "Tin một\n\nCâu thứ nhất.")]).unwrap();
        // A drop folder that cannot be made is named in the error.
        std::fs::write(dir.path().join("drop"), b"a file").unwrap();
        let blocked = deliver(&built, &config, &AudioSettings::default())
            .unwrap_err()
            .to_string();
        assert!(blocked.contains("drop folder"), "{blocked}");
        std::fs::remove_file(dir.path().join("drop")).unwrap();
        // A missing one is made.
        let delivered = deliver(&built, &config, &AudioSettings::default()).unwrap();
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
        let built = build(&config, vec![item("a", "Tin một\n\nCâu thứ nhất.")]).unwrap();
        let delivered = deliver(&built, &config, &AudioSettings::default()).unwrap();
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
}
