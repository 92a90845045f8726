//! Voice programs kept running between calls: a [`Pool`] of a fixed number
//! of workers, each a thread that owns at most one program, started on the
//! worker's first request and fed one request line at a time on stdin. The
//! program answers each line with one line on stderr carrying a marker
//! (Piper logs `Wrote PATH`); everything else it prints is kept as the last
//! words of an error message.
//!
//! A program that dies (or closes its input) is started again and the
//! request sent once more; a second death is an error. A program that does
//! not answer within the deadline is killed with its process group and the
//! request fails: a hung model is not retried. The [`Interrupt`] current on
//! the caller's thread kills the program it is waiting for. Programs run in
//! a group of their own (see [`super::process`]): started from the worker's
//! own thread, which lives as long as the pool, they die with bantin however
//! it ends, and when the pool is dropped.
//!
//! Knows nothing of audio or of any one program's arguments: `piper.rs`
//! says what to start and how to read its answer.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::time::{Duration, Instant};

use super::process::{Group, Interrupt, isolate, kill_group};

/// How lines of stderr that are not an answer are kept for error messages.
const STDERR_LINES_KEPT: usize = 6;

/// What a pool runs.
#[derive(Debug, Clone)]
pub(super) struct Spec {
    pub program: String,
    pub args: Vec<String>,
    /// The text before the answer on the program's answer line.
    pub answer_marker: String,
    /// Deadline for one request (a fresh program's start included).
    pub timeout: Duration,
    pub workers: usize,
    /// The flag that names a folder for the program's output files; each
    /// worker gets a folder of its own, kept across restarts (an answer
    /// may name a file the caller has yet to read).
    pub output_dir_flag: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub(super) enum ResidentError {
    #[error("cannot start {program}: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("{program} ended twice while speaking ({status}): {stderr}")]
    Died {
        program: String,
        status: String,
        stderr: String,
    },
    #[error("{program} did not answer within {timeout:?}")]
    Timeout { program: String, timeout: Duration },
    #[error("{program} was stopped: its work was cancelled")]
    Interrupted { program: String },
}

/// One request to a worker, with where to send the answer.
struct Job {
    line: String,
    interrupt: Option<Arc<Interrupt>>,
    reply: mpsc::Sender<Result<String, ResidentError>>,
}

/// A worker as callers see it: the way to its thread and what it runs.
struct Worker {
    jobs: Mutex<mpsc::Sender<Job>>,
    /// The running program's pid, 0 when none runs.
    pid: Arc<AtomicU32>,
}

/// Workers that each keep one program running; see the module doc.
pub(super) struct Pool {
    spec: Arc<Spec>,
    workers: Vec<Worker>,
    /// Which workers are taken by a caller right now.
    busy: Mutex<Vec<bool>>,
    freed: Condvar,
    starts: Arc<AtomicUsize>,
}

impl Pool {
    /// Makes the workers (threads only: programs start on first use).
    pub fn new(spec: Spec) -> Pool {
        let spec = Arc::new(spec);
        let starts = Arc::new(AtomicUsize::new(0));
        let workers = (0..spec.workers.max(1))
            .map(|index| {
                let (sender, receiver) = mpsc::channel::<Job>();
                let pid = Arc::new(AtomicU32::new(0));
                let state = WorkerThread {
                    spec: Arc::clone(&spec),
                    pid: Arc::clone(&pid),
                    starts: Arc::clone(&starts),
                    program: None,
                    output_dir: None,
                };
                std::thread::Builder::new()
                    .name(format!("voice-program-{index}"))
                    .spawn(move || state.serve(&receiver))
                    .expect("a thread can be started");
                Worker {
                    jobs: Mutex::new(sender),
                    pid,
                }
            })
            .collect::<Vec<_>>();
        let busy = Mutex::new(vec![false; workers.len()]);
        Pool {
            spec,
            workers,
            busy,
            freed: Condvar::new(),
            starts,
        }
    }

