//! What long steps show on a terminal: spinners with the time elapsed, and the key set-up
//! progress of `serve` and the demo.

use std::time::Duration;

/// What `serve` (and the demo) show while keys are loaded or generated: a spinner per shape.
/// `note` follows the "generating keys" message. The setup warning is not shown here: the
/// server logs it once for each single-party key, and an embedder that turns that log off (the
/// demo) prints it itself on [`KeyProgress::SingleParty`](crate::server::KeyProgress), so a
/// reader sees it once per key.
pub(crate) fn key_progress(note: &'static str) -> impl FnMut(crate::server::KeyProgress) {
    let mut bar: Option<indicatif::ProgressBar> = None;
    move |p| match p {
        crate::server::KeyProgress::Generating(s) => {
            bar = Some(spinner(format!(
                "generating keys for {}{note}",
                s.circuit_id()
            )));
        }
        crate::server::KeyProgress::Loading(s) => {
            bar = Some(spinner(format!("loading keys for {}", s.circuit_id())));
        }
        crate::server::KeyProgress::Ready(s) => {
            if let Some(b) = bar.take() {
                b.finish_with_message(format!("keys ready for {}", s.circuit_id()));
            }
        }
        crate::server::KeyProgress::SingleParty(_) => {}
    }
}

/// A spinner on stderr with `message` and the time elapsed.
pub(crate) fn spinner(message: String) -> indicatif::ProgressBar {
    let pb = indicatif::ProgressBar::new_spinner();
    pb.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
            .expect("a valid template"),
    );
    pb.set_message(message);
    pb.enable_steady_tick(Duration::from_millis(120));
    pb
}

/// A progress bar for the ceremony's long steps (minutes each at D = 20): one line whose
/// phases follow each other, a bar with the count, rate and time left when the phase can
/// count its work, a spinner when it cannot. Hidden when stderr is not a terminal.
pub(crate) struct Bar(indicatif::ProgressBar);

impl Bar {
    /// A bar that shows nothing until the first phase.
    pub(crate) fn new() -> Self {
        let pb = indicatif::ProgressBar::new(0);
        pb.enable_steady_tick(Duration::from_millis(120));
        Bar(pb)
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

impl credence_ceremony::Progress for Bar {
    fn phase(&self, name: &str, total: u64) {
        let template = if total == 0 {
            "{spinner} {msg} [{elapsed}]"
        } else {
            "{spinner} {msg} [{bar:30}] {percent:>3}% {human_pos}/{human_len} [{elapsed}, {eta} left]"
        };
        self.0.set_style(
            indicatif::ProgressStyle::with_template(template)
                .expect("a valid template")
                .progress_chars("=> "),
        );
        self.0.set_length(total);
        self.0.set_position(0);
        self.0.reset_elapsed();
        self.0.reset_eta();
        self.0.set_message(name.to_string());
    }

    fn advance(&self, n: u64) {
        self.0.inc(n);
    }
}
