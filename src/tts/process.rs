//! Running a backend program: text on stdin, a deadline, stderr kept for the
//! error message, the child killed when the deadline passes.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
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
    #[error("i/o with {program}: {source}")]
    Io {
        program: String,
        source: std::io::Error,
    },
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

/// Runs `command` with `stdin` as its input; returns its stdout.
///
/// # Errors
/// [`ProcessError`]: not found, non-zero exit (with stderr), deadline passed.
pub fn run(mut command: Command, stdin: &[u8], timeout: Duration) -> Result<Vec<u8>, ProcessError> {
    let program = command.get_program().to_string_lossy().into_owned();
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| ProcessError::Spawn {
            program: program.clone(),
            source,
        })?;
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
    // A program's output ends when it exits (or closes its stdout): wait
    // for that without polling, so a finished run is noticed at once; then
    // for the exit itself, which follows within moments.
    let _ = output_end.recv_timeout(deadline.saturating_duration_since(Instant::now()));
    let status = loop {
        if let Some(status) = child.try_wait().map_err(io)? {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(ProcessError::Timeout { program, timeout });
        }
        std::thread::sleep(Duration::from_micros(500));
    };
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
}