    /// Sends `line` (one line, no newline) to a free worker's program and
    /// returns its answer. A worker whose program already runs is preferred
    /// to one that would have to start it.
    ///
    /// # Errors
    /// [`ResidentError`] saying why there is no answer.
    pub fn ask(&self, line: &str) -> Result<String, ResidentError> {
        let index = self.take_worker();
        let (reply, answer) = mpsc::channel();
        let job = Job {
            line: line.to_string(),
            interrupt: Interrupt::current(),
            reply,
        };
        let sent = self.workers[index]
            .jobs
            .lock()
            .expect("never poisoned")
            .send(job);
        let result = match sent {
            Ok(()) => answer.recv().unwrap_or_else(|_| Err(self.gone())),
            Err(_) => Err(self.gone()),
        };
        self.busy.lock().expect("never poisoned")[index] = false;
        self.freed.notify_one();
        result
    }

    fn gone(&self) -> ResidentError {
        ResidentError::Died {
            program: self.spec.program.clone(),
            status: "its worker thread ended".into(),
            stderr: String::new(),
        }
    }

    /// Waits for a free worker, the ones with a running program first.
    fn take_worker(&self) -> usize {
        let mut busy = self.busy.lock().expect("never poisoned");
        loop {
            let free = |running: bool| {
                (0..busy.len()).find(|&i| {
                    !busy[i] && (self.workers[i].pid.load(Ordering::SeqCst) != 0) == running
                })
            };
            if let Some(index) = free(true).or_else(|| free(false)) {
                busy[index] = true;
                return index;
            }
            busy = self.freed.wait(busy).expect("never poisoned");
        }
    }

    /// The pids of the programs running now (one per started worker).
    pub fn pids(&self) -> Vec<u32> {
        self.workers
            .iter()
            .map(|w| w.pid.load(Ordering::SeqCst))
            .filter(|&pid| pid != 0)
            .collect()
    }

    /// How many programs this pool has started, restarts included.
    pub fn starts(&self) -> usize {
        self.starts.load(Ordering::SeqCst)
    }
}

/// A worker's own state, on its own thread.
struct WorkerThread {
    spec: Arc<Spec>,
    pid: Arc<AtomicU32>,
    starts: Arc<AtomicUsize>,
    program: Option<Program>,
    output_dir: Option<tempfile::TempDir>,
}

/// Why one exchange with a program got no answer.
enum Failure {
    Died { status: String, stderr: String },
    Timeout,
}

impl WorkerThread {
    /// Answers jobs until the pool is dropped; the program goes with it.
    fn serve(mut self, jobs: &mpsc::Receiver<Job>) {
        while let Ok(job) = jobs.recv() {
            let result = self.answer(&job);
            let _ = job.reply.send(result);
        }
        self.stop_program();
    }

    fn answer(&mut self, job: &Job) -> Result<String, ResidentError> {
        let name = self.spec.program.clone();
        let program = || name.clone();
        let stopped = || job.interrupt.as_ref().is_some_and(|i| i.is_stopped());
        let deadline = Instant::now() + self.spec.timeout;
        let mut retried = false;
        loop {
            if stopped() {
                return Err(ResidentError::Interrupted { program: program() });
            }
            if self.program.is_none() {
                let spawn = |source| ResidentError::Spawn {
                    program: program(),
                    source,
                };
                let mut args = self.spec.args.clone();
                if let Some(flag) = &self.spec.output_dir_flag {
                    if self.output_dir.is_none() {
                        let dir = super::temp_dir().and_then(|base| {
                            tempfile::Builder::new().prefix("voice-").tempdir_in(base)
                        });
                        self.output_dir = Some(dir.map_err(spawn)?);
                    }
                    let dir = self.output_dir.as_ref().expect("made above");
                    args.extend([flag.clone(), dir.path().display().to_string()]);
                }
                let started = Program::start(&self.spec.program, &args).map_err(spawn)?;
                self.starts.fetch_add(1, Ordering::SeqCst);
                self.pid.store(started.pid(), Ordering::SeqCst);
                self.program = Some(started);
            }
            let running = self.program.as_mut().expect("started above");
            let group = running.pid() as i32;
            if let Some(interrupt) = &job.interrupt {
                interrupt.add(group);
            }
            let result = running.exchange(&job.line, &self.spec.answer_marker, deadline);
            if let Some(interrupt) = &job.interrupt {
                interrupt.remove(group);
            }
            match result {
                Ok(answer) => return Ok(answer),
                Err(failure) => {
                    self.stop_program();
                    if stopped() {
                        return Err(ResidentError::Interrupted { program: program() });
                    }
                    match failure {
                        Failure::Timeout => {
                            return Err(ResidentError::Timeout {
                                program: program(),
                                timeout: self.spec.timeout,
                            });
                        }
                        Failure::Died { status, stderr } if retried => {
                            return Err(ResidentError::Died {
                                program: program(),
                                status,
                                stderr,
                            });
                        }
                        Failure::Died { status, stderr } => {
                            tracing::warn!(
                                program = %self.spec.program,
                                "the voice program ended ({status}: {stderr}); starting it again"
                            );
                            retried = true;
                        }
                    }
                }
            }
        }
    }

