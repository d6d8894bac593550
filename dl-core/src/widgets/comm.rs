//! The comm under every widget: its state, its callbacks, and the messages to and from the page.
//!
//! Protocol (ipywidgets' "messaging protocol" version 2, target `jupyter.widget`):
//!
//! ```text
//! kernel → page  comm_open  {state: {...}, buffer_paths: []}      metadata {version: "2.1.0"}
//! kernel → page  comm_msg   {method: "update", state: {changed}, buffer_paths: []}
//! page → kernel  comm_msg   {method: "update", state: {value: 0.3}}  a slider moved
//! page → kernel  comm_msg   {method: "request_state"}  → answered with the whole state
//! page → kernel  comm_msg   {method: "custom", content: {event: "click"}}  a button
//! ```
//!
//! In the kernel (`DL_KERNEL=1`) the first widget connects to the Unix socket named by
//! `DL_KERNEL_COMM_SOCKET`. The page's messages arrive on it and are handled by one thread, the widget
//! thread. Messages to the page are `DLK_COMM {json}` lines. Made by a cell, they go to
//! standard output, in order with the cell's other output and before the cell ends; made by
//! the widget thread (a callback of a page event, between cells or while one runs), they go
//! back on the socket, which the kernel reads always, and so do the displays that thread
//! makes (an `interact` redraw). The widget thread drains every message
//! already waiting before it runs callbacks, so a burst of slider events runs each callback
//! once, with the latest value; it brackets its work on a message with
//! `DLK_COMM_BEGIN {"msg_id"}` … `DLK_COMM_END {"msg_id"}` so that what callbacks print or
//! display goes to the page with that message as parent.
//!
//! Every cell of a notebook links its own copy of dl-core, so the widgets live in one
//! process-wide registry ([`crate::process_wide`]). Callbacks are boxed closures: their code
//! belongs to the cell that made them, whose library the kernel never unloads. Each is
//! wrapped, in that cell's own code, so that a panic in it is caught there and reported
//! instead of stopping the thread. Outside a kernel there is no page: widgets keep their
//! state and `set` still runs the callbacks.

use crate::display::{emit_line, in_kernel};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::os::unix::net::UnixStream;
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Mutex, MutexGuard, OnceLock};

/// A callback on a widget: called with the state keys that changed.
pub(crate) type Callback = Box<dyn FnMut(&Map<String, Value>) + Send>;

/// Marker of a comm message to the page.
const COMM_MARKER: &str = "DLK_COMM ";

#[derive(Default)]
struct Entry {
    state: Map<String, Value>,
    callbacks: Vec<Callback>,
}

#[derive(Default)]
struct Registry {
    models: HashMap<String, Entry>,
    listening: bool,
    /// The kernel's end of the socket, for messages to the page.
    writer: Option<UnixStream>,
    /// The page's message being handled now (for an output widget's capture).
    handling: Option<String>,
    /// The widget thread (std is one shared library for all cells, so its ids agree).
    listener: Option<std::thread::ThreadId>,
}

/// The process-wide registry. This copy of dl-core looks it up once: the widget thread,
/// started by a copy that had already found it, never reads the environment.
fn registry() -> MutexGuard<'static, Registry> {
    static FOUND: OnceLock<&'static Mutex<Registry>> = OnceLock::new();
    let shared = FOUND.get_or_init(|| crate::process_wide::shared("WIDGETS", Registry::default));
    shared.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether this code runs on the widget thread, handling the page's messages.
fn on_widget_thread(registry: &Registry) -> bool {
    registry.listener == Some(std::thread::current().id())
}

/// Writes one marker line to the kernel: on the socket from the widget thread, else (or if
/// the socket failed) on stdout.
fn emit(line: &str) {
    use std::io::Write as _;
    let mut registry = registry();
    if on_widget_thread(&registry)
        && let Some(writer) = registry.writer.as_mut()
    {
        if writer.write_all(format!("{line}\n").as_bytes()).is_ok() {
            return;
        }
        registry.writer = None;
    }
    drop(registry);
    emit_line(line);
}

/// Shows a bundle: from the widget thread as an answer to the page's message (on the socket,
/// so it reaches the page while no cell runs); elsewhere as any display.
pub(crate) fn display(bundle: &crate::display::MimeBundle, display_id: &str, update: bool) {
    if in_kernel() && on_widget_thread(&registry()) {
        emit(&bundle.marker_line(Some(display_id), update));
    } else {
        crate::display::display_with_id(bundle, Some(display_id), update);
    }
}

/// Sends one comm message to the page (nothing outside a kernel).
fn send(msg_type: &str, comm_id: &str, extra: Value) {
    if !in_kernel() {
        return;
    }
    let mut record = json!({ "msg_type": msg_type, "comm_id": comm_id });
    if let (Value::Object(record), Value::Object(extra)) = (&mut record, extra) {
        record.extend(extra);
    }
    emit(&format!("{COMM_MARKER}{record}"));
}

