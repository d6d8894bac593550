//! The child's output between cells.
//!
//! evcxr hands the child's output lines to the kernel on two channels, which `execute` pumps
//! while a cell runs. A widget's callback runs in the child when the page moves a slider,
//! with or without a cell running, so between cells a thread of the kernel's own reads the
//! same channels and sends what arrives where the [`OutputRoute`] says: to the page's comm
//! message being handled, else to the last cell's request.
//!
//! `execute` takes its [`turn`](IdleRelay::take_turn) before the cell starts; the relay then
//! stops reading until the cell has ended, so every line is read by one of the two, in order.

use super::interrupt::CellState;
use super::pump::Pump;
use super::route::OutputRoute;
use crossbeam_channel::{Receiver, select};
use jupyter_core::interpreter::StreamName;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// How long the relay waits for a line before it looks whether a cell wants its turn.
const POLL: Duration = Duration::from_millis(20);

/// The relay's state, shared with `execute`.
#[derive(Default)]
pub struct IdleRelay {
    /// A cell is about to run, or runs: the relay keeps off the channels.
    cell_wants: AtomicBool,
    /// Held by whoever reads the channels.
    turn: Mutex<()>,
    /// The session has ended.
    stop: AtomicBool,
}

/// A cell's turn on the output channels; the relay reads again once it is dropped.
pub struct CellTurn<'a> {
    relay: &'a IdleRelay,
    _turn: MutexGuard<'a, ()>,
}

impl Drop for CellTurn<'_> {
    fn drop(&mut self) {
        self.relay.cell_wants.store(false, Ordering::SeqCst);
    }
}

impl IdleRelay {
    /// Starts the relay's thread for `state`'s output channels.
    pub fn start(state: Arc<CellState>, route: Arc<OutputRoute>) -> std::io::Result<Arc<Self>> {
        let relay = Arc::new(IdleRelay::default());
        let running = Arc::clone(&relay);
        std::thread::Builder::new()
            .name("dlk-idle-relay".into())
            .spawn(move || running.run(&state, &route))?;
        Ok(relay)
    }

    /// Waits until the relay is off the channels; first relays what is already queued (a
    /// callback's last lines), so that none of it is taken for the cell's.
    pub fn take_turn(&self, state: &CellState, route: &OutputRoute) -> CellTurn<'_> {
        self.cell_wants.store(true, Ordering::SeqCst);
        let turn = self.turn.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((stdout, stderr)) = outputs(state) {
            while let Ok(line) = stdout.try_recv() {
                relay_lines(route, StreamName::Stdout, line, &stdout);
            }
            while let Ok(line) = stderr.try_recv() {
                relay_lines(route, StreamName::Stderr, line, &stderr);
            }
        }
        CellTurn {
            relay: self,
            _turn: turn,
        }
    }

    /// Ends the relay's thread.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    fn run(&self, state: &CellState, route: &OutputRoute) {
        while !self.stop.load(Ordering::SeqCst) {
            if self.cell_wants.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(2));
                continue;
            }
            let _turn = self.turn.lock().unwrap_or_else(|e| e.into_inner());
            let Some((stdout, stderr)) = outputs(state) else {
                drop(_turn);
                std::thread::sleep(POLL);
                continue;
            };
            select! {
                recv(stdout) -> line => if let Ok(line) = line {
                    relay_lines(route, StreamName::Stdout, line, &stdout);
                },
                recv(stderr) -> line => if let Ok(line) = line {
                    relay_lines(route, StreamName::Stderr, line, &stderr);
                },
                default(POLL) => {}
            }
        }
    }
}

/// The current child's output channels.
fn outputs(state: &CellState) -> Option<(Receiver<String>, Receiver<String>)> {
    state.outputs.lock().ok().and_then(|o| o.clone())
}

/// `first` and the lines waiting behind it, to the route's destination outside a cell.
fn relay_lines(route: &OutputRoute, name: StreamName, first: String, more: &Receiver<String>) {
    let Some(hub) = route.hub() else {
        return; // no comms attached: nobody to tell
    };
    let sink = hub.sink(None);
    Pump::new(&sink, route).lines(name, first, more);
}
