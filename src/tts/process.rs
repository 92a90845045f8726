//! Running a backend program: text on stdin, a deadline, stderr kept for the
//! error message. Each program runs in a process group of its own, and every
//! way a run can end early kills the whole group (the program and anything
//! it started): the deadline, an [`Interrupt`] (a cancelled job, the end of
//! the shutdown grace), and the death of bantin itself: on Linux the program
//! gets `PR_SET_PDEATHSIG`, and a small watchdog (`sh`, reading the groups
//! alive on a pipe) kills the groups still listed when that pipe closes,
//! which the kernel does for every way bantin ends, `kill -9` included.
//! Temporary files of the backends go in one folder per process
//! ([`temp_dir`]); folders of processes that are gone are removed when the
//! next one makes its own.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("cannot start {program}: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("{program} exited with {status}: {stderr}")]
    Exit {
        program: String,
        status: String,
        stderr: String,
    },
    #[error("{program} was stopped after {timeout:?}")]
    Timeout { program: String, timeout: Duration },
    /// The work it ran for was cancelled or the service is stopping.
    #[error("{program} was stopped: its work was cancelled")]
    Interrupted { program: String },
    #[error("i/o with {program}: {source}")]
    Io {
        program: String,
        source: std::io::Error,
    },
}

/// Stops the programs a piece of work runs (a render job): once
/// [`Interrupt::stop`] is called, every program running under it is killed
/// with its process group and no new one starts. Programs run under the
/// interrupt that [`Interrupt::enter`] made current on their thread.
#[derive(Debug, Default)]
pub struct Interrupt {
    stopped: AtomicBool,
    groups: Mutex<HashSet<i32>>,
}

thread_local! {
    static CURRENT: std::cell::RefCell<Option<Arc<Interrupt>>> = const { std::cell::RefCell::new(None) };
}

impl Interrupt {
    pub fn new() -> Arc<Interrupt> {
        Arc::new(Interrupt::default())
    }

    /// Kills the process groups running under this interrupt, now and later.
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        for &group in self.groups.lock().expect("never poisoned").iter() {
            kill_group(group);
        }
    }

    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }

    /// Runs `f` with `self` as this thread's interrupt: programs that `f`
    /// runs on this thread are stopped by [`Interrupt::stop`].
    pub fn enter<R>(self: &Arc<Interrupt>, f: impl FnOnce() -> R) -> R {
        struct Restore(Option<Arc<Interrupt>>);
        impl Drop for Restore {
            fn drop(&mut self) {
                let previous = self.0.take();
                CURRENT.with(|c| *c.borrow_mut() = previous);
            }
        }
        let previous = CURRENT.with(|c| c.borrow_mut().replace(Arc::clone(self)));
        let _restore = Restore(previous);
        f()
    }

    pub(super) fn current() -> Option<Arc<Interrupt>> {
        CURRENT.with(|c| c.borrow().clone())
    }

    /// Records a running group; kills it at once when already stopped (the
    /// flag is read after the group is listed, so no stop is missed).
    pub(super) fn add(&self, group: i32) {
        self.groups.lock().expect("never poisoned").insert(group);
        if self.is_stopped() {
            kill_group(group);
        }
    }

    pub(super) fn remove(&self, group: i32) {
        self.groups.lock().expect("never poisoned").remove(&group);
    }
}

/// Kills every process of a group (SIGKILL: a hung program may ignore
/// anything milder).
pub(super) fn kill_group(group: i32) {
    #[cfg(unix)]
    // SAFETY: killpg has no memory effects; a group already gone is ESRCH.
    unsafe {
        libc::killpg(group, libc::SIGKILL);
    }
    #[cfg(not(unix))]
    let _ = group;
}

/// The watchdog's script: `+GROUP` and `-GROUP` lines keep the list of
/// groups alive; at the end of its input (bantin is gone) it kills those.
const WATCHDOG: &str = r#"live=' '
while read -r line; do
  case $line in
    +*) live="$live${line#+} " ;;
    -*) g=${line#-}
        case $live in *" $g "*) live="${live%% $g *} ${live#* $g }" ;; esac ;;
  esac
done
for g in $live; do kill -s KILL -- "-$g" 2>/dev/null; done
"#;