/// Opens the comm of a new model with its whole `state`; returns its id.
pub(crate) fn open(state: Map<String, Value>) -> String {
    let comm_id = crate::display::new_display_id("w").replace('-', "");
    {
        let mut registry = registry();
        if !registry.listening && in_kernel() {
            registry.writer = start_listening();
            registry.listening = registry.writer.is_some();
        }
    }
    send(
        "comm_open",
        &comm_id,
        json!({
            "target_name": "jupyter.widget",
            "data": { "state": state, "buffer_paths": [] },
            "metadata": { "version": "2.1.0" },
        }),
    );
    registry().models.insert(
        comm_id.clone(),
        Entry {
            state,
            callbacks: Vec::new(),
        },
    );
    comm_id
}

/// One value of a model's state (`Null` for an unknown key or model).
pub(crate) fn get(comm_id: &str, key: &str) -> Value {
    registry()
        .models
        .get(comm_id)
        .and_then(|e| e.state.get(key).cloned())
        .unwrap_or(Value::Null)
}

/// Changes the state from Rust: the page is told, and the callbacks run here.
pub(crate) fn set(comm_id: &str, changes: Map<String, Value>) {
    send(
        "comm_msg",
        comm_id,
        json!({ "data": { "method": "update", "state": changes, "buffer_paths": [] } }),
    );
    if let Some(entry) = registry().models.get_mut(comm_id) {
        entry.state.extend(changes.clone());
    }
    run_callbacks(comm_id, &changes);
}

/// Adds a callback, run with the changed keys whenever the state changes.
pub(crate) fn on_change(comm_id: &str, callback: Callback) {
    if let Some(entry) = registry().models.get_mut(comm_id) {
        entry.callbacks.push(callback);
    }
}

/// The page's message being handled now, when called from the widget thread.
pub(crate) fn handling() -> Option<String> {
    let registry = registry();
    if on_widget_thread(&registry) {
        registry.handling.clone()
    } else {
        None
    }
}

/// Closes the comm: the page removes the model's views.
pub(crate) fn close(comm_id: &str) {
    if registry().models.remove(comm_id).is_some() {
        send("comm_close", comm_id, json!({ "data": {} }));
    }
}

/// Runs the model's callbacks for a custom event (`{"event": "click"}`), as the page's does.
pub(crate) fn run_event(comm_id: &str, event: &Map<String, Value>) {
    run_callbacks(comm_id, event);
}

/// Runs the model's callbacks without holding the registry (a callback may read widgets).
fn run_callbacks(comm_id: &str, changes: &Map<String, Value>) {
    let taken = match registry().models.get_mut(comm_id) {
        Some(entry) => std::mem::take(&mut entry.callbacks),
        None => return,
    };
    let mut callbacks = taken;
    for callback in &mut callbacks {
        callback(changes);
    }
    if let Some(entry) = registry().models.get_mut(comm_id) {
        // Callbacks added while these ran come after them.
        callbacks.append(&mut entry.callbacks);
        entry.callbacks = callbacks;
    }
}

/// Connects to the kernel's socket and starts the threads that read and handle the page's
/// messages; returns the end to write to.
///
/// One thread reads the socket (blocking) and queues each message; the widget thread takes
/// the first one waiting and every other already queued, so a burst is one batch. The socket
/// stays in blocking mode throughout: its file status is shared with the writing end, and a
/// non-blocking write of a large figure would fail half-way.
fn start_listening() -> Option<UnixStream> {
    let path = std::env::var_os("DL_KERNEL_COMM_SOCKET")?;
    let connected = UnixStream::connect(&path).and_then(|s| s.try_clone().map(|w| (s, w)));
    let (stream, writer) = match connected {
        Ok(pair) => pair,
        Err(e) => {
            eprintln!("dl-core: widgets cannot hear the page ({e})");
            return None;
        }
    };
    let (queue, queued) = std::sync::mpsc::channel();
    let reader = std::thread::Builder::new()
        .name("dl-core-widgets-read".into())
        .spawn(move || read_messages(stream, &queue));
    let handler = std::thread::Builder::new()
        .name("dl-core-widgets".into())
        .spawn(move || handle_messages(&queued));
    (reader.is_ok() && handler.is_ok()).then_some(writer)
}

/// Reads the page's messages, one JSON object per line, until the kernel goes.
fn read_messages(stream: UnixStream, queue: &Sender<PageMessage>) {
    for line in BufReader::new(stream).lines() {
        let Ok(line) = line else {
            return;
        };
        if let Some(message) = parse(&line)
            && queue.send(message).is_err()
        {
            return;
        }
    }
}

