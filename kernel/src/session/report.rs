//! Errors as the reader sees them: compile errors pointing at the cell, panics, lost state.

use evcxr::CompilationError;
use jupyter_core::interpreter::ExecuteError;

use super::panic_message::PanicReport;

const RED: &str = "\x1b[31m";
const BOLD_RED: &str = "\x1b[1;31m";
const BLUE: &str = "\x1b[34m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// Compile errors → `CompilationError`, each rendered like rustc with the cell's own lines.
pub fn compilation_error(errors: &[CompilationError], source: &str) -> ExecuteError {
    let mut traceback = Vec::new();
    let mut evalue = None;
    for error in errors {
        let rendered = render_one(error, source);
        if evalue.is_none() {
            evalue = Some(rendered.summary);
        }
        if !traceback.is_empty() {
            traceback.push(String::new());
        }
        traceback.extend(rendered.lines);
    }
    ExecuteError {
        ename: "CompilationError".into(),
        evalue: evalue.unwrap_or_else(|| "the cell did not compile".into()),
        traceback,
    }
}

struct Rendered {
    summary: String,
    lines: Vec<String>,
}

fn render_one(error: &CompilationError, source: &str) -> Rendered {
    let message = error.message();
    let message = message.trim();
    let level = error.level();
    let head = match error.code() {
        Some(code) => format!("{level}[{code}]"),
        None => level.to_owned(),
    };
    let colour = if level == "error" { BOLD_RED } else { BOLD };
    let mut lines = vec![format!("{colour}{head}{RESET}{BOLD}: {message}{RESET}")];
    let mut summary = message.lines().next().unwrap_or("").to_owned();
    let source_lines: Vec<&str> = source.lines().collect();
    let width = source_lines.len().to_string().len();
    let gutter = " ".repeat(width);
    let mut located = false;
    for spanned in error.spanned_messages() {
        let Some(span) = spanned.span else {
            if !spanned.label.is_empty() && spanned.label != message {
                lines.push(format!("{gutter} = {}", spanned.label));
            }
            continue;
        };
        if !located {
            summary = format!(
                "{summary} (line {}, column {})",
                span.start_line, span.start_column
            );
            located = true;
        }
        lines.push(format!(
            "{gutter}{BLUE}-->{RESET} cell:{}:{}",
            span.start_line, span.start_column
        ));
        lines.push(format!("{gutter} {BLUE}|{RESET}"));
        let text = source_lines
            .get(span.start_line.saturating_sub(1))
            .copied()
            .unwrap_or("");
        lines.push(format!("{BLUE}{:>width$} |{RESET} {text}", span.start_line));
        let start = span.start_column.max(1);
        let end = if span.end_line == span.start_line {
            span.end_column.max(start + 1)
        } else {
            text.chars().count() + 1
        };
        let (mark, mark_colour) = if spanned.is_primary {
            ('^', RED)
        } else {
            ('-', BLUE)
        };
        let carets: String = std::iter::repeat_n(mark, end - start).collect();
        let label = if spanned.label == message {
            ""
        } else {
            spanned.label.as_str()
        };
        lines.push(format!(
            "{gutter} {BLUE}|{RESET} {}{mark_colour}{carets} {label}{RESET}",
            " ".repeat(start - 1)
        ));
    }
    for help in error.help() {
        let mut help_lines = help.lines();
        if let Some(first) = help_lines.next() {
            lines.push(format!(
                "{gutter} {BLUE}={RESET} {BOLD}help{RESET}: {first}"
            ));
        }
        for rest in help_lines {
            lines.push(format!("{gutter}   {rest}"));
        }
    }
    if let Some(hint) = error.evcxr_extra_hint() {
        lines.push(format!("{gutter} {BLUE}={RESET} {BOLD}note{RESET}: {hint}"));
    }
    Rendered { summary, lines }
}

/// A panic in the cell → `Panic`, located in the cell when it happened there.
///
/// `generated` is the source evcxr compiled (`src/lib.rs` of its crate), used to find which
/// line of the cell a panic location in `src/lib.rs` corresponds to.
pub fn panic_error(report: &PanicReport, source: &str, generated: Option<&str>) -> ExecuteError {
    let location = if report.file == "src/lib.rs" {
        match generated.and_then(|g| cell_line(g, report.line, source)) {
            Some(line) => format!("cell:{line}:{}", report.column),
            None => "the cell".to_owned(),
        }
    } else if report.file.is_empty() {
        "an unknown location".to_owned()
    } else {
        format!("{}:{}:{}", report.file, report.line, report.column)
    };
    let mut traceback = vec![format!(
        "{BOLD_RED}thread 'main' panicked{RESET} at {location}:"
    )];
    traceback.extend(report.message.lines().map(|l| format!("{BOLD}{l}{RESET}")));
    traceback.push(format!(
        "{BLUE}note{RESET}: variables defined by earlier cells are kept; this cell's new \
         variables were not stored."
    ));
    ExecuteError {
        ename: "Panic".into(),
        evalue: format!(
            "{} (at {location})",
            report.message.lines().next().unwrap_or("")
        ),
        traceback,
    }
}

