//! The progress line of a long pull: on a terminal, one stderr line rewritten at most ten
//! times a second (`pulling `admin/`: 120 requests`); elsewhere (CI logs, pipes) nothing until
//! the summary line the command prints at the end.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Redraws the line; cleared by [`Progress::finish`].
pub struct Progress {
    enabled: bool,
    last: Option<Instant>,
    drawn: bool,
}

impl Progress {
    /// Shown only when stderr is a terminal and `quiet` is off.
    pub fn new(quiet: bool) -> Progress {
        Progress {
            enabled: !quiet && std::io::stderr().is_terminal(),
            last: None,
            drawn: false,
        }
    }

    /// A progress that never draws (library use, tests).
    pub fn hidden() -> Progress {
        Progress {
            enabled: false,
            last: None,
            drawn: false,
        }
    }

    pub fn tick(&mut self, namespace: &str, requests: usize) {
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        if self
            .last
            .is_some_and(|last| now.duration_since(last) < Duration::from_millis(100))
        {
            return;
        }
        self.last = Some(now);
        self.drawn = true;
        let mut stderr = std::io::stderr().lock();
        let _ = write!(
            stderr,
            "\r\x1b[2Kpulling `{}`: {requests} requests",
            crate::namespace::display(namespace)
        );
        let _ = stderr.flush();
    }

    /// Clears the line, so the summary starts on a clean one.
    pub fn finish(&mut self) {
        if self.drawn {
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "\r\x1b[2K");
            let _ = stderr.flush();
            self.drawn = false;
        }
    }
}
