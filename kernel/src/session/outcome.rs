//! How a cell ended, as the page is told: its result, or the error that names what went wrong
//! (a compile error, a panic, an interrupt, a crash) and which variables were lost.

use super::interrupt::{self, CellState};
use super::pump::Pump;
use super::report;
use super::worker::{CellFailure, Finished};
use jupyter_core::interpreter::{ExecuteError, ExecuteOutcome, ExecuteRequest, MimeBundle};
use serde_json::Value;
use std::sync::atomic::Ordering;

/// What the page is told about a cell that has ended.
pub(super) fn cell_outcome(
    state: &CellState,
    request: &ExecuteRequest,
    finished: Finished,
    pump: &Pump,
) -> ExecuteOutcome {
    let interrupted = state.interrupted.load(Ordering::SeqCst);
    let killed_child = state.killed_child.load(Ordering::SeqCst);
    let killed_build = state.killed_build.load(Ordering::SeqCst);
    match finished.result {
        Ok(outputs) => {
            if let Some(panic) = pump.panic_report() {
                return error_outcome(report::panic_error(
                    panic,
                    &request.code,
                    finished.generated.as_deref(),
                ));
            }
            if interrupted {
                return error_outcome(report::cooperative_interrupt());
            }
            let result = (!outputs.content_by_mime_type.is_empty())
                .then(|| bundle(outputs.content_by_mime_type));
            ExecuteOutcome::Ok { result }
        }
        Err(CellFailure::Evcxr(evcxr::Error::SubprocessTerminated(detail))) => {
            let mut detail = detail;
            for line in &pump.stderr_tail {
                detail.push('\n');
                detail.push_str(line);
            }
            if killed_child {
                error_outcome(report::lost_state_error(
                    "KeyboardInterrupt",
                    &format!(
                        "Interrupted: the cell did not stop within {:.1} s, so its process \
                         was restarted.",
                        interrupt::GRACE.as_secs_f64()
                    ),
                    &finished.vars_before,
                    "",
                ))
            } else {
                error_outcome(report::lost_state_error(
                    "ChildCrash",
                    &format!(
                        "The process running the cell died ({}); it has been restarted.",
                        exit_summary(&detail)
                    ),
                    &finished.vars_before,
                    &detail,
                ))
            }
        }
        Err(_) if killed_build => error_outcome(ExecuteError {
            ename: "KeyboardInterrupt".into(),
            evalue: "interrupted while compiling; no variables were lost".into(),
            traceback: vec![
                "\x1b[1;31mKeyboardInterrupt\x1b[0m: the compilation was stopped; no \
                 variables were lost."
                    .into(),
            ],
        }),
        Err(CellFailure::InterruptedBeforeStart) => error_outcome(report::cooperative_interrupt()),
        Err(CellFailure::Evcxr(evcxr::Error::CompilationErrors(errors))) => {
            error_outcome(report::compilation_error(&errors, &request.code))
        }
        Err(CellFailure::Evcxr(error)) => error_outcome(report::other_error(&error.to_string())),
        Err(CellFailure::Start(why)) => error_outcome(report::other_error(&format!(
            "The Rust session failed to start: {why}"
        ))),
    }
}

/// "signal: 6 (SIGABRT)" or "exit status: 3" out of evcxr's termination message.
fn exit_summary(detail: &str) -> String {
    detail
        .lines()
        .find_map(|l| l.split("Subprocess terminated with status: ").nth(1))
        .map_or_else(|| "unknown cause".to_owned(), |s| s.trim().to_owned())
}

pub(super) fn error_outcome(error: ExecuteError) -> ExecuteOutcome {
    ExecuteOutcome::Error(error)
}

/// evcxr's content (mime → text) as a MIME bundle; JSON types are parsed.
fn bundle(content: std::collections::HashMap<String, String>) -> MimeBundle {
    let mut bundle = MimeBundle::new();
    for (mime, text) in content {
        let value = if mime.contains("json") {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        } else {
            Value::String(text)
        };
        bundle.insert(mime, value);
    }
    bundle
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_summary_reads_evcxr_message() {
        assert_eq!(
            exit_summary("x\nSubprocess terminated with status: signal: 6 (SIGABRT) (core dumped)"),
            "signal: 6 (SIGABRT) (core dumped)"
        );
        assert_eq!(exit_summary("other"), "unknown cause");
    }
}