/// The line of the cell that line `generated_line` of evcxr's generated source came from:
/// the cell line with the same text; when several match, the one whose neighbours match too.
fn cell_line(generated: &str, generated_line: u32, source: &str) -> Option<usize> {
    let generated: Vec<&str> = generated.lines().collect();
    let index = usize::try_from(generated_line).ok()?.checked_sub(1)?;
    let wanted = generated.get(index)?.trim();
    if wanted.is_empty() {
        return None;
    }
    let cell: Vec<&str> = source.lines().collect();
    let candidates: Vec<usize> = (0..cell.len())
        .filter(|&i| cell[i].trim() == wanted)
        .collect();
    let score = |i: usize| {
        let mut score = 0;
        for offset in 1..=3usize {
            let same = |a: Option<&&str>, b: Option<&&str>| matches!((a, b), (Some(a), Some(b)) if a.trim() == b.trim());
            if same(
                cell.get(i.wrapping_sub(offset)),
                generated.get(index.wrapping_sub(offset)),
            ) {
                score += 1;
            }
            if same(cell.get(i + offset), generated.get(index + offset)) {
                score += 1;
            }
        }
        score
    };
    candidates
        .into_iter()
        .max_by_key(|&i| score(i))
        .map(|i| i + 1)
}

/// The child died: say what happened and what was lost.
pub fn lost_state_error(ename: &str, what: &str, lost: &[String], detail: &str) -> ExecuteError {
    let lost_line = if lost.is_empty() {
        "No variables were lost.".to_owned()
    } else {
        format!("These variables were lost: {}.", lost.join(", "))
    };
    let mut traceback = vec![format!("{BOLD_RED}{what}{RESET}")];
    traceback.extend(
        detail
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_owned),
    );
    traceback.push(format!("{BOLD}{lost_line}{RESET}"));
    traceback.push(
        "Functions, types, `use` imports and `:dep` dependencies from earlier cells are kept; \
         dl-core's state (random generator, displays) starts afresh."
            .to_owned(),
    );
    ExecuteError {
        ename: ename.into(),
        evalue: format!("{what} {lost_line}"),
        traceback,
    }
}

/// A cell that stopped by itself after an interrupt (dl-core's loops do): nothing was lost.
pub fn cooperative_interrupt() -> ExecuteError {
    ExecuteError {
        ename: "KeyboardInterrupt".into(),
        evalue: "interrupted; the cell stopped at a safe point and all variables are kept".into(),
        traceback: vec![format!(
            "{BOLD_RED}KeyboardInterrupt{RESET}: the cell stopped at a safe point; all \
             variables are kept."
        )],
    }
}

/// Any other evcxr error.
pub fn other_error(message: &str) -> ExecuteError {
    ExecuteError {
        ename: "EvalError".into(),
        evalue: message.lines().next().unwrap_or("").to_owned(),
        traceback: message
            .lines()
            .map(|l| format!("{RED}{l}{RESET}"))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_line_is_found_in_the_cell() {
        let cell = "let a = 1;\nlet v: Vec<i32> = vec![];\nv[3];";
        let generated = "fn x() {\nlet a = 1;\nlet v: Vec<i32> = vec![];\nv[3];\n}";
        assert_eq!(cell_line(generated, 4, cell), Some(3));
        let report = PanicReport {
            message: "index out of bounds".into(),
            file: "src/lib.rs".into(),
            line: 4,
            column: 1,
        };
        let error = panic_error(&report, cell, Some(generated));
        assert_eq!(error.ename, "Panic");
        assert!(error.evalue.contains("index out of bounds"));
        assert!(error.evalue.contains("cell:3:1"), "{}", error.evalue);
    }

    #[test]
    fn ambiguous_lines_use_neighbours() {
        let cell = "f();\nx();\ng();\nx();";
        let generated = "a\nf();\nx();\ng();\nx();\nb";
        assert_eq!(cell_line(generated, 5, cell), Some(4));
        assert_eq!(cell_line(generated, 3, cell), Some(2));
    }

    #[test]
    fn panic_outside_the_cell_keeps_its_file() {
        let report = PanicReport {
            message: "shapes differ".into(),
            file: "dl-core/src/tensor.rs".into(),
            line: 10,
            column: 5,
        };
        let error = panic_error(&report, "x", None);
        assert!(error.evalue.contains("dl-core/src/tensor.rs:10:5"));
    }

    #[test]
    fn lost_variables_are_named() {
        let error = lost_state_error(
            "ChildCrash",
            "The cell's process crashed.",
            &["a".into(), "model".into()],
            "signal: 6 (SIGABRT)",
        );
        assert!(error.evalue.contains("a, model"));
        assert!(error.traceback.iter().any(|l| l.contains("SIGABRT")));
        let none = lost_state_error("ChildCrash", "Crashed.", &[], "");
        assert!(none.evalue.contains("No variables were lost"));
    }
}
