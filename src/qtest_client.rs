//! Another qtest server as a child process (QEMU's `-qtest stdio`): one command, one reply,
//! with a timeout, QEMU's asynchronous `IRQ raise/lower` lines set aside, and a clear error
//! when the server dies or stops answering.

use harness::check::{QtestServer, ServerError, clip};
use harness::qtest::Cmd;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Lines of the server's stderr kept for error messages.
const STDERR_TAIL: usize = 8;

/// A qtest server started from a command line.
pub struct ChildServer {
    command: String,
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
    stderr: Arc<Mutex<Vec<String>>>,
    timeout: Duration,
    /// `IRQ raise N` / `IRQ lower N` lines seen (QEMU sends them after `irq_intercept_in`).
    pub irq_lines: usize,
}

impl ChildServer {
    /// Start `command` (split like a shell would, without running one).
    pub fn spawn(command: &str, timeout: Duration) -> Result<Self, String> {
        let words =
            shlex::split(command).ok_or_else(|| format!("cannot split command '{command}'"))?;
        let (prog, args) = words
            .split_first()
            .ok_or_else(|| "empty --against command".to_string())?;
        let mut child = Command::new(prog)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start '{prog}': {e}"))?;
        let stdin = child.stdin.take().ok_or("no stdin pipe")?;
        let stdout = child.stdout.take().ok_or("no stdout pipe")?;
        let stderr = child.stderr.take().ok_or("no stderr pipe")?;
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let tail = Arc::new(Mutex::new(Vec::new()));
        let t = tail.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Ok(mut v) = t.lock() {
                    if v.len() == STDERR_TAIL {
                        v.remove(0);
                    }
                    v.push(line);
                }
            }
        });
        Ok(Self {
            command: command.to_string(),
            child,
            stdin,
            lines,
            stderr: tail,
            timeout,
            irq_lines: 0,
        })
    }

    fn gone(&mut self, what: &str) -> ServerError {
        // Give the stderr reader a moment to collect the last words.
        std::thread::sleep(Duration::from_millis(50));
        let status = match self.child.try_wait() {
            Ok(Some(s)) => format!(" ({s})"),
            _ => String::new(),
        };
        let tail = self
            .stderr
            .lock()
            .map(|v| v.iter().rev().find(|l| !l.starts_with('[')).cloned())
            .ok()
            .flatten()
            .map(|l| format!("; it said: {}", clip(&l)))
            .unwrap_or_default();
        ServerError::Failed(format!(
            "qtest server '{}' {what}{status}{tail}",
            clip(&self.command)
        ))
    }
}

impl QtestServer for ChildServer {
    fn send(&mut self, cmd: &Cmd) -> Result<String, ServerError> {
        if writeln!(self.stdin, "{cmd}")
            .and_then(|()| self.stdin.flush())
            .is_err()
        {
            return Err(self.gone("exited"));
        }
        loop {
            match self.lines.recv_timeout(self.timeout) {
                Ok(line) if line.starts_with("IRQ ") => self.irq_lines += 1,
                Ok(line) => return Ok(line.trim_end().to_string()),
                Err(RecvTimeoutError::Disconnected) => return Err(self.gone("exited")),
                Err(RecvTimeoutError::Timeout) => {
                    let t = self.timeout.as_secs_f64();
                    return Err(self.gone(&format!("gave no answer within {t} s")));
                }
            }
        }
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
