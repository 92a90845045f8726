//! Writing output files safely: the only way bantin puts a file on disk.
//!
//! Owns what happens at the path a user, the store or the bulletin names:
//! - a regular file, or a path where nothing is yet, is written atomically:
//!   a temporary file in the same folder, handed to the disk as it grows,
//!   synced, then renamed over the target. A crash, or an error while
//!   filling it, leaves the old file or none, and no temporary. A file that
//!   is replaced keeps its permissions (and, when bantin runs as root, its
//!   owner); a new one gets the mode any new file gets (0666 less the umask);
//! - a symbolic link is written through: the file it points to is replaced,
//!   the link stays a link (a dangling link's target is created);
//! - a pipe, a terminal or `/dev/null` is written straight into, as a shell
//!   redirection would (there is nothing to replace atomically);
//! - anything else (a folder, a block or other character device, a socket)
//!   is refused with [`std::io::ErrorKind::InvalidInput`]: bantin never
//!   replaces what is not a regular file.
//!
//! The CLI's `-` (standard output) goes through [`write_with`].
//!
//! A set of files that belong together (a bulletin's WAV and its sidecars)
//! is put in a folder with [`publish`]: all written first, then renamed in
//! the order given, so a watcher waiting for the last one sees all or none.
//!
//! Knows nothing of what is written: callers pass bytes or a filler.

use std::fs::{File, Metadata};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The path that names standard output in the CLI's `-o` and `--script`.
pub const STDOUT: &str = "-";

/// Writes to `path` what `fill` writes, or to standard output when the path
/// is `-` ([`STDOUT`]), as the CLI's output options take it.
///
/// # Errors
/// As [`write_atomic_with`], and errors writing to standard output.
pub fn write_with(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    if path == Path::new(STDOUT) {
        let stdout = io::stdout();
        let mut out = io::BufWriter::with_capacity(256 * 1024, stdout.lock());
        fill(&mut out)?;
        return out.flush();
    }
    write_atomic_with(path, fill)
}

/// Writes `bytes` to `path` (see the module doc for what each kind of path
/// gets).
///
/// # Errors
/// I/O errors creating, writing, syncing or renaming; `InvalidInput` for a
/// path that names neither a regular file nor something written straight
/// into.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic_with(path, |out| out.write_all(bytes))
}

/// Writes to `path` what `fill` writes (buffered; see the module doc for
/// what each kind of path gets). An error from `fill` leaves the old file
/// or none.
///
/// # Errors
/// I/O errors creating, writing (`fill`'s included), syncing or renaming;
/// `InvalidInput` for a path that is not a regular file, a pipe, a
/// terminal or `/dev/null`.
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    match Target::of(path)? {
        Target::File { path, existing } => replace(&path, existing.as_ref(), fill),
        Target::Stream => {
            let file = std::fs::OpenOptions::new().write(true).open(path)?;
            let mut out = io::BufWriter::with_capacity(256 * 1024, file);
            fill(&mut out)?;
            out.flush()
        }
    }
}

/// What a path names, once symbolic links are followed.
#[derive(Debug)]
enum Target {
    /// A regular file (`existing`) or nothing yet, at the real `path`.
    File {
        path: PathBuf,
        existing: Option<Metadata>,
    },
    /// A pipe, a terminal or the null device: written straight into.
    Stream,
}

impl Target {
    fn of(path: &Path) -> io::Result<Target> {
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_file() => Ok(Target::File {
                path: std::fs::canonicalize(path)?,
                existing: Some(meta),
            }),
            Ok(meta) => {
                if is_stream(&meta) {
                    Ok(Target::Stream)
                } else {
                    Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!(
                            "{} is {}, not a regular file: bantin only replaces regular files",
                            path.display(),
                            describe(&meta)
                        ),
                    ))
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Target::File {
                path: dangling_target(path)?,
                existing: None,
            }),
            Err(e) => Err(e),
        }
    }
}