/// The pipe to the watchdog, started with the first program; `None` when
/// it cannot start (then `PR_SET_PDEATHSIG` alone covers the program itself).
fn watchdog() -> Option<&'static Mutex<ChildStdin>> {
    static WATCHDOG_PIPE: OnceLock<Option<Mutex<ChildStdin>>> = OnceLock::new();
    WATCHDOG_PIPE
        .get_or_init(|| {
            let mut command = Command::new("sh");
            command
                .args(["-c", WATCHDOG])
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            // Its own group: a Ctrl-C to bantin's terminal must not end it
            // before it has done its work.
            #[cfg(unix)]
            std::os::unix::process::CommandExt::process_group(&mut command, 0);
            match command.spawn() {
                Ok(mut child) => child.stdin.take().map(Mutex::new),
                Err(e) => {
                    tracing::warn!("cannot start the voice program watchdog: {e}");
                    None
                }
            }
        })
        .as_ref()
}

fn tell_watchdog(line: &str) {
    if let Some(pipe) = watchdog() {
        let _ = pipe
            .lock()
            .expect("never poisoned")
            .write_all(line.as_bytes());
    }
}

/// Marks a program's group as alive for the watchdog and the current
/// interrupt; the guard removes it again once the program is reaped.
pub(super) struct Group {
    id: i32,
    interrupt: Option<Arc<Interrupt>>,
}

impl Group {
    pub(super) fn new(child: &Child) -> Group {
        let id = child.id() as i32;
        tell_watchdog(&format!("+{id}\n"));
        let interrupt = Interrupt::current();
        if let Some(interrupt) = &interrupt {
            interrupt.add(id);
        }
        Group { id, interrupt }
    }

    fn interrupted(&self) -> bool {
        self.interrupt.as_ref().is_some_and(|i| i.is_stopped())
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        // Whatever the program left running in its group goes with it.
        kill_group(self.id);
        if let Some(interrupt) = &self.interrupt {
            interrupt.remove(self.id);
        }
        tell_watchdog(&format!("-{}\n", self.id));
    }
}

/// Puts the program in a process group of its own and, on Linux, has the
/// kernel kill it when the thread that started it (and waits for it) dies.
pub(super) fn isolate(command: &mut Command) {
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(command, 0);
    #[cfg(target_os = "linux")]
    {
        let parent = std::process::id() as i32;
        // SAFETY: the closure calls only async-signal-safe functions
        // (prctl, getppid, raise) between fork and exec.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(command, move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // bantin died before the line above: nobody will kill us.
                if libc::getppid() != parent {
                    libc::raise(libc::SIGKILL);
                }
                Ok(())
            });
        }
    }
}

/// The folder for this process's temporary files (`$TMPDIR/bantin-PID`),
/// made on first use; the folders of bantin processes that are gone, and
/// the `bantin-command-*` files older versions left, are removed then.
///
/// # Errors
/// I/O errors making the folder.
pub fn temp_dir() -> std::io::Result<&'static Path> {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    static MAKING: Mutex<()> = Mutex::new(());
    if let Some(dir) = DIR.get() {
        return Ok(dir);
    }
    // One thread makes it: another one's removal of a stale folder with
    // our number must not remove the folder the first one just made.
    let _making = MAKING.lock().expect("never poisoned");
    if let Some(dir) = DIR.get() {
        return Ok(dir);
    }
    let base = std::env::temp_dir();
    remove_leftovers(&base);
    let dir = base.join(format!("bantin-{}", std::process::id()));
    // A folder with our number is a dead process's (pids are reused).
    match std::fs::remove_dir_all(&dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    match builder.create(&dir) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => return Err(e),
        _ => {}
    }
    Ok(DIR.get_or_init(|| dir))
}

/// Removes, in `base`, the temporary folders of bantin processes no longer
/// running and the `bantin-command-*` files older versions left behind
/// (those not touched for ten minutes: no run takes that long). Returns
/// how many were removed.
pub fn remove_leftovers(base: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(base) else {
        return 0;
    };
    let now = std::time::SystemTime::now();
    let mut removed = 0;
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let path = entry.path();
        let gone = if let Some(pid) = name
            .strip_prefix("bantin-")
            .and_then(|n| n.parse::<u32>().ok())
        {
            pid != std::process::id() && !process_alive(pid)
        } else if name.starts_with("bantin-command-") {
            entry.metadata().and_then(|m| m.modified()).is_ok_and(|m| {
                now.duration_since(m)
                    .is_ok_and(|age| age > Duration::from_secs(600))
            })
        } else {
            false
        };
        if !gone {
            continue;
        }
        let result = if path.is_dir() && !path.is_symlink() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        match result {
            Ok(()) => {
                tracing::info!(path = %path.display(), "removed a temporary file left behind");
                removed += 1;
            }
            Err(e) => tracing::debug!(path = %path.display(), "cannot remove: {e}"),
        }
    }
    removed
}

