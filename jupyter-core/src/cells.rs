//! The session's cells: the execution count, the history, and how one `execute_request` is
//! run and answered.
//!
//! As in ipykernel and xeus, the core, not the interpreter, owns the count: a cell that
//! stores history runs as `count + 1`; a silent cell publishes no `execute_input` and no
//! `execute_result`. After a good cell, each of the request's `user_expressions` is
//! evaluated as a silent cell whose value is the answer.

use crate::comms::CommHub;
use crate::dispatch::Flow;
use crate::history::{History, Query};
use crate::interpreter::{ExecuteError, ExecuteOutcome, ExecuteRequest as Cell, Interpreter};
use crate::iopub::{ExecuteInput, ExecuteResult};
use crate::message::Message;
use crate::outbox::{Channel, Outbox};
use crate::reply::{ExecuteReply, HistoryReply, UserExpression};
use crate::request::{ExecuteRequest, HistoryRequest};
use crate::sink::{CellSink, NullSink};
use crate::stdin::StdinBridge;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The count and history of this session's cells.
#[derive(Debug, Default)]
pub struct Cells {
    /// Number of cells run with `store_history` so far.
    count: u32,
    history: History,
}

impl Cells {
    /// The execution count of the last cell that stored history (0 before the first).
    pub fn count(&self) -> u32 {
        self.count
    }

    /// Runs the cell of `request` (the content of `msg`) and publishes and answers it.
    pub fn execute(
        &mut self,
        interpreter: &mut impl Interpreter,
        out: &Outbox,
        stdin: &StdinBridge,
        comms: &CommHub,
        msg: &Message,
        request: &ExecuteRequest,
    ) -> Flow {
        comms.note_cell(msg);
        let store = request.stores_history();
        if store {
            self.count += 1;
            self.history.push(i64::from(self.count), &request.code);
        }
        let count = self.count;
        if !request.silent {
            let input = ExecuteInput {
                code: &request.code,
                execution_count: count,
            };
            out.publish(msg, &input);
        }
        let cell = Cell {
            code: request.code.clone(),
            silent: request.silent,
            store_history: store,
            allow_stdin: request.allow_stdin,
            execution_count: count,
        };
        let sink = CellSink {
            out,
            parent: msg,
            allow_stdin: request.allow_stdin,
            stdin,
            comms,
        };
        match interpreter.execute(&cell, &sink) {
            ExecuteOutcome::Ok { result } => {
                if let Some(data) = result
                    && !request.silent
                {
                    if store && let Some(Value::String(text)) = data.get("text/plain") {
                        self.history.set_output(i64::from(count), text);
                    }
                    let result = ExecuteResult {
                        execution_count: count,
                        data: &data,
                        metadata: Map::new(),
                    };
                    out.publish(msg, &result);
                }
                let answers = user_expressions(interpreter, &request.user_expressions, count);
                out.reply(Channel::Shell, msg, &ExecuteReply::ok(count, answers));
                Flow::Continue
            }
            ExecuteOutcome::Error(error) => {
                out.publish(msg, &error);
                out.reply(Channel::Shell, msg, &ExecuteReply::error(count, &error));
                if request.stop_on_error {
                    Flow::AbortQueued
                } else {
                    Flow::Continue
                }
            }
        }
    }

    /// The answer to a `history_request`.
    pub fn history_reply(&self, request: &HistoryRequest) -> HistoryReply {
        let items = match history_query(request) {
            Some(query) => self.history.reply(&query, request.output),
            None => Vec::new(),
        };
        HistoryReply::new(items)
    }
}

/// Evaluates each user expression as a silent cell; its value's MIME bundle is the answer,
/// or the error.
fn user_expressions(
    interpreter: &mut impl Interpreter,
    expressions: &Map<String, Value>,
    count: u32,
) -> BTreeMap<String, UserExpression> {
    let mut answers = BTreeMap::new();
    for (name, expression) in expressions {
        let answer = match expression {
            Value::String(code) => {
                let cell = Cell {
                    code: code.clone(),
                    silent: true,
                    store_history: false,
                    allow_stdin: false,
                    execution_count: count,
                };
                match interpreter.execute(&cell, &NullSink) {
                    ExecuteOutcome::Ok { result } => {
                        UserExpression::value(result.unwrap_or_default())
                    }
                    ExecuteOutcome::Error(error) => UserExpression::Error(error),
                }
            }
            _ => UserExpression::Error(ExecuteError {
                ename: "TypeError".into(),
                evalue: "a user expression must be a string".into(),
                traceback: Vec::new(),
            }),
        };
        answers.insert(name.clone(), answer);
    }
    answers
}

/// The history query a request asks for; `None` for an unknown `hist_access_type`.
fn history_query(r: &HistoryRequest) -> Option<Query> {
    let count = |n: Option<i64>| n.and_then(|n| usize::try_from(n).ok());
    match r.hist_access_type.as_str() {
        "tail" => Some(Query::Tail {
            n: count(r.n).unwrap_or(10),
        }),
        "range" => Some(Query::Range {
            session: r.session.unwrap_or(0),
            start: r.start.unwrap_or(1),
            stop: r.stop,
        }),
        "search" => Some(Query::Search {
            pattern: r.pattern.clone().unwrap_or_else(|| "*".into()),
            n: count(r.n),
            unique: r.unique,
        }),
        other => {
            log::warn!("unknown hist_access_type {other:?}");
            None
        }
    }
}