/// Whether a non-regular file is one a shell redirection writes into
/// harmlessly: a pipe, a terminal, or the null device.
#[cfg(unix)]
fn is_stream(meta: &Metadata) -> bool {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let kind = meta.file_type();
    if kind.is_fifo() {
        return true;
    }
    if !kind.is_char_device() {
        return false;
    }
    let rdev = meta.rdev();
    let (major, minor) = (libc::major(rdev), libc::minor(rdev));
    // /dev/null is 1:3; terminals are 4 (virtual consoles, serial), 5:0
    // (/dev/tty) and 136–143 (pseudo-terminals). Other character devices
    // (memory, ports, disks' raw nodes) are never written.
    (major == 1 && minor == 3)
        || major == 4
        || (major == 5 && minor == 0)
        || (136..=143).contains(&major)
}

#[cfg(not(unix))]
fn is_stream(_meta: &Metadata) -> bool {
    false
}

fn describe(meta: &Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let kind = meta.file_type();
        if kind.is_block_device() {
            return "a block device";
        }
        if kind.is_char_device() {
            return "a device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    if meta.is_dir() {
        "a folder"
    } else {
        "a special file"
    }
}

/// Where a path that names nothing yet will be created: itself, or, for a
/// dangling symbolic link (chain), the path its last link points to.
fn dangling_target(path: &Path) -> io::Result<PathBuf> {
    let mut current = path.to_path_buf();
    // The kernel's own bound on links followed in one lookup.
    for _ in 0..40 {
        match std::fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let link = std::fs::read_link(&current)?;
                current = match current.parent() {
                    Some(dir) if link.is_relative() => dir.join(link),
                    _ => link,
                };
            }
            _ => return Ok(current),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("{}: too many levels of symbolic links", path.display()),
    ))
}

fn replace(
    path: &Path,
    existing: Option<&Metadata>,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    stage(path, existing, fill)?
        .persist(path)
        .map_err(|e| e.error)?;
    Ok(())
}

/// Writes what `fill` writes to a temporary file beside `path` (buffered,
/// handed to the disk as it grows, synced) with the mode and owner the
/// file at `path` is to have; renaming it over `path` is the caller's.
fn stage(
    path: &Path,
    existing: Option<&Metadata>,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<tempfile::NamedTempFile> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(TEMP_PREFIX).suffix(TEMP_SUFFIX);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // A replaced file keeps its mode; a new one is readable by the
        // station's other programs (playout, a web server) as any file the
        // user makes is, not private like a temporary file.
        let mode = existing.map_or(0o666, |m| m.permissions().mode() & 0o7777);
        builder.permissions(std::fs::Permissions::from_mode(mode));
    }
    let temp = builder.tempfile_in(folder_of(path))?;
    #[cfg(unix)]
    if let Some(meta) = existing {
        keep_owner(temp.as_file(), meta);
    }
    let mut out = io::BufWriter::with_capacity(
        256 * 1024,
        EarlyWriteback {
            file: temp,
            written: 0,
            handed: 0,
        },
    );
    fill(&mut out)?;
    let temp = out.into_inner().map_err(|e| e.into_error())?.file;
    temp.as_file().sync_all()?;
    Ok(temp)
}

/// The folder a file is in (`.` for a bare name).
fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// What writes a file's bytes.
type Filler<'a> = Box<dyn FnOnce(&mut dyn Write) -> io::Result<()> + 'a>;

/// One file of a [`publish`]ed set: its name in the folder and what fills it.
pub struct Entry<'a> {
    name: String,
    fill: Filler<'a>,
}

impl<'a> Entry<'a> {
    /// The file `name`, filled by what `fill` writes.
    pub fn new(
        name: impl Into<String>,
        fill: impl FnOnce(&mut dyn Write) -> io::Result<()> + 'a,
    ) -> Entry<'a> {
        Entry {
            name: name.into(),
            fill: Box::new(fill),
        }
    }

    /// The file `name`, holding `bytes`.
    pub fn bytes(name: impl Into<String>, bytes: &'a [u8]) -> Entry<'a> {
        Entry::new(name, move |out| out.write_all(bytes))
    }
}

