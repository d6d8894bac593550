//! The shell core and the control handlers against the scripted interpreter: every message
//! they emit is read back from the outbox queues.

mod mock;

use jupyter_core::dispatch::Flow;
use jupyter_core::message::Message;
use jupyter_core::outbox::Outgoing;
use mock::{Harness, drain, harness, parent_id, request, types};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

#[test]
fn execute_publishes_in_order_with_parent_and_count() {
    let mut h = harness();
    let req = request("execute_request", json!({ "code": "print hello, world" }));
    assert_eq!(h.core.handle(&req), Flow::Continue);
    let iopub = drain(&mut h.queues.iopub);
    assert_eq!(
        types(&iopub),
        ["status:busy", "execute_input", "stream", "status:idle"]
    );
    assert!(iopub.iter().all(|m| parent_id(m) == req.header.msg_id));
    assert_eq!(iopub[1].content["execution_count"], 1);
    assert_eq!(iopub[2].content["text"], "hello, world");
    assert_eq!(iopub[2].content["name"], "stdout");
    assert_eq!(
        iopub[2].identities[0].as_ref(),
        b"kernel.kernel-session.stream"
    );
    let shell = drain(&mut h.queues.shell);
    assert_eq!(types(&shell), ["execute_reply"]);
    assert_eq!(shell[0].identities, req.identities);
    assert_eq!(shell[0].content["status"], "ok");
    assert_eq!(shell[0].content["execution_count"], 1);
    assert_eq!(shell[0].header.session, "kernel-session");
    assert_eq!(shell[0].header.version, "5.3");
}

#[test]
fn count_starts_at_one_and_skips_silent_and_unstored_cells() {
    let mut h = harness();
    let counts: Vec<Value> = [
        json!({ "code": "value 1" }),
        json!({ "code": "value 2", "silent": true }),
        json!({ "code": "value 3", "store_history": false }),
        json!({ "code": "value 4" }),
    ]
    .into_iter()
    .map(|c| {
        h.core.handle(&request("execute_request", c));
        drain(&mut h.queues.shell)[0].content["execution_count"].clone()
    })
    .collect();
    assert_eq!(counts, [json!(1), json!(1), json!(1), json!(2)]);
    let iopub = drain(&mut h.queues.iopub);
    let results: Vec<&Value> = iopub
        .iter()
        .filter(|m| m.msg_type() == "execute_result")
        .map(|m| &m.content["data"]["text/plain"])
        .collect();
    assert_eq!(
        results,
        ["1", "3", "4"],
        "a silent cell has no execute_result"
    );
    let inputs = iopub
        .iter()
        .filter(|m| m.msg_type() == "execute_input")
        .count();
    assert_eq!(inputs, 3, "a silent cell has no execute_input");
}

#[test]
fn error_is_published_and_replied_with_details() {
    let mut h = harness();
    let req = request("execute_request", json!({ "code": "boom" }));
    assert_eq!(h.core.handle(&req), Flow::AbortQueued);
    let iopub = drain(&mut h.queues.iopub);
    assert_eq!(
        types(&iopub),
        ["status:busy", "execute_input", "error", "status:idle"]
    );
    assert_eq!(iopub[2].content["ename"], "CompilationError");
    let reply = &drain(&mut h.queues.shell)[0];
    assert_eq!(reply.content["status"], "error");
    assert_eq!(reply.content["evalue"], "cannot run boom");
    assert_eq!(reply.content["traceback"], json!(["line 1"]));
    let no_stop = request(
        "execute_request",
        json!({ "code": "boom", "stop_on_error": false }),
    );
    assert_eq!(h.core.handle(&no_stop), Flow::Continue);
}

