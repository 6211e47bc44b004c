//! What long steps show on a terminal: spinners with the time elapsed, and the key set-up
//! progress of `serve` and the demo.

use std::time::Duration;

/// What `serve` (and the demo) show while keys are loaded or generated: the setup warning (once;
/// the server also logs it for each circuit), then a spinner per shape. `note` follows the
/// "generating keys" message.
pub(crate) fn key_progress(note: &'static str) -> impl FnMut(crate::server::KeyProgress) {
    let mut bar: Option<indicatif::ProgressBar> = None;
    let mut warned = false;
    move |p| match p {
        crate::server::KeyProgress::Generating(s) => {
            if !std::mem::replace(&mut warned, true) {
                eprintln!("{}", crate::keys::SETUP_WARNING);
            }
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
