//! This session's input history, answering `history_request` (tail, range, search).
//!
//! Semantics follow IPython's history manager, which front ends expect: a line number is the
//! cell's execution count; `range` is `start <= line < stop`; `tail` and `search` return the
//! last `n` matches in chronological order; `search` matches a glob (`*`, `?`) against the
//! whole input; `unique` keeps the latest entry of each distinct input. Only the current
//! session exists; it is numbered [`SESSION`], and session `0` in a request means it too.

use serde::Serialize;

/// The number this kernel gives its (only) session in replies.
pub const SESSION: i64 = 1;

/// One stored cell.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The execution count the cell ran as.
    pub line: i64,
    /// The cell's source.
    pub input: String,
    /// The `text/plain` of its result, if any.
    pub output: Option<String>,
}

/// A history query.
#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    /// The last `n` entries.
    Tail {
        /// How many.
        n: usize,
    },
    /// Lines `start <= line < stop` of `session` (`stop` None: to the end).
    Range {
        /// Session number (0 = current).
        session: i64,
        /// First line.
        start: i64,
        /// One past the last line.
        stop: Option<i64>,
    },
    /// Entries whose input matches `pattern`.
    Search {
        /// Glob pattern.
        pattern: String,
        /// At most this many (the latest).
        n: Option<usize>,
        /// One entry per distinct input.
        unique: bool,
    },
}

/// The session's history.
#[derive(Debug, Clone, Default)]
pub struct History {
    entries: Vec<Entry>,
}

impl History {
    /// An empty history.
    pub fn new() -> History {
        History::default()
    }

    /// Records a cell.
    pub fn push(&mut self, line: i64, input: &str) {
        self.entries.push(Entry {
            line,
            input: input.to_owned(),
            output: None,
        });
    }

    /// Records the output of the most recent cell with this line number.
    pub fn set_output(&mut self, line: i64, output: &str) {
        if let Some(e) = self.entries.iter_mut().rev().find(|e| e.line == line) {
            e.output = Some(output.to_owned());
        }
    }

    /// Runs a query; entries in chronological order.
    pub fn query(&self, query: &Query) -> Vec<&Entry> {
        match query {
            Query::Tail { n } => {
                let skip = self.entries.len().saturating_sub(*n);
                self.entries[skip..].iter().collect()
            }
            Query::Range {
                session,
                start,
                stop,
            } => {
                if *session != 0 && *session != SESSION {
                    return Vec::new();
                }
                self.entries
                    .iter()
                    .filter(|e| e.line >= *start && stop.is_none_or(|s| e.line < s))
                    .collect()
            }
            Query::Search { pattern, n, unique } => {
                let mut hits: Vec<&Entry> = Vec::new();
                // Walk from the newest so that `unique` keeps the latest of each input.
                for e in self.entries.iter().rev() {
                    if !glob_match(pattern, &e.input) {
                        continue;
                    }
                    if *unique && hits.iter().any(|h| h.input == e.input) {
                        continue;
                    }
                    hits.push(e);
                    if n.is_some_and(|n| hits.len() >= n) {
                        break;
                    }
                }
                hits.reverse();
                hits
            }
        }
    }

    /// The `history` field of a `history_reply`: `[session, line, input]`, or
    /// `[session, line, [input, output]]` when `output` is asked for.
    pub fn reply(&self, query: &Query, output: bool) -> Vec<HistoryItem> {
        self.query(query)
            .into_iter()
            .map(|e| {
                if output {
                    HistoryItem::WithOutput(SESSION, e.line, (e.input.clone(), e.output.clone()))
                } else {
                    HistoryItem::Input(SESSION, e.line, e.input.clone())
                }
            })
            .collect()
    }
}

/// One entry of a `history_reply`, serialised as the array the protocol wants.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum HistoryItem {
    /// `[session, line, input]`.
    Input(i64, i64, String),
    /// `[session, line, [input, output]]`; `output` is `null` for a cell without a value.
    WithOutput(i64, i64, (String, Option<String>)),
}

/// Whole-string glob match with `*` (any run) and `?` (any one character).
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> History {
        let mut h = History::new();
        for (line, input) in [
            (1, "let a = 1;"),
            (2, "a + 1"),
            (3, "println!(\"x\");"),
            (5, "a + 1"),
        ] {
            h.push(line, input);
        }
        h.set_output(2, "2");
        h
    }

    fn lines(h: &History, q: Query) -> Vec<i64> {
        h.query(&q).iter().map(|e| e.line).collect()
    }

    #[test]
    fn tail_returns_the_last_n_in_order() {
        let h = sample();
        assert_eq!(lines(&h, Query::Tail { n: 2 }), vec![3, 5]);
        assert_eq!(lines(&h, Query::Tail { n: 10 }), vec![1, 2, 3, 5]);
        assert_eq!(lines(&h, Query::Tail { n: 0 }), Vec::<i64>::new());
    }

    #[test]
    fn range_is_half_open_and_session_scoped() {
        let h = sample();
        let r = |session, start, stop| Query::Range {
            session,
            start,
            stop,
        };
        assert_eq!(lines(&h, r(SESSION, 2, Some(3))), vec![2]);
        assert_eq!(lines(&h, r(0, 2, None)), vec![2, 3, 5]);
        assert_eq!(lines(&h, r(0, 4, Some(5))), Vec::<i64>::new());
        assert_eq!(lines(&h, r(7, 1, None)), Vec::<i64>::new());
    }

    #[test]
    fn search_globs_limits_and_dedups() {
        let h = sample();
        let s = |p: &str, n, unique| Query::Search {
            pattern: p.into(),
            n,
            unique,
        };
        assert_eq!(lines(&h, s("a + ?", None, false)), vec![2, 5]);
        assert_eq!(lines(&h, s("a + ?", None, true)), vec![5]);
        assert_eq!(lines(&h, s("*", Some(2), false)), vec![3, 5]);
        assert_eq!(lines(&h, s("*let*", None, false)), vec![1]);
        assert_eq!(lines(&h, s("let", None, false)), Vec::<i64>::new());
    }

    #[test]
    fn reply_shapes() {
        use serde_json::{json, to_value};
        let h = sample();
        let q = Query::Range {
            session: 0,
            start: 2,
            stop: Some(3),
        };
        assert_eq!(
            to_value(h.reply(&q, false)).unwrap(),
            json!([[SESSION, 2, "a + 1"]])
        );
        assert_eq!(
            to_value(h.reply(&q, true)).unwrap(),
            json!([[SESSION, 2, ["a + 1", "2"]]])
        );
    }

    #[test]
    fn glob() {
        assert!(glob_match("", ""));
        assert!(glob_match("*", ""));
        assert!(glob_match("a*c", "abbbc"));
        assert!(glob_match("a*c*", "acxc"));
        assert!(!glob_match("a*c", "abcd"));
        assert!(glob_match("?é?", "xéy"));
        assert!(!glob_match("?", ""));
    }
}