    fn stop_program(&mut self) {
        self.program = None;
        self.pid.store(0, Ordering::SeqCst);
    }
}

/// One running program.
struct Program {
    child: Child,
    /// Kills the group when dropped (after `Drop for Program` reaped it).
    _group: Group,
    stdin: ChildStdin,
    /// Lines of its stderr, closed when it ends.
    lines: mpsc::Receiver<String>,
    /// Its last lines that were not answers.
    said: VecDeque<String>,
}

impl Program {
    fn start(program: &str, args: &[String]) -> std::io::Result<Program> {
        let mut command = Command::new(program);
        command
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        isolate(&mut command);
        let mut child = command.spawn()?;
        let group = Group::new(&child);
        let stdin = child.stdin.take().expect("stdin is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        let (sender, lines) = mpsc::channel();
        std::thread::Builder::new()
            .name("voice-program-stderr".into())
            .spawn(move || {
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    if sender.send(line).is_err() {
                        break;
                    }
                }
            })?;
        Ok(Program {
            child,
            _group: group,
            stdin,
            lines,
            said: VecDeque::new(),
        })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Writes one line and waits for the line carrying `marker`.
    fn exchange(&mut self, line: &str, marker: &str, deadline: Instant) -> Result<String, Failure> {
        let written = self
            .stdin
            .write_all(format!("{line}\n").as_bytes())
            .and_then(|()| self.stdin.flush());
        if written.is_err() {
            return Err(self.died());
        }
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(said) => match said.split_once(marker) {
                    Some((_, answer)) => return Ok(answer.trim().to_string()),
                    None => {
                        if self.said.len() == STDERR_LINES_KEPT {
                            self.said.pop_front();
                        }
                        self.said.push_back(said);
                    }
                },
                Err(mpsc::RecvTimeoutError::Timeout) => return Err(Failure::Timeout),
                Err(mpsc::RecvTimeoutError::Disconnected) => return Err(self.died()),
            }
        }
    }

    /// How the program ended, once its stderr has closed or its input broke.
    fn died(&mut self) -> Failure {
        // Its stderr is closed: the exit follows within moments.
        let waited_until = Instant::now() + Duration::from_secs(2);
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break status.to_string(),
                Ok(None) if Instant::now() < waited_until => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Ok(None) => break "it closed its output".to_string(),
                Err(e) => break e.to_string(),
            }
        };
        let stderr = self.said.iter().cloned().collect::<Vec<_>>().join(" | ");
        Failure::Died { status, stderr }
    }
}

