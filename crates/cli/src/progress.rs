//! A small progress bar on standard error for pushes, pulls and copies: drawn
//! only when standard error is a terminal (and not turned off), redrawn at most
//! ten times a second.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gar::Progress;
use gar::oci::progress::ProgressFn;

use crate::output::bytes;

const WIDTH: usize = 30;

#[derive(Debug)]
struct State {
    drawn: Option<Instant>,
    done: u64,
    total: u64,
}

/// One bar.
#[derive(Debug)]
pub struct Bar {
    label: String,
    visible: bool,
    state: Mutex<State>,
}

impl Bar {
    /// A bar labelled `label`, visible when `wanted` and stderr is a terminal.
    pub fn new(label: impl Into<String>, wanted: bool) -> Arc<Self> {
        Arc::new(Self {
            label: label.into(),
            visible: wanted && std::io::stderr().is_terminal(),
            state: Mutex::new(State {
                drawn: None,
                done: 0,
                total: 0,
            }),
        })
    }

    /// The callback to hand to a transfer.
    pub fn callback(self: &Arc<Self>) -> ProgressFn {
        let bar = self.clone();
        Arc::new(move |p: &Progress| bar.update(p.done, p.total))
    }

    fn update(&self, done: u64, total: u64) {
        if !self.visible {
            return;
        }
        let Ok(mut s) = self.state.lock() else {
            return;
        };
        s.done = done;
        s.total = total;
        let due = s
            .drawn
            .is_none_or(|t| t.elapsed() >= Duration::from_millis(100));
        if due || done >= total {
            s.drawn = Some(Instant::now());
            self.draw(&s);
        }
    }

    fn draw(&self, s: &State) {
        eprint!("\r{}", render(&self.label, s.done, s.total));
        let _ = std::io::stderr().flush();
    }

    /// Draws the final state and ends the line.
    pub fn finish(&self) {
        if !self.visible {
            return;
        }
        if let Ok(s) = self.state.lock() {
            self.draw(&s);
        }
        eprintln!();
    }
}

/// `label [#########.........]  3.0 MiB / 8.0 MiB`
pub fn render(label: &str, done: u64, total: u64) -> String {
    let filled = if total == 0 {
        WIDTH
    } else {
        let f = (u128::from(done) * WIDTH as u128 / u128::from(total)) as usize;
        f.min(WIDTH)
    };
    let as_i64 = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    format!(
        "{label} [{}{}] {} / {}",
        "#".repeat(filled),
        ".".repeat(WIDTH - filled),
        bytes(as_i64(done)),
        bytes(as_i64(total))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_fill_in_proportion() {
        assert_eq!(
            render("push", 512, 1024),
            format!(
                "push [{}{}] 512 B / 1.0 KiB",
                "#".repeat(15),
                ".".repeat(15)
            )
        );
        assert_eq!(
            render("x", 0, 0),
            format!("x [{}] 0 B / 0 B", "#".repeat(30))
        );
        assert_eq!(
            render("x", 5, 1),
            format!("x [{}] 5 B / 1 B", "#".repeat(30))
        );
    }
}
