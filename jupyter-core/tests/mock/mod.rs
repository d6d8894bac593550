//! A scripted interpreter for the protocol core's tests, as xeus tests its core: a cell is a
//! tiny script, and everything the core asked of the interpreter is recorded. Also the
//! harness that reads back every message the core put in its outbox.
//!
//! Cells: `print TEXT` (stdout), `value TEXT` (a result), `display` / `display update`
//! (an image with display id `d1`), `input` (asks for a line, prints what came back),
//! `sleep MS` (waits, or stops early with `KeyboardInterrupt` when interrupted),
//! `panic` (panics), `open ID` (opens comm `ID` for target `echo`); anything else fails with
//! a `CompilationError`.
//!
//! Comms: the front end may open comms of target `echo`. A `comm_msg` is answered, on a
//! thread of the mock's own (as a real interpreter's child would), with a `stream`
//! `echo: DATA` and a `comm_msg` carrying the same data, both with the message as parent;
//! then the message is finished.

#![allow(dead_code)] // each test file uses its own part of the mock

use bytes::Bytes;
use jupyter_core::comms::CommHub;
use jupyter_core::control::Control;
use jupyter_core::interpreter::{
    CommReceiver, Completeness, Completions, Display, ExecuteError, ExecuteOutcome, ExecuteRequest,
    HelpLink, Inspection, Interpreter, Interrupter, KernelComm, KernelInfo, LanguageInfo,
    MimeBundle, OutputSink, PageComm, PageCommEvent, StreamName,
};
use jupyter_core::message::{Header, Message};
use jupyter_core::outbox::{Outbox, OutboxQueues, Outgoing};
use jupyter_core::shell::ShellCore;
use jupyter_core::stdin::StdinBridge;
use serde_json::{Map, Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedReceiver;

/// What the core asked of the interpreter.
#[derive(Default)]
pub struct Log {
    /// The code of every cell run, in order.
    pub executed: Mutex<Vec<String>>,
    /// How many times the interrupter was called.
    pub interrupts: AtomicUsize,
    /// Every comm message from the front end, in order.
    pub comms: Mutex<Vec<PageComm>>,
}

/// The mock's comm receiver: records, and echoes on a thread.
pub struct Echo {
    log: Arc<Log>,
    hub: CommHub,
}

impl CommReceiver for Echo {
    fn accepts(&self, target_name: &str) -> bool {
        target_name == "echo"
    }

    fn receive(&self, comm: PageComm) {
        self.log.comms.lock().unwrap().push(comm.clone());
        let hub = self.hub.clone();
        std::thread::spawn(move || {
            if comm.event == PageCommEvent::Message {
                let sink = hub.sink(Some(&comm.msg_id));
                sink.stream(
                    StreamName::Stdout,
                    &format!("echo: {}", Value::Object(comm.data.clone())),
                );
                sink.comm(KernelComm::Message {
                    comm_id: comm.comm_id.clone(),
                    data: comm.data.clone(),
                });
            }
            hub.finished(&comm.msg_id);
        });
    }
}

/// The mock's interrupter: counts, and stops a `sleep`.
pub struct Counter(pub Arc<Log>);

impl Interrupter for Counter {
    fn interrupt(&self) {
        self.0.interrupts.fetch_add(1, Ordering::SeqCst);
    }
}

/// The scripted interpreter.
pub struct Scripted(pub Arc<Log>);

/// A JSON object literal as a map.
pub fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

impl Scripted {
    fn sleep(&self, ms: &str) -> ExecuteOutcome {
        let interrupts = self.0.interrupts.load(Ordering::SeqCst);
        let deadline = Instant::now() + Duration::from_millis(ms.parse().unwrap_or(1000));
        while Instant::now() < deadline {
            if self.0.interrupts.load(Ordering::SeqCst) != interrupts {
                return ExecuteOutcome::Error(ExecuteError {
                    ename: "KeyboardInterrupt".into(),
                    evalue: "interrupted".into(),
                    traceback: vec!["interrupted".into()],
                });
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        ExecuteOutcome::Ok { result: None }
    }
}

impl Interpreter for Scripted {
    fn execute(&mut self, r: &ExecuteRequest, sink: &dyn OutputSink) -> ExecuteOutcome {
        self.0.executed.lock().unwrap().push(r.code.clone());
        let (cmd, arg) = r.code.split_once(' ').unwrap_or((r.code.as_str(), ""));
        match cmd {
            "print" => {
                sink.stream(StreamName::Stdout, arg);
                ExecuteOutcome::Ok { result: None }
            }
            "value" => ExecuteOutcome::Ok {
                result: Some(object(json!({ "text/plain": arg }))),
            },
            "display" => {
                sink.display(Display {
                    data: object(json!({ "image/png": "iVBOR" })),
                    metadata: Map::new(),
                    display_id: Some("d1".into()),
                    update: arg == "update",
                });
                ExecuteOutcome::Ok { result: None }
            }
            "input" => {
                let got = sink.input("name: ", false);
                sink.stream(StreamName::Stdout, &format!("{got:?}"));
                ExecuteOutcome::Ok { result: None }
            }
            "sleep" => self.sleep(arg),
            "open" => {
                sink.comm(KernelComm::Open {
                    comm_id: arg.to_owned(),
                    target_name: "echo".into(),
                    data: object(json!({ "state": { "value": 1 } })),
                    metadata: object(json!({ "version": "2.1.0" })),
                });
                ExecuteOutcome::Ok { result: None }
            }
            "panic" => panic!("scripted panic"),
            _ => ExecuteOutcome::Error(ExecuteError {
                ename: "CompilationError".into(),
                evalue: format!("cannot run {cmd}"),
                traceback: vec!["line 1".into()],
            }),
        }
    }

    fn complete(&mut self, code: &str, cursor_pos: usize) -> Completions {
        Completions {
            matches: vec![format!("{code}_done")],
            cursor_start: 0,
            cursor_end: cursor_pos,
        }
    }

    fn inspect(&mut self, code: &str, _: usize, _: u8) -> Inspection {
        (code == "Vec").then(|| object(json!({ "text/plain": "struct Vec<T>" })))
    }

    /// Braces only: more `{` than `}` is incomplete, a `}` first is invalid.
    fn is_complete(&mut self, code: &str) -> Completeness {
        let mut depth = 0i32;
        for c in code.chars() {
            depth += match c {
                '{' => 1,
                '}' => -1,
                _ => 0,
            };
            if depth < 0 {
                return Completeness::Invalid;
            }
        }
        if depth > 0 {
            Completeness::Incomplete {
                indent: "    ".repeat(depth as usize),
            }
        } else {
            Completeness::Complete
        }
    }

    fn interrupter(&self) -> Arc<dyn Interrupter> {
        Arc::new(Counter(self.0.clone()))
    }

    fn restart(&mut self) {}

    fn attach_comms(&mut self, hub: CommHub) -> Option<Arc<dyn CommReceiver>> {
        Some(Arc::new(Echo {
            log: self.0.clone(),
            hub,
        }))
    }

    fn kernel_info(&self) -> KernelInfo {
        KernelInfo {
            implementation: "scripted-kernel".into(),
            implementation_version: "0.0.1".into(),
            language_info: LanguageInfo {
                name: "scripted".into(),
                version: "1.0".into(),
                mimetype: "text/x-scripted".into(),
                file_extension: ".script".into(),
                pygments_lexer: None,
                codemirror_mode: None,
            },
            banner: "scripted".into(),
            help_links: vec![HelpLink {
                text: "Scripts".into(),
                url: "https://example.org/scripts".into(),
            }],
        }
    }
}

/// A bundle with one `text/plain` entry.
pub fn plain(text: &str) -> MimeBundle {
    object(json!({ "text/plain": text }))
}

/// A shell core around the scripted interpreter, with the queues it writes to.
pub struct Harness {
    /// The core under test.
    pub core: ShellCore<Scripted>,
    /// The control requests' handlers, shared with the core.
    pub control: Arc<Control>,
    /// Where the core's messages arrive.
    pub queues: OutboxQueues,
    /// What the interpreter was asked.
    pub log: Arc<Log>,
    /// Where `input_reply` values are delivered.
    pub stdin: Arc<StdinBridge>,
}

/// A fresh core whose messages carry the session `kernel-session`.
pub fn harness() -> Harness {
    let log = Arc::new(Log::default());
    let (out, queues) = Outbox::new("kernel-session".into());
    let stdin = Arc::new(StdinBridge::default());
    let interpreter = Scripted(log.clone());
    let control = Arc::new(Control::new(
        out.clone(),
        interpreter.kernel_info(),
        interpreter.interrupter(),
        stdin.clone(),
    ));
    let comms = CommHub::new(out.clone());
    let core = ShellCore::new(interpreter, control.clone(), out, stdin.clone(), comms);
    Harness {
        core,
        control,
        queues,
        log,
        stdin,
    }
}

/// A request from the front end `client-id` of session `client-session`.
pub fn request(msg_type: &str, content: Value) -> Message {
    Message {
        identities: vec![Bytes::from_static(b"client-id")],
        header: Header::new(msg_type, "client-session"),
        parent_header: Map::new(),
        metadata: Map::new(),
        content: object(content),
        buffers: vec![],
    }
}

/// Every message queued so far.
pub fn drain(rx: &mut UnboundedReceiver<Outgoing>) -> Vec<Message> {
    std::iter::from_fn(|| rx.try_recv().ok())
        .filter_map(|o| match o {
            Outgoing::Msg(m) => Some(*m),
            Outgoing::Flush(_) => None,
        })
        .collect()
}

/// The messages' types, with the state of a `status`: `status:busy`.
pub fn types(msgs: &[Message]) -> Vec<String> {
    msgs.iter()
        .map(|m| match m.msg_type() {
            "status" => format!("status:{}", m.content["execution_state"].as_str().unwrap()),
            t => t.to_owned(),
        })
        .collect()
}

/// The `msg_id` of the message's parent.
pub fn parent_id(m: &Message) -> &str {
    m.parent_header["msg_id"].as_str().unwrap()
}
