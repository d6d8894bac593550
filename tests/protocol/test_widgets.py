"""Comms and widgets through the real kernel: what a page running jupyterlab_widgets sends and
expects (ipywidgets' protocol version 2), spoken by jupyter_client.

Also measures the delay from a slider event sent by the page to the redrawn figure received,
for chapter 3's gradient-descent redraw: printed, never asserted (timing gates no test).
"""

from __future__ import annotations

import statistics
import sys
import time

import pytest

from dlk_protocol import CELL_TIMEOUT, execute, iopub_until_idle, shell_reply, start_kernel, stop_kernel, warm


@pytest.fixture(scope="module")
def kc():
    km, kc = start_kernel()
    warm(kc)
    yield kc
    stop_kernel(km, kc)


def send_comm(kc, msg_type: str, content: dict) -> str:
    msg = kc.session.msg(msg_type, content)
    kc.shell_channel.send(msg)
    return msg["header"]["msg_id"]


def ok(reply):
    assert reply["content"]["status"] == "ok", reply["content"]


def slider_id(iopub: list[dict], model: str = "FloatSliderModel") -> str:
    opens = [m for m in iopub if m["msg_type"] == "comm_open"
             and m["content"]["data"]["state"].get("_model_name") == model]
    assert opens, [m["msg_type"] for m in iopub]
    return opens[-1]["content"]["comm_id"]


def test_01_a_slider_opens_its_comm_and_shows_its_view(kc):
    reply, iopub = execute(kc, """
use dl_core::widgets::FloatSlider;
let lr = FloatSlider::new("lr", 0.0, 1.0, 0.01).with_value(0.25);
{ let l = lr.clone(); lr.on_change(move |v| println!("lr is now {v} (read back {})", l.value())); }
lr.show();
""")
    ok(reply)
    opens = [m for m in iopub if m["msg_type"] == "comm_open"]
    assert {m["content"]["target_name"] for m in opens} == {"jupyter.widget"}
    assert all(m["metadata"]["version"] == "2.1.0" for m in opens)
    state = next(m["content"]["data"]["state"] for m in opens
                 if m["content"]["data"]["state"]["_model_name"] == "FloatSliderModel")
    assert state["_model_module"] == "@jupyter-widgets/controls"
    assert state["_model_module_version"] == "2.0.0"
    assert state["layout"].startswith("IPY_MODEL_") and state["description"] == "lr"
    updates = [m for m in iopub if m["msg_type"] == "comm_msg"]
    assert updates and updates[-1]["content"]["data"]["state"] == {"value": 0.25}
    view = next(m for m in iopub if m["msg_type"] == "display_data")
    model_id = view["content"]["data"]["application/vnd.jupyter.widget-view+json"]["model_id"]
    assert model_id == slider_id(iopub)
    assert "FloatSlider(lr = 0.25)" in view["content"]["data"]["text/plain"]


def test_02_comm_info_lists_the_open_comms_by_target(kc):
    msg_id = send_comm(kc, "comm_info_request", {"target_name": "jupyter.widget"})
    reply = shell_reply(kc, msg_id)
    comms = reply["content"]["comms"]
    assert reply["content"]["status"] == "ok" and len(comms) >= 3  # slider, layout, style
    assert {c["target_name"] for c in comms.values()} == {"jupyter.widget"}
    msg_id = send_comm(kc, "comm_info_request", {"target_name": "no.such.target"})
    assert shell_reply(kc, msg_id)["content"]["comms"] == {}


def slider(kc) -> str:
    """A slider whose callback writes its value into a label (a comm message to the page)."""
    reply, iopub = execute(kc, 'let s2 = dl_core::widgets::FloatSlider::new("s", 0.0, 1.0, 0.1); '
                               'let l2 = dl_core::widgets::Label::new("-"); '
                               '{ let (c, l) = (s2.clone(), l2.clone()); '
                               's2.on_change(move |v| l.set_value(&format!("s2 = {v} = {}", c.value()))); } s2.show();')
    ok(reply)
    return slider_id(iopub)


def label_updates(iopub: list[dict]) -> list[str]:
    return [m["content"]["data"]["state"]["value"] for m in iopub
            if m["msg_type"] == "comm_msg" and "value" in m["content"]["data"].get("state", {})]