/// Puts several files into `folder` as one: every file is first written in
/// full as a temporary file beside its target (as [`write_atomic_with`]
/// does, with the same modes: a replaced file keeps its own, a new one gets
/// 0666 less the umask), and only when all are written are they renamed
/// into place, in the order given: a program that watches the folder for
/// the last one (a playout system waiting for the WAV) finds the others
/// there with it. If a file cannot be written, none is renamed; if a
/// rename fails, the files this publication already renamed are removed
/// again. The folder is made if it is missing, and synced at the end so
/// the renames survive a crash. Returns the paths written, in order.
///
/// # Errors
/// I/O errors making the folder, writing (a filler's included), syncing or
/// renaming; `InvalidInput` for a name that is a folder, a device or a pipe
/// in `folder`: a publication only replaces regular files.
pub fn publish(folder: &Path, entries: Vec<Entry<'_>>) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(folder)?;
    // Stage everything: this is where a full disk or a read-only folder fails.
    let mut staged = Vec::with_capacity(entries.len());
    for entry in entries {
        let path = folder.join(&entry.name);
        let (real, existing) = match Target::of(&path)? {
            Target::File { path, existing } => (path, existing),
            Target::Stream => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "{} is not a regular file: a publication only replaces regular files",
                        path.display()
                    ),
                ));
            }
        };
        let temp = stage(&real, existing.as_ref(), entry.fill)?;
        staged.push((path, real, temp));
    }
    // Renamed: the path asked for and the file written (another, through a link).
    let mut published: Vec<(PathBuf, PathBuf)> = Vec::with_capacity(staged.len());
    for (path, real, temp) in staged {
        if let Err(e) = temp.persist(&real) {
            for (_, done) in &published {
                let _ = std::fs::remove_file(done);
            }
            return Err(e.error);
        }
        published.push((path, real));
    }
    let mut folders: Vec<&Path> = published.iter().map(|(_, real)| folder_of(real)).collect();
    folders.dedup();
    for dir in folders {
        // The renames' durability; a folder that cannot be opened for it
        // (some network file systems) has its files all the same.
        if let Ok(dir) = File::open(dir) {
            let _ = dir.sync_all();
        }
    }
    Ok(published.into_iter().map(|(path, _)| path).collect())
}

/// Gives the new file the replaced one's owner and group. Only root may
/// give a file away, and for anyone else the new file is theirs already:
/// a failure is not an error.
#[cfg(unix)]
fn keep_owner(file: &File, meta: &Metadata) {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::MetadataExt;
    // SAFETY: a plain system call on a file descriptor we own.
    unsafe {
        libc::fchown(file.as_raw_fd(), meta.uid(), meta.gid());
    }
}

/// Prefix of the temporary files an atomic write leaves while it runs.
pub const TEMP_PREFIX: &str = ".bantin-";
/// Suffix of the temporary files an atomic write leaves while it runs.
pub const TEMP_SUFFIX: &str = ".part";

/// A file being written that hands what it has been given to the disk
/// every [`WRITEBACK_STEP`] bytes (Linux `sync_file_range`, which starts
/// the write and does not wait), so the closing `fsync` of a long WAV file
/// waits for its last stretch only, not for the whole file.
struct EarlyWriteback {
    file: tempfile::NamedTempFile,
    /// Bytes written so far…
    written: u64,
    /// …and how many of them have been handed to the disk.
    handed: u64,
}

/// How much is written before it is handed to the disk.
const WRITEBACK_STEP: u64 = 2 << 20;