fn process_alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Ok(pid) = i32::try_from(pid) else {
            return false;
        };
        // SAFETY: signal 0 only checks that the process exists.
        let result = unsafe { libc::kill(pid, 0) };
        result == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

/// Whether `program` (a path, or a name looked up in `PATH`) is a file that
/// could be run. Cheaper than running it: a check before every render costs
/// nothing noticeable.
pub fn installed(program: &str) -> bool {
    if program.contains('/') {
        std::path::Path::new(program).is_file()
    } else {
        std::env::var_os("PATH").is_some_and(|paths| {
            std::env::split_paths(&paths).any(|dir| dir.join(program).is_file())
        })
    }
}

/// Runs `command` with `stdin` as its input; returns its stdout. The
/// program runs in a process group of its own, killed whole at the
/// deadline, by the thread's [`Interrupt`], or when bantin dies.
///
/// # Errors
/// [`ProcessError`]: not found, non-zero exit (with stderr), deadline
/// passed, interrupted.
pub fn run(mut command: Command, stdin: &[u8], timeout: Duration) -> Result<Vec<u8>, ProcessError> {
    let program = command.get_program().to_string_lossy().into_owned();
    if Interrupt::current().is_some_and(|i| i.is_stopped()) {
        return Err(ProcessError::Interrupted { program });
    }
    isolate(&mut command);
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| ProcessError::Spawn {
            program: program.clone(),
            source,
        })?;
    let group = Group::new(&child);
    let io = |source| ProcessError::Io {
        program: program.clone(),
        source,
    };
    // Feed stdin and drain stdout/stderr on threads so no pipe fills up.
    let mut input = child.stdin.take().expect("stdin is piped");
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || input.write_all(&data));
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let (output_ended, output_end) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let read = stdout.read_to_end(&mut buf).map(|_| buf);
        let _ = output_ended.send(());
        read
    });
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let err_reader = std::thread::spawn(move || {
        let mut buf = String::new();
        let _ = stderr.read_to_string(&mut buf);
        buf
    });
    let deadline = Instant::now() + timeout;
    // A program's output ends when it exits (or closes its stdout, or its
    // group is killed): wait for that without polling, so a finished run is
    // noticed at once; then for the exit itself, which follows within moments.
    let _ = output_end.recv_timeout(deadline.saturating_duration_since(Instant::now()));
    let status = loop {
        if let Some(status) = child.try_wait().map_err(io)? {
            break status;
        }
        if Instant::now() >= deadline {
            kill_group(group.id);
            let _ = child.wait();
            return Err(ProcessError::Timeout { program, timeout });
        }
        std::thread::sleep(Duration::from_micros(500));
    };
    let interrupted = group.interrupted();
    // Anything the program left running goes now, so the pipes it may hold
    // close and the threads below end.
    drop(group);
    if interrupted {
        return Err(ProcessError::Interrupted { program });
    }
    // A program may exit without reading its input; that is not our error.
    let _ = writer.join();
    let output = reader
        .join()
        .expect("reader thread does not panic")
        .map_err(io)?;
    let stderr = err_reader.join().expect("stderr thread does not panic");
    if !status.success() {
        let stderr = stderr.trim().lines().last().unwrap_or("").to_string();
        return Err(ProcessError::Exit {
            program,
            status: status.to_string(),
            stderr,
        });
    }
    Ok(output)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_stdin_to_stdout() {
        let out = run(Command::new("cat"), b"xin chao", Duration::from_secs(5)).unwrap();
        assert_eq!(out, b"xin chao");
    }

    #[test]
    fn reports_exit_status_and_stderr() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo broken voice >&2; exit 3"]);
        let err = run(cmd, b"", Duration::from_secs(5))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("exit status: 3") && err.contains("broken voice"),
            "{err}"
        );
    }

    #[test]
    fn kills_a_hanging_program() {
        let mut cmd = Command::new("sleep");
        cmd.arg("30");
        let started = Instant::now();
        let err = run(cmd, b"", Duration::from_millis(200)).unwrap_err();
        assert!(matches!(err, ProcessError::Timeout { .. }));
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn kills_a_program_that_hangs_after_closing_its_output() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "printf RIFF; exec >&-; sleep 30"]);
        let started = Instant::now();
        let err = run(cmd, b"", Duration::from_millis(300)).unwrap_err();
        assert!(matches!(err, ProcessError::Timeout { .. }), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn names_a_missing_program() {
        let err = run(
            Command::new("/nonexistent/tts"),
            b"",
            Duration::from_secs(1),
        )
        .unwrap_err();
        assert!(matches!(err, ProcessError::Spawn { .. }));
    }

    /// A child of the program (not `exec`ed) is killed with it.
    fn assert_group_gone(pid_file: &Path) {
        let pid: i32 = std::fs::read_to_string(pid_file)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let state = state.rsplit(')').next().unwrap_or("").trim_start();
            if state.is_empty() || state.starts_with('Z') {
                return;
            }
            assert!(Instant::now() < deadline, "{pid} outlived its program");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_deadline_kills_what_the_program_started() {
        let dir = tempfile::tempdir().unwrap();
        let pid = dir.path().join("pid");
        let mut cmd = Command::new("sh");
        cmd.args([
            "-c",
            &format!("sleep 30 & echo $! > {}; wait", pid.display()),
        ]);
        let err = run(cmd, b"", Duration::from_millis(300)).unwrap_err();
        assert!(matches!(err, ProcessError::Timeout { .. }), "{err}");
        assert_group_gone(&pid);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn an_interrupt_stops_the_running_program_and_every_later_one() {
        let dir = tempfile::tempdir().unwrap();
        let pid = dir.path().join("pid");
        let interrupt = Interrupt::new();
        let stopper = {
            let interrupt = Arc::clone(&interrupt);
            let pid = pid.clone();
            std::thread::spawn(move || {
                while !pid.exists() {
                    std::thread::sleep(Duration::from_millis(10));
                }
                interrupt.stop();
            })
        };
        let started = Instant::now();
        let err = interrupt
            .enter(|| {
                let mut cmd = Command::new("sh");
                cmd.args([
                    "-c",
                    &format!(
                        "sleep 30 & echo $! > {p}.tmp; mv {p}.tmp {p}; wait",
                        p = pid.display()
                    ),
                ]);
                run(cmd, b"", Duration::from_secs(60))
            })
            .unwrap_err();
        stopper.join().unwrap();
        assert!(matches!(err, ProcessError::Interrupted { .. }), "{err}");
        assert!(started.elapsed() < Duration::from_secs(30));
        assert_group_gone(&pid);
        let again = interrupt.enter(|| run(Command::new("true"), b"", Duration::from_secs(5)));
        assert!(matches!(again, Err(ProcessError::Interrupted { .. })));
        // Outside the interrupt, programs run as before.
        run(Command::new("true"), b"", Duration::from_secs(5)).unwrap();
    }

    #[test]
    fn leftovers_of_processes_that_are_gone_are_removed() {
        let base = tempfile::tempdir().unwrap();
        // No process has pid 0x7fff_fff0 (above pid_max); ours is alive.
        let dead = base.path().join("bantin-2147483632");
        let ours = base.path().join(format!("bantin-{}", std::process::id()));
        let other = base.path().join("bantin-notes");
        for dir in [&dead, &ours, &other] {
            std::fs::create_dir_all(dir).unwrap();
            std::fs::write(dir.join("command-x.wav"), b"RIFF").unwrap();
        }
        let old = base.path().join("bantin-command-abc.wav");
        let new = base.path().join("bantin-command-def.wav");
        std::fs::write(&old, b"RIFF").unwrap();
        std::fs::write(&new, b"RIFF").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&old)
            .unwrap()
            .set_modified(std::time::SystemTime::now() - Duration::from_secs(3600))
            .unwrap();
        assert_eq!(remove_leftovers(base.path()), 2);
        assert!(!dead.exists() && !old.exists());
        assert!(ours.exists() && other.exists() && new.exists());
    }
}