def test_03_a_page_update_runs_the_callback_with_the_message_as_parent(kc):
    comm_id = slider(kc)
    msg_id = send_comm(kc, "comm_msg", {"comm_id": comm_id, "data": {
        "method": "update", "state": {"value": 0.7}, "buffer_paths": []}})
    iopub = iopub_until_idle(kc, msg_id)
    assert [m["msg_type"] for m in iopub] == ["status", "comm_msg", "status"], iopub
    assert label_updates(iopub) == ["s2 = 0.7 = 0.7"]
    reply, cell = execute(kc, "s2.value()")
    ok(reply)
    assert next(m for m in cell if m["msg_type"] == "execute_result")["content"]["data"]["text/plain"] == "0.7"


def test_04_a_page_update_while_a_cell_runs_is_answered_at_once(kc):
    comm_id = slider(kc)
    cell_id = kc.execute("std::thread::sleep(std::time::Duration::from_secs(4)); println!(\"cell done\");")
    time.sleep(1.0)
    sent = time.monotonic()
    msg_id = send_comm(kc, "comm_msg", {"comm_id": comm_id, "data": {
        "method": "update", "state": {"value": 0.3}}})
    iopub = iopub_until_idle(kc, msg_id)
    answered = time.monotonic() - sent
    assert label_updates(iopub) == ["s2 = 0.3 = 0.3"]
    assert answered < 2.5, f"the comm message waited {answered:.1f} s for the cell"
    reply = shell_reply(kc, cell_id)
    ok(reply)
    outputs = iopub_until_idle(kc, cell_id)
    assert any(m["msg_type"] == "stream" and "cell done" in m["content"]["text"] for m in outputs)


def test_05_request_state_is_answered_with_the_whole_state(kc):
    comm_id = slider(kc)
    msg_id = send_comm(kc, "comm_msg", {"comm_id": comm_id, "data": {"method": "request_state"}})
    iopub = iopub_until_idle(kc, msg_id)
    update = next(m for m in iopub if m["msg_type"] == "comm_msg")
    assert update["content"]["comm_id"] == comm_id
    assert update["content"]["data"]["method"] == "update"
    assert update["content"]["data"]["state"]["_model_name"] == "FloatSliderModel"


def test_06_unknown_comm_and_malformed_content_are_dropped_and_the_kernel_lives(kc):
    msg_id = send_comm(kc, "comm_msg", {"comm_id": "no-such-comm", "data": {"method": "update"}})
    assert [m["content"]["execution_state"] for m in iopub_until_idle(kc, msg_id)] == ["busy", "idle"]
    for content in [{"data": {}}, {"comm_id": 5, "data": {}}, {"comm_id": "x", "data": "text"}]:
        send_comm(kc, "comm_msg", content)
    comm_id = slider(kc)
    # Not the widget protocol: the child ignores it and finishes the message.
    msg_id = send_comm(kc, "comm_msg", {"comm_id": comm_id, "data": {"method": "dance"}})
    assert [m["content"]["execution_state"] for m in iopub_until_idle(kc, msg_id)] == ["busy", "idle"]
    reply, _ = execute(kc, "1 + 1")
    ok(reply)


def test_07_a_comm_opened_by_the_page_for_an_unknown_target_is_closed(kc):
    msg_id = send_comm(kc, "comm_open", {"comm_id": "page-1", "target_name": "jupyter.widget.control", "data": {}})
    iopub = iopub_until_idle(kc, msg_id)
    assert [m["msg_type"] for m in iopub] == ["status", "comm_close", "status"]