impl Write for EarlyWriteback {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.written += n as u64;
        if self.written - self.handed >= WRITEBACK_STEP {
            #[cfg(target_os = "linux")]
            {
                use std::os::fd::AsRawFd;
                // SAFETY: a plain system call on a file descriptor we own;
                // it only schedules writeback of bytes already written.
                // Its failure costs nothing but the head start: ignored.
                unsafe {
                    libc::sync_file_range(
                        self.file.as_file().as_raw_fd(),
                        self.handed as libc::off64_t,
                        (self.written - self.handed) as libc::off64_t,
                        libc::SYNC_FILE_RANGE_WRITE,
                    );
                }
            }
            self.handed = self.written;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn writes_a_new_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        write_atomic(&path, b"one").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"one");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn a_failing_filler_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        write_atomic(&path, b"old").unwrap();
        let err = write_atomic_with(&path, |out| {
            out.write_all(b"half")?;
            Err(io::Error::other("stopped"))
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "stopped");
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_is_written_through_and_stays_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.txt");
        let link = dir.path().join("link.txt");
        std::fs::write(&real, b"old").unwrap();
        std::os::unix::fs::symlink("real.txt", &link).unwrap();
        write_atomic(&link, b"new").unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read(&real).unwrap(), b"new");
    }

    #[cfg(unix)]
    #[test]
    fn a_dangling_link_creates_its_target() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let link = dir.path().join("link.txt");
        std::os::unix::fs::symlink("sub/target.txt", &link).unwrap();
        write_atomic(&link, b"made").unwrap();
        assert_eq!(
            std::fs::read(dir.path().join("sub/target.txt")).unwrap(),
            b"made"
        );
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_replaced_file_keeps_its_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("script.txt");
        std::fs::write(&path, b"old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&path, b"new").unwrap();
        assert_eq!(mode(&path), 0o640);
    }

    #[cfg(unix)]
    #[test]
    fn the_null_device_is_written_into_not_replaced() {
        write_atomic(Path::new("/dev/null"), b"gone").unwrap();
        let meta = std::fs::metadata("/dev/null").unwrap();
        assert!(!meta.is_file(), "/dev/null must stay a device");
    }

    #[cfg(unix)]
    #[test]
    fn a_pipe_is_written_into() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo on a path we own.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read(fifo).unwrap())
        };
        write_atomic(&fifo, b"through").unwrap();
        assert_eq!(reader.join().unwrap(), b"through");
    }

    #[test]
    fn a_folder_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = write_atomic(dir.path(), b"x").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("a folder"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn other_devices_are_refused() {
        // /dev/zero is a character device that is neither null nor a terminal.
        let err = write_atomic(Path::new("/dev/zero"), b"x").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("not a regular file"), "{err}");
        assert!(!std::fs::metadata("/dev/zero").unwrap().is_file());
    }

    #[test]
    fn publishes_every_file_in_order_into_a_new_folder() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("drop");
        let written = publish(
            &folder,
            vec![
                Entry::bytes("a.json", b"{}"),
                Entry::new("a.wav", |out| out.write_all(b"RIFF")),
            ],
        )
        .unwrap();
        assert_eq!(written, [folder.join("a.json"), folder.join("a.wav")]);
        assert_eq!(std::fs::read(folder.join("a.wav")).unwrap(), b"RIFF");
        assert_eq!(std::fs::read_dir(&folder).unwrap().count(), 2);
    }

    #[test]
    fn a_failing_file_publishes_none_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.json"), b"old").unwrap();
        let err = publish(
            dir.path(),
            vec![
                Entry::bytes("a.json", b"new"),
                Entry::new("a.wav", |out| {
                    out.write_all(b"half")?;
                    Err(io::Error::other("disk full"))
                }),
            ],
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "disk full");
        assert_eq!(std::fs::read(dir.path().join("a.json")).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn a_published_file_keeps_the_mode_of_the_one_it_replaces() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.wav");
        std::fs::write(&path, b"old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        publish(dir.path(), vec![Entry::bytes("a.wav", b"new")]).unwrap();
        assert_eq!(mode(&path), 0o640);
        let err = publish(dir.path(), vec![Entry::bytes("", b"x")]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }
}