/// The widget thread: handles the queued messages in batches.
fn handle_messages(queued: &Receiver<PageMessage>) {
    registry().listener = Some(std::thread::current().id());
    while let Ok(first) = queued.recv() {
        let mut batch = vec![first];
        batch.extend(queued.try_iter());
        handle_batch(batch);
    }
}

/// A message from the page, as the kernel forwards it.
struct PageMessage {
    msg_id: String,
    comm_id: String,
    close: bool,
    data: Map<String, Value>,
}

fn parse(line: &str) -> Option<PageMessage> {
    let value: Value = serde_json::from_str(line).ok()?;
    Some(PageMessage {
        msg_id: value.get("msg_id")?.as_str()?.to_owned(),
        comm_id: value.get("comm_id")?.as_str()?.to_owned(),
        close: value.get("event").and_then(Value::as_str) == Some("close"),
        data: value.get("data")?.as_object()?.clone(),
    })
}

/// Applies a batch of the page's messages: states first, then each changed model's callbacks
/// once, with the latest message of that model as parent.
fn handle_batch(batch: Vec<PageMessage>) {
    let mut changed: Vec<(String, String, Map<String, Value>)> = Vec::new();
    for message in batch {
        let method = message.data.get("method").and_then(Value::as_str);
        match (message.close, method) {
            (true, _) => {
                registry().models.remove(&message.comm_id);
                end(&message.msg_id);
            }
            (false, Some("update")) => {
                let state = message
                    .data
                    .get("state")
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default();
                if let Some(entry) = registry().models.get_mut(&message.comm_id) {
                    entry.state.extend(state.clone());
                }
                match changed.iter_mut().find(|(id, _, _)| *id == message.comm_id) {
                    Some((_, msg_id, keys)) => {
                        // A newer value of the same widget: the older message is done.
                        end(&std::mem::replace(msg_id, message.msg_id));
                        keys.extend(state);
                    }
                    None => changed.push((message.comm_id, message.msg_id, state)),
                }
            }
            (false, Some("request_state")) => {
                begin(&message.msg_id);
                let state = registry()
                    .models
                    .get(&message.comm_id)
                    .map(|e| e.state.clone());
                if let Some(state) = state {
                    send(
                        "comm_msg",
                        &message.comm_id,
                        json!({ "data": { "method": "update", "state": state, "buffer_paths": [] } }),
                    );
                }
                end(&message.msg_id);
            }
            (false, Some("custom")) => {
                let event = message
                    .data
                    .get("content")
                    .and_then(|c| c.get("event"))
                    .cloned();
                begin(&message.msg_id);
                let mut event_state = Map::new();
                event_state.insert("event".into(), event.unwrap_or(Value::Null));
                run_callbacks(&message.comm_id, &event_state);
                end(&message.msg_id);
            }
            _ => end(&message.msg_id),
        }
    }
    for (comm_id, msg_id, keys) in changed {
        begin(&msg_id);
        run_callbacks(&comm_id, &keys);
        end(&msg_id);
    }
}

fn begin(msg_id: &str) {
    registry().handling = Some(msg_id.to_owned());
    emit(&format!("DLK_COMM_BEGIN {}", json!({ "msg_id": msg_id })));
}

fn end(msg_id: &str) {
    registry().handling = None;
    emit(&format!("DLK_COMM_END {}", json!({ "msg_id": msg_id })));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    fn update(comm_id: &str, msg_id: &str, value: f64) -> PageMessage {
        PageMessage {
            msg_id: msg_id.into(),
            comm_id: comm_id.into(),
            close: false,
            data: json!({ "method": "update", "state": { "value": value } })
                .as_object()
                .cloned()
                .unwrap(),
        }
    }

    #[test]
    fn a_burst_of_updates_runs_the_callbacks_once_with_the_latest_value() {
        let id = open(json!({ "value": 0.0 }).as_object().cloned().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = Arc::clone(&seen);
        on_change(
            &id,
            Box::new(move |changes| record.lock().unwrap().push(changes["value"].clone())),
        );
        handle_batch(vec![
            update(&id, "m1", 0.1),
            update(&id, "m2", 0.2),
            update(&id, "m3", 0.3),
        ]);
        assert_eq!(*seen.lock().unwrap(), vec![json!(0.3)]);
        assert_eq!(get(&id, "value"), json!(0.3));
    }

    #[test]
    fn messages_for_unknown_or_closed_comms_and_bad_lines_are_ignored() {
        assert!(parse("not json").is_none());
        assert!(
            parse(r#"{"msg_id":"m","comm_id":"c"}"#).is_none(),
            "no data"
        );
        handle_batch(vec![update("nobody", "m1", 1.0)]);
        let id = open(Map::new());
        close(&id);
        handle_batch(vec![update(&id, "m2", 1.0)]);
        assert_eq!(get(&id, "value"), Value::Null);
    }
}