GRADIENT_DESCENT = """
use dl_core::widgets::{interact, FloatSlider, IntSlider};
let lr = FloatSlider::new("learning rate", 0.01, 1.2, 0.01).with_value(0.5);
let steps = IntSlider::new("steps", 1, 300, 1).with_value(50);
let gd = {
    let mut rng = dl_core::rng::Rng::new(42);
    let x: Vec<f32> = (0..100).map(|_| rng.uniform()).collect();
    let y: Vec<f32> = x.iter().map(|xi| 3.0 * xi + 1.0 + rng.uniform()).collect();
    let (lr_of, steps_of) = (lr.clone(), steps.clone());
    interact(&[&lr, &steps], move || {
        let (rate, n) = (lr_of.value() as f32, steps_of.value() as usize);
        let (mut w, mut b, mut losses) = (0.0f32, 0.0f32, Vec::new());
        for _ in 0..n {
            let (mut dw, mut db, mut loss) = (0.0, 0.0, 0.0);
            for (xi, yi) in x.iter().zip(&y) { let e = w * xi + b - yi; dw += 2.0 * e * xi / 100.0; db += 2.0 * e / 100.0; loss += e * e / 100.0; }
            losses.push(loss.log10().clamp(-2.0, 3.0));
            w -= rate * dw; b -= rate * db;
        }
        let xt = Tensor::from_shape_vec(vec![100], x.clone()).unwrap();
        let yt = Tensor::from_shape_vec(vec![100], y.clone()).unwrap();
        Figure::panels(vec![plot::line("loss", &[("log10 loss", &losses[..])]), plot::fit_line("fit", &xt, &yt, w, b)], 2)
    })
};
"""


def test_08_interact_redraws_one_display_in_place_and_the_delay_is_measured(kc):
    reply, iopub = execute(kc, GRADIENT_DESCENT)
    ok(reply)
    figure = next(m for m in iopub if m["msg_type"] == "display_data" and "image/png" in m["content"]["data"])
    display_id = figure["content"]["transient"]["display_id"]
    comm_id = slider_id(iopub)
    delays, pngs = [], {figure["content"]["data"]["image/png"]}
    for k in range(20):
        value = round(0.06 + 0.05 * k, 2)  # never the first figure's 0.5
        sent = time.monotonic()
        msg_id = send_comm(kc, "comm_msg", {"comm_id": comm_id, "data": {
            "method": "update", "state": {"value": value}, "buffer_paths": []}})
        got = iopub_until_idle(kc, msg_id)
        updates = [m for m in got if m["msg_type"] == "update_display_data"]
        assert len(updates) == 1, [m["msg_type"] for m in got]
        delays.append(time.monotonic() - sent)
        assert updates[0]["content"]["transient"]["display_id"] == display_id
        assert not any(m["msg_type"] == "display_data" for m in got), "updated, not appended"
        pngs.add(updates[0]["content"]["data"]["image/png"])
    assert len(pngs) == 21, "every learning rate draws another figure"
    median_ms = 1000 * statistics.median(delays)
    print(f"\nwidget latency: slider event to redrawn figure, median of 20: {median_ms:.0f} ms "
          f"(min {1000 * min(delays):.0f}, max {1000 * max(delays):.0f})", file=sys.__stderr__)
    reply, cell = execute(kc, "(gd.redraws(), lr.value())")
    ok(reply)
    result = next(m for m in cell if m["msg_type"] == "execute_result")["content"]["data"]["text/plain"]
    assert result == "(20, 1.01)", result


SLOW_REDRAW = """
use dl_core::widgets::{interact, FloatSlider};
let slow = FloatSlider::new("slow", 0.0, 1.0, 0.1);
let slow_view = {
    let s = slow.clone();
    interact(&[&slow], move || {
        std::thread::sleep(std::time::Duration::from_millis(300));
        plot::line("value", &[("v", &[0.0, s.value() as f32][..])])
    })
};
"""


def test_09_a_burst_of_slider_events_coalesces_to_the_latest(kc):
    # A redraw that takes 300 ms: the events behind the first one arrive while it draws.
    reply, iopub = execute(kc, SLOW_REDRAW)
    ok(reply)
    comm_id = slider_id(iopub)
    ids = [send_comm(kc, "comm_msg", {"comm_id": comm_id, "data": {
        "method": "update", "state": {"value": round(0.1 + 0.1 * k, 1)}}}) for k in range(10)]
    deadline = time.monotonic() + CELL_TIMEOUT
    idle, redraws = set(), 0
    while idle != set(ids):
        msg = kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
        parent = msg["parent_header"].get("msg_id")
        if parent in ids and msg["msg_type"] == "update_display_data":
            redraws += 1
        if parent in ids and msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            idle.add(parent)
    assert 1 <= redraws <= 3, f"{redraws} redraws for a burst of 10"
    reply, cell = execute(kc, "(slow_view.redraws(), slow.value())")
    ok(reply)
    result = next(m for m in cell if m["msg_type"] == "execute_result")["content"]["data"]["text/plain"]
    assert result == f"({redraws}, 1.0)", result