#[test]
fn stop_on_error_aborts_queued_executes_only() {
    let mut h = harness();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let queued = [
        request("execute_request", json!({ "code": "boom" })),
        request("execute_request", json!({ "code": "print never" })),
        request("kernel_info_request", json!({})),
        request("execute_request", json!({ "code": "print never either" })),
    ];
    for m in &queued {
        tx.send(m.clone()).unwrap();
    }
    drop(tx);
    h.core.run(&mut rx, &AtomicBool::new(false));
    assert_eq!(*h.log.executed.lock().unwrap(), ["boom"]);
    let shell = drain(&mut h.queues.shell);
    let statuses: Vec<(&str, &str)> = shell
        .iter()
        .map(|m| (parent_id(m), m.content["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        statuses,
        [
            (queued[0].header.msg_id.as_str(), "error"),
            (queued[1].header.msg_id.as_str(), "aborted"),
            (queued[3].header.msg_id.as_str(), "aborted"),
            (queued[2].header.msg_id.as_str(), "ok"),
        ]
    );
    let busy = drain(&mut h.queues.iopub)
        .iter()
        .filter(|m| m.content.get("execution_state") == Some(&json!("busy")))
        .count();
    assert_eq!(busy, 4, "busy/idle around aborted requests too");
}

#[test]
fn a_panicking_interpreter_gets_an_error_reply_and_the_loop_goes_on() {
    let mut h = harness();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let boom = request("execute_request", json!({ "code": "panic" }));
    let after = request("execute_request", json!({ "code": "print still here" }));
    tx.send(boom.clone()).unwrap();
    tx.send(after.clone()).unwrap();
    drop(tx);
    h.core.run(&mut rx, &AtomicBool::new(false));
    let shell = drain(&mut h.queues.shell);
    assert_eq!(shell.len(), 2);
    assert_eq!(parent_id(&shell[0]), boom.header.msg_id);
    assert_eq!(shell[0].msg_type(), "execute_reply");
    assert_eq!(shell[0].content["status"], "error");
    assert!(
        shell[0].content["evalue"]
            .as_str()
            .unwrap()
            .contains("scripted panic")
    );
    assert_eq!(parent_id(&shell[1]), after.header.msg_id);
    assert_eq!(shell[1].content["status"], "ok");
    let idles = drain(&mut h.queues.iopub)
        .iter()
        .filter(|m| {
            parent_id(m) == boom.header.msg_id
                && m.content.get("execution_state") == Some(&json!("idle"))
        })
        .count();
    assert_eq!(idles, 1);
}

#[test]
fn stop_flag_ends_the_loop_before_the_next_request() {
    let mut h = harness();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    tx.send(request("execute_request", json!({ "code": "print x" })))
        .unwrap();
    h.core.run(&mut rx, &AtomicBool::new(true));
    assert!(h.log.executed.lock().unwrap().is_empty());
}

#[test]
fn bad_content_is_dropped_silently() {
    let mut h = harness();
    for c in [
        json!({ "code": 42 }),
        json!({ "silent": true }),
        json!({ "code": "print x", "silent": "no" }),
    ] {
        assert_eq!(
            h.core.handle(&request("execute_request", c)),
            Flow::Continue
        );
    }
    assert!(h.log.executed.lock().unwrap().is_empty());
    assert!(drain(&mut h.queues.iopub).is_empty());
    assert!(drain(&mut h.queues.shell).is_empty());
}

#[test]
fn display_and_update_display() {
    let mut h = harness();
    h.core
        .handle(&request("execute_request", json!({ "code": "display" })));
    h.core.handle(&request(
        "execute_request",
        json!({ "code": "display update" }),
    ));
    let iopub = drain(&mut h.queues.iopub);
    let shown: Vec<&Message> = iopub
        .iter()
        .filter(|m| m.msg_type().contains("display"))
        .collect();
    assert_eq!(shown[0].msg_type(), "display_data");
    assert_eq!(shown[1].msg_type(), "update_display_data");
    for m in shown {
        assert_eq!(m.content["transient"]["display_id"], "d1");
        assert_eq!(m.content["data"]["image/png"], "iVBOR");
    }
}

#[test]
fn small_requests_are_forwarded_and_answered() {
    let mut h = harness();
    let ask = |h: &mut Harness, t: &str, c: Value| {
        h.core.handle(&request(t, c));
        drain(&mut h.queues.shell).remove(0)
    };
    let r = ask(
        &mut h,
        "complete_request",
        json!({ "code": "pri", "cursor_pos": 99 }),
    );
    assert_eq!(r.msg_type(), "complete_reply");
    assert_eq!(r.content["matches"], json!(["pri_done"]));
    assert_eq!(r.content["cursor_end"], 3, "cursor clamped to the code");
    let r = ask(
        &mut h,
        "inspect_request",
        json!({ "code": "Vec", "cursor_pos": 1 }),
    );
    assert_eq!(r.content["found"], true);
    assert_eq!(r.content["data"]["text/plain"], "struct Vec<T>");
    let r = ask(&mut h, "inspect_request", json!({ "code": "nothing" }));
    assert_eq!(r.content["found"], false);
    let r = ask(&mut h, "is_complete_request", json!({ "code": "fn f() {" }));
    assert_eq!(r.content["status"], "incomplete");
    assert_eq!(r.content["indent"], "    ");
    let r = ask(&mut h, "is_complete_request", json!({ "code": "fn f() }" }));
    assert_eq!(r.content["status"], "invalid");
    let r = ask(&mut h, "kernel_info_request", json!({}));
    assert_eq!(r.content["protocol_version"], "5.3");
    assert_eq!(r.content["language_info"]["name"], "scripted");
    assert_eq!(r.content["implementation"], "scripted-kernel");
    assert_eq!(
        r.content["help_links"][0]["url"],
        "https://example.org/scripts"
    );
    let r = ask(&mut h, "comm_info_request", json!({}));
    assert_eq!(r.content["comms"], json!({}));
}

#[test]
fn comm_open_for_unknown_target_is_closed() {
    let mut h = harness();
    let req = request(
        "comm_open",
        json!({ "comm_id": "c-1", "target_name": "jupyter.widget", "data": {} }),
    );
    h.core.handle(&req);
    let iopub = drain(&mut h.queues.iopub);
    assert_eq!(types(&iopub), ["status:busy", "comm_close", "status:idle"]);
    assert_eq!(iopub[1].content["comm_id"], "c-1");
    assert!(drain(&mut h.queues.shell).is_empty());
}

/// The shell reply to a request of type `t`.
fn ask(h: &mut Harness, t: &str, c: Value) -> Message {
    h.core.handle(&request(t, c));
    drain(&mut h.queues.shell).remove(0)
}

/// The iopub messages of `parent`, waiting (up to 5 s) for its `idle`.
fn iopub_until_idle(h: &mut Harness, parent: &Message) -> Vec<Message> {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let mut seen = Vec::new();
    loop {
        seen.extend(
            drain(&mut h.queues.iopub)
                .into_iter()
                .filter(|m| parent_id(m) == parent.header.msg_id),
        );
        if seen
            .last()
            .is_some_and(|m| m.content["execution_state"] == "idle")
        {
            return seen;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no idle: {:?}",
            types(&seen)
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_comm_opened_by_the_kernel_is_published_listed_and_closed() {
    let mut h = harness();
    let cell = request("execute_request", json!({ "code": "open w-1" }));
    h.core.handle(&cell);
    let iopub = drain(&mut h.queues.iopub);
    let open = iopub.iter().find(|m| m.msg_type() == "comm_open").unwrap();
    assert_eq!(parent_id(open), cell.header.msg_id);
    assert_eq!(open.content["comm_id"], "w-1");
    assert_eq!(open.content["target_name"], "echo");
    assert_eq!(open.content["data"]["state"]["value"], 1);
    assert_eq!(open.metadata["version"], "2.1.0");
    drain(&mut h.queues.shell);

    let r = ask(&mut h, "comm_info_request", json!({}));
    assert_eq!(
        r.content["comms"],
        json!({ "w-1": { "target_name": "echo" } })
    );
    let r = ask(
        &mut h,
        "comm_info_request",
        json!({ "target_name": "echo" }),
    );
    assert_eq!(r.content["comms"]["w-1"]["target_name"], "echo");
    let r = ask(
        &mut h,
        "comm_info_request",
        json!({ "target_name": "jupyter.widget" }),
    );
    assert_eq!(r.content["comms"], json!({}));

    let close = request("comm_close", json!({ "comm_id": "w-1", "data": {} }));
    h.core.handle(&close);
    iopub_until_idle(&mut h, &close);
    let r = ask(&mut h, "comm_info_request", json!({}));
    assert_eq!(r.content["comms"], json!({}), "a closed comm is not listed");
    let events: Vec<_> = h
        .log
        .comms
        .lock()
        .unwrap()
        .iter()
        .map(|c| c.event.clone())
        .collect();
    assert_eq!(events, [jupyter_core::interpreter::PageCommEvent::Close]);
}

#[test]
fn a_page_message_is_answered_with_it_as_parent_between_busy_and_idle() {
    let mut h = harness();
    h.core
        .handle(&request("execute_request", json!({ "code": "open w-2" })));
    drain(&mut h.queues.iopub);
    let msg = request(
        "comm_msg",
        json!({ "comm_id": "w-2", "data": { "method": "update" } }),
    );
    h.core.handle(&msg);
    let iopub = iopub_until_idle(&mut h, &msg);
    assert_eq!(
        types(&iopub),
        ["status:busy", "stream", "comm_msg", "status:idle"]
    );
    assert_eq!(iopub[1].content["text"], r#"echo: {"method":"update"}"#);
    assert_eq!(iopub[2].content["comm_id"], "w-2");
    assert!(
        drain(&mut h.queues.shell)
            .iter()
            .all(|m| m.msg_type() != "comm_msg")
    );
    assert_eq!(h.log.comms.lock().unwrap()[0].msg_id, msg.header.msg_id);
}

#[test]
fn the_page_may_open_a_comm_of_an_accepted_target() {
    let mut h = harness();
    let open = request(
        "comm_open",
        json!({ "comm_id": "p-1", "target_name": "echo", "data": {} }),
    );
    h.core.handle(&open);
    assert_eq!(
        types(&iopub_until_idle(&mut h, &open)),
        ["status:busy", "status:idle"]
    );
    let r = ask(&mut h, "comm_info_request", json!({}));
    assert_eq!(r.content["comms"]["p-1"]["target_name"], "echo");
}

#[test]
fn a_message_for_an_unknown_comm_is_dropped_but_answered_idle() {
    let mut h = harness();
    let msg = request(
        "comm_msg",
        json!({ "comm_id": "nobody", "data": { "x": 1 } }),
    );
    h.core.handle(&msg);
    let iopub = drain(&mut h.queues.iopub);
    assert_eq!(types(&iopub), ["status:busy", "status:idle"]);
    assert!(h.log.comms.lock().unwrap().is_empty(), "never delivered");
    let close = request("comm_close", json!({ "comm_id": "nobody" }));
    h.core.handle(&close);
    assert_eq!(
        types(&drain(&mut h.queues.iopub)),
        ["status:busy", "status:idle"]
    );
}

#[test]
fn malformed_comm_content_is_dropped_and_the_kernel_goes_on() {
    let mut h = harness();
    h.core
        .handle(&request("execute_request", json!({ "code": "open w-3" })));
    drain(&mut h.queues.iopub);
    drain(&mut h.queues.shell);
    for (t, c) in [
        ("comm_msg", json!({ "data": {} })),
        ("comm_msg", json!({ "comm_id": 3, "data": {} })),
        (
            "comm_msg",
            json!({ "comm_id": "w-3", "data": "not an object" }),
        ),
        (
            "comm_open",
            json!({ "comm_id": "x", "target_name": ["echo"] }),
        ),
        ("comm_close", json!({ "comm_id": null })),
        ("comm_info_request", json!({ "target_name": 5 })),
    ] {
        h.core.handle(&request(t, c.clone()));
        assert!(
            drain(&mut h.queues.iopub).is_empty(),
            "{t} {c}: no status at all"
        );
        assert!(drain(&mut h.queues.shell).is_empty(), "{t} {c}: no reply");
    }
    assert!(h.log.comms.lock().unwrap().is_empty());
    let r = ask(&mut h, "comm_info_request", json!({}));
    assert_eq!(
        r.content["comms"]["w-3"]["target_name"], "echo",
        "still open"
    );
}

#[test]
fn history_sees_stored_cells_only() {
    let mut h = harness();
    for c in [
        json!({ "code": "value 1" }),
        json!({ "code": "value 2", "silent": true }),
        json!({ "code": "print x" }),
    ] {
        h.core.handle(&request("execute_request", c));
    }
    drain(&mut h.queues.shell);
    h.core.handle(&request(
        "history_request",
        json!({ "hist_access_type": "tail", "n": 5, "output": true, "raw": true }),
    ));
    let r = drain(&mut h.queues.shell).remove(0);
    assert_eq!(
        r.content["history"],
        json!([[1, 1, ["value 1", "1"]], [1, 2, ["print x", null]]])
    );
    h.core.handle(&request(
        "history_request",
        json!({ "hist_access_type": "search", "pattern": "print*", "output": false, "raw": true }),
    ));
    let r = drain(&mut h.queues.shell).remove(0);
    assert_eq!(r.content["history"], json!([[1, 2, "print x"]]));
}

#[test]
fn user_expressions_are_evaluated_after_a_good_cell() {
    let mut h = harness();
    h.core.handle(&request(
        "execute_request",
        json!({ "code": "print x", "user_expressions": { "a": "value 7", "b": "oops", "c": 3 } }),
    ));
    let r = drain(&mut h.queues.shell).remove(0);
    let ue = &r.content["user_expressions"];
    assert_eq!(ue["a"]["status"], "ok");
    assert_eq!(ue["a"]["data"]["text/plain"], "7");
    assert_eq!(ue["b"]["status"], "error");
    assert_eq!(ue["c"]["status"], "error");
}

#[test]
fn input_request_goes_to_stdin_and_waits_for_the_reply() {
    let Harness {
        mut core,
        mut queues,
        stdin: bridge,
        ..
    } = harness();
    let req = request("execute_request", json!({ "code": "input" }));
    let worker = std::thread::spawn(move || {
        core.handle(&req);
        core
    });
    let asked = loop {
        if let Ok(Outgoing::Msg(m)) = queues.stdin.try_recv() {
            break *m;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    assert_eq!(asked.msg_type(), "input_request");
    assert_eq!(asked.identities[0].as_ref(), b"client-id");
    assert_eq!(asked.content["prompt"], "name: ");
    bridge.deliver("Ada".into());
    worker.join().unwrap();
    let texts: Vec<Value> = drain(&mut queues.iopub)
        .into_iter()
        .filter(|m| m.msg_type() == "stream")
        .map(|m| m.content["text"].clone())
        .collect();
    assert_eq!(texts, [json!("Some(\"Ada\")")]);
}

#[test]
fn input_without_allow_stdin_gives_none_without_asking() {
    let mut h = harness();
    h.core.handle(&request(
        "execute_request",
        json!({ "code": "input", "allow_stdin": false }),
    ));
    assert!(drain(&mut h.queues.stdin).is_empty());
    let texts: Vec<Value> = drain(&mut h.queues.iopub)
        .into_iter()
        .filter(|m| m.msg_type() == "stream")
        .map(|m| m.content["text"].clone())
        .collect();
    assert_eq!(texts, [json!("None")]);
}

#[test]
fn control_answers_interrupt_shutdown_kernel_info_and_debug() {
    let mut h = harness();
    let control = h.control.clone();
    let handle = |msg_type: &str, content: Value| control.handle(&request(msg_type, content));
    assert_eq!(handle("interrupt_request", json!({})), Flow::Continue);
    assert_eq!(h.log.interrupts.load(Ordering::SeqCst), 1);
    assert_eq!(handle("kernel_info_request", json!({})), Flow::Continue);
    assert_eq!(
        handle("debug_request", json!({"command": "initialize"})),
        Flow::Continue
    );
    assert_eq!(
        handle("execute_request", json!({ "code": "print no" })),
        Flow::Continue,
        "shell requests are not served on control"
    );
    assert_eq!(
        handle("shutdown_request", json!({ "restart": true })),
        Flow::Shutdown
    );
    assert_eq!(
        handle("shutdown_request", json!({ "restart": "yes" })),
        Flow::Continue,
        "ill-typed content is dropped"
    );
    assert!(h.log.executed.lock().unwrap().is_empty());
    let replies = drain(&mut h.queues.control);
    assert_eq!(
        types(&replies),
        [
            "interrupt_reply",
            "kernel_info_reply",
            "debug_reply",
            "shutdown_reply"
        ]
    );
    assert_eq!(replies[1].content["language_info"]["name"], "scripted");
    assert_eq!(replies[3].content["restart"], true);
    let iopub = drain(&mut h.queues.iopub);
    assert_eq!(
        types(&iopub),
        [
            "status:busy",
            "status:idle",
            "status:busy",
            "status:idle",
            "status:busy",
            "status:idle",
            "status:busy",
            "status:idle",
            "status:busy",
            "shutdown_reply",
            "status:idle"
        ]
    );
    assert!(drain(&mut h.queues.shell).is_empty());
}

#[test]
fn shell_answers_the_control_requests_the_same_way() {
    let mut h = harness();
    let on_control: Vec<Message> = ["kernel_info_request", "interrupt_request"]
        .into_iter()
        .map(|t| {
            h.control.handle(&request(t, json!({})));
            drain(&mut h.queues.control).remove(0)
        })
        .collect();
    let on_shell: Vec<Message> = ["kernel_info_request", "interrupt_request"]
        .into_iter()
        .map(|t| {
            h.core.handle(&request(t, json!({})));
            drain(&mut h.queues.shell).remove(0)
        })
        .collect();
    for (c, s) in on_control.iter().zip(&on_shell) {
        assert_eq!(c.msg_type(), s.msg_type());
        assert_eq!(c.content, s.content);
    }
    assert_eq!(h.log.interrupts.load(Ordering::SeqCst), 2);
    let shutdown = request("shutdown_request", json!({ "restart": false }));
    assert_eq!(h.core.handle(&shutdown), Flow::Shutdown);
    assert_eq!(drain(&mut h.queues.shell)[0].content["restart"], false);
}