impl Drop for Program {
    fn drop(&mut self) {
        kill_group(self.child.id() as i32);
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A program that answers `said: LINE` for each line, like a voice
    /// program does, and ends when told `die`.
    fn echo(dir: &std::path::Path, workers: usize, timeout: Duration) -> Pool {
        let script = dir.join("echo.sh");
        std::fs::write(
            &script,
            "#!/bin/sh\necho starting >&2\nwhile read -r line; do\n  case $line in\n    die) echo 'model broke' >&2; exit 3 ;;\n    hang) sleep 600 ;;\n    *) echo \"said: $line\" >&2 ;;\n  esac\ndone\n",
        )
        .unwrap();
        Pool::new(Spec {
            program: "sh".into(),
            args: vec![script.display().to_string()],
            answer_marker: "said: ".into(),
            timeout,
            workers,
            output_dir_flag: None,
        })
    }

    #[test]
    fn one_program_answers_many_requests() {
        let dir = tempfile::tempdir().unwrap();
        let pool = echo(dir.path(), 2, Duration::from_secs(10));
        assert!(pool.pids().is_empty(), "started before the first request");
        for word in ["một", "hai", "ba"] {
            assert_eq!(pool.ask(word).unwrap(), word);
        }
        assert_eq!(pool.starts(), 1);
        assert_eq!(pool.pids().len(), 1);
    }

    #[test]
    fn a_program_that_dies_is_started_again_and_a_second_death_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let pool = echo(dir.path(), 1, Duration::from_secs(10));
        assert_eq!(pool.ask("trước").unwrap(), "trước");
        let first = pool.pids();
        let err = pool.ask("die").unwrap_err().to_string();
        assert!(
            err.contains("ended twice") && err.contains("model broke") && err.contains("3"),
            "{err}"
        );
        assert_eq!(pool.starts(), 2, "the first program, restarted once");
        assert!(pool.pids().is_empty());
        assert_eq!(pool.ask("sau").unwrap(), "sau");
        assert_eq!(pool.starts(), 3);
        assert_ne!(pool.pids(), first);
    }

    #[test]
    fn a_hung_program_times_out_and_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let pool = echo(dir.path(), 1, Duration::from_millis(500));
        let started = Instant::now();
        let err = pool.ask("hang").unwrap_err();
        assert!(matches!(err, ResidentError::Timeout { .. }), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(pool.pids().is_empty(), "the hung program still runs");
        assert_eq!(pool.ask("tiếp").unwrap(), "tiếp");
        assert_eq!(pool.starts(), 2);
    }

    #[test]
    fn an_interrupt_stops_the_program_it_waits_for() {
        let dir = tempfile::tempdir().unwrap();
        let pool = Arc::new(echo(dir.path(), 1, Duration::from_secs(60)));
        let interrupt = Interrupt::new();
        let stopper = {
            let interrupt = Arc::clone(&interrupt);
            let pool = Arc::clone(&pool);
            std::thread::spawn(move || {
                while pool.pids().is_empty() {
                    std::thread::sleep(Duration::from_millis(10));
                }
                std::thread::sleep(Duration::from_millis(100));
                interrupt.stop();
            })
        };
        let started = Instant::now();
        let err = interrupt.enter(|| pool.ask("hang")).unwrap_err();
        stopper.join().unwrap();
        assert!(matches!(err, ResidentError::Interrupted { .. }), "{err}");
        assert!(started.elapsed() < Duration::from_secs(30));
        assert_eq!(pool.starts(), 1, "an interrupted request is not retried");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn dropping_the_pool_ends_its_programs() {
        let dir = tempfile::tempdir().unwrap();
        let pool = echo(dir.path(), 2, Duration::from_secs(10));
        pool.ask("một").unwrap();
        let pid = pool.pids()[0];
        drop(pool);
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let state = stat.rsplit(')').next().unwrap_or("").trim_start();
            if state.is_empty() || state.starts_with('Z') {
                break;
            }
            assert!(Instant::now() < deadline, "{pid} outlived its pool");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn a_missing_program_is_named() {
        let pool = Pool::new(Spec {
            program: "/nonexistent/voice".into(),
            args: Vec::new(),
            answer_marker: "x".into(),
            timeout: Duration::from_secs(1),
            workers: 1,
            output_dir_flag: None,
        });
        assert!(matches!(
            pool.ask("a").unwrap_err(),
            ResidentError::Spawn { .. }
        ));
    }
}
