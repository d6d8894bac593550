//! Integration tests of the evcxr session (`EvcxrInterpreter`), driven directly.
//!
//! evcxr re-runs the current executable as its child, so this test has its own `main`
//! (`harness = false`) that calls the child hook first. Usage:
//! `cargo test --release -p dl-kernel --test session [-- NAME_FILTER...]`.
//! The cache directory is the kernel's default (`DL_KERNEL_CACHE_DIR` overrides it), so a
//! `dl-kernel warm-up` beforehand makes the first session fast.

use dl_kernel::session::{self, EvcxrInterpreter, SessionConfig};
use jupyter_core::interpreter::{
    Display, ExecuteError, ExecuteOutcome, ExecuteRequest, Interpreter, OutputSink, StreamName,
};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
enum Rec {
    Stream(StreamName, String),
    Display(Display),
    Clear(bool),
}

#[derive(Default)]
struct Recorder {
    events: Mutex<Vec<(Instant, Rec)>>,
}

impl Recorder {
    fn push(&self, rec: Rec) {
        self.events.lock().unwrap().push((Instant::now(), rec));
    }
    fn text(&self, name: StreamName) -> String {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter_map(|(_, r)| match r {
                Rec::Stream(n, t) if *n == name => Some(t.clone()),
                _ => None,
            })
            .collect()
    }
    fn displays(&self) -> Vec<Display> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter_map(|(_, r)| match r {
                Rec::Display(d) => Some(d.clone()),
                _ => None,
            })
            .collect()
    }
}

impl OutputSink for Recorder {
    fn stream(&self, name: StreamName, text: &str) {
        self.push(Rec::Stream(name, text.to_owned()));
    }
    fn display(&self, display: Display) {
        self.push(Rec::Display(display));
    }
    fn clear_output(&self, wait: bool) {
        self.push(Rec::Clear(wait));
    }
    fn input(&self, _prompt: &str, _password: bool) -> Option<String> {
        Some("typed".into())
    }
}

struct Session {
    interp: EvcxrInterpreter,
    count: u32,
}

impl Session {
    fn run(&mut self, code: &str) -> (ExecuteOutcome, Recorder, Duration) {
        self.count += 1;
        let request = ExecuteRequest {
            code: code.to_owned(),
            silent: false,
            store_history: true,
            allow_stdin: true,
            execution_count: self.count,
        };
        let recorder = Recorder::default();
        let started = Instant::now();
        let outcome = self.interp.execute(&request, &recorder);
        (outcome, recorder, started.elapsed())
    }

    /// Runs a cell that must succeed; returns its text/plain value and its stdout.
    fn ok(&mut self, code: &str) -> (String, String) {
        let (outcome, rec, _) = self.run(code);
        match outcome {
            ExecuteOutcome::Ok { result } => {
                let value = result
                    .and_then(|r| {
                        r.get("text/plain")
                            .and_then(|v| v.as_str().map(str::to_owned))
                    })
                    .unwrap_or_default();
                (value, rec.text(StreamName::Stdout))
            }
            ExecuteOutcome::Error(e) => panic!(
                "cell failed: {code}\n{}: {}\n{}\nstderr: {}",
                e.ename,
                e.evalue,
                e.traceback.join("\n"),
                rec.text(StreamName::Stderr)
            ),
        }
    }

    fn err(&mut self, code: &str) -> (ExecuteError, Recorder, Duration) {
        let (outcome, rec, took) = self.run(code);
        match outcome {
            ExecuteOutcome::Error(e) => (e, rec, took),
            ExecuteOutcome::Ok { result } => panic!(
                "cell should fail: {code} → {result:?}\nstdout: {:?}\nstderr: {:?}",
                rec.text(StreamName::Stdout),
                rec.text(StreamName::Stderr)
            ),
        }
    }
}

/// `$DL_KERNEL_CACHE_DIR`, else the cache `make setup` warms (`.venv/share/dl-kernel/cache`)
/// when it exists, else the user's default.
fn config(preload: bool) -> SessionConfig {
    let venv_cache =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/share/dl-kernel/cache");
    let cache_dir = if std::env::var_os("DL_KERNEL_CACHE_DIR").is_none() && venv_cache.is_dir() {
        venv_cache
    } else {
        SessionConfig::default_cache_dir()
    };
    SessionConfig { cache_dir, preload }
}

type Test = fn(&mut Session);

fn tests() -> Vec<(&'static str, Test)> {
    vec![
        ("preload_dl_core_in_scope", preload_dl_core_in_scope),
        ("value_and_stdout", value_and_stdout),
        ("stdout_streams_while_running", stdout_streams_while_running),
        (
            "print_without_newline_does_not_hang",
            print_without_newline_does_not_hang,
        ),
        ("displays_and_update_by_id", displays_and_update_by_id),
        ("malformed_marker_is_text", malformed_marker_is_text),
        ("compile_error_points_at_cell", compile_error_points_at_cell),
        (
            "panic_keeps_earlier_variables",
            panic_keeps_earlier_variables,
        ),
        ("statics_persist_across_cells", statics_persist_across_cells),
        (
            "own_layer_trains_saves_and_loads",
            own_layer_trains_saves_and_loads,
        ),
        (
            "cooperative_interrupt_keeps_variables",
            cooperative_interrupt_keeps_variables,
        ),
        ("interrupt_loop", interrupt_loop),
        ("interrupt_println_flood", interrupt_println_flood),
        ("interrupt_while_compiling", interrupt_while_compiling),
        ("abort_names_lost_variables", abort_names_lost_variables),
        ("exit_is_a_crash_too", exit_is_a_crash_too),
        ("completions", completions),
        ("inspect", inspect),
        (
            "restart_drops_variables_keeps_preload",
            restart_drops_variables_keeps_preload,
        ),
    ]
}

fn preload_dl_core_in_scope(s: &mut Session) {
    // No `:dep`, no `use`: the prelude is there.
    let (value, _) = s.ok("let t = Array2::<f32>::zeros((2, 3));\nt.len()");
    assert_eq!(value, "6");
    let (value, _) = s.ok("dl_core::rng::Rng::new(1).below(10) < 10");
    assert_eq!(value, "true");
}

fn value_and_stdout(s: &mut Session) {
    let (value, out) = s.ok("println!(\"hello\");\n40 + 2");
    assert_eq!(value, "42");
    assert_eq!(out, "hello\n");
}

fn stdout_streams_while_running(s: &mut Session) {
    let code = "for i in 0..3 { println!(\"tick {i}\"); \
                std::thread::sleep(std::time::Duration::from_millis(600)); }";
    let started = Instant::now();
    let (outcome, rec, took) = s.run(code);
    assert!(matches!(outcome, ExecuteOutcome::Ok { .. }), "{outcome:?}");
    let events = rec.events.lock().unwrap();
    let first = events
        .iter()
        .find(|(_, r)| matches!(r, Rec::Stream(StreamName::Stdout, t) if t.contains("tick 0")))
        .expect("tick 0 arrived");
    let ended = started + took;
    assert!(
        ended.duration_since(first.0) >= Duration::from_millis(900),
        "tick 0 arrived only {:?} before the cell ended",
        ended.duration_since(first.0)
    );
}

fn print_without_newline_does_not_hang(s: &mut Session) {
    // Not covered: text printed without a newline and never flushed stays in the cell's own
    // buffered stdout (each cell links its own std) and shows with a later cell (README).
    // A flushed partial line (a progress bar) arrives while the cell still runs.
    let code = "use std::io::Write;\nprint!(\"\\rstep 1\"); std::io::stdout().flush().unwrap();\n\
                std::thread::sleep(std::time::Duration::from_millis(800));\nprintln!(\"\\rdone\");";
    let started = Instant::now();
    let (outcome, rec, took) = s.run(code);
    assert!(matches!(outcome, ExecuteOutcome::Ok { .. }), "{outcome:?}");
    let events = rec.events.lock().unwrap();
    let partial = events
        .iter()
        .find(|(_, r)| matches!(r, Rec::Stream(_, t) if t.contains("step 1")))
        .expect("partial line arrived");
    assert!((started + took).duration_since(partial.0) >= Duration::from_millis(500));
    drop(events);
    assert_eq!(rec.text(StreamName::Stdout), "\rstep 1\rdone\n");
}

fn displays_and_update_by_id(s: &mut Session) {
    let code = r#"
println!("before");
println!("DLK_DISPLAY {{\"data\":{{\"text/plain\":\"first\"}},\"display_id\":\"d1\"}}");
print!("inline ");
println!("DLK_DISPLAY {{\"data\":{{\"text/html\":\"<b>second</b>\",\"text/plain\":\"second\"}}}}");
println!("DLK_DISPLAY {{\"data\":{{\"text/plain\":\"first, updated\"}},\"display_id\":\"d1\",\"update\":true}}");
println!("DLK_CLEAR_OUTPUT {{\"wait\":true}}");
println!("after");
"#;
    let (outcome, rec, _) = s.run(code);
    assert!(matches!(outcome, ExecuteOutcome::Ok { .. }), "{outcome:?}");
    let displays = rec.displays();
    assert_eq!(displays.len(), 3, "{displays:?}");
    assert_eq!(displays[0].display_id.as_deref(), Some("d1"));
    assert!(!displays[0].update);
    assert_eq!(displays[1].data["text/html"], "<b>second</b>");
    assert!(displays[2].update);
    assert_eq!(displays[2].data["text/plain"], "first, updated");
    assert_eq!(rec.text(StreamName::Stdout), "before\ninline after\n");
    let events = rec.events.lock().unwrap();
    assert!(events.iter().any(|(_, r)| matches!(r, Rec::Clear(true))));
    // Order is kept: "before" precedes the first display, which precedes "after".
    let kinds: Vec<String> = events
        .iter()
        .map(|(_, r)| match r {
            Rec::Stream(_, t) => format!("text:{t}"),
            Rec::Display(d) => format!("display:{}", d.data["text/plain"]),
            Rec::Clear(_) => "clear".into(),
        })
        .collect();
    assert_eq!(kinds.first().map(String::as_str), Some("text:before\n"));
    assert_eq!(kinds.last().map(String::as_str), Some("text:after\n"));
}

fn malformed_marker_is_text(s: &mut Session) {
    let (outcome, rec, _) = s.run("println!(\"DLK_DISPLAY {{oops\");");
    assert!(matches!(outcome, ExecuteOutcome::Ok { .. }));
    assert_eq!(rec.text(StreamName::Stdout), "DLK_DISPLAY {oops\n");
    assert!(rec.text(StreamName::Stderr).contains("malformed"));
}

fn compile_error_points_at_cell(s: &mut Session) {
    let (e, _, _) = s.err("let a = 1;\nlet b: i32 = \"text\";");
    assert_eq!(e.ename, "CompilationError");
    assert!(e.evalue.contains("mismatched types"), "{}", e.evalue);
    assert!(e.evalue.contains("line 2"), "{}", e.evalue);
    let tb = e.traceback.join("\n");
    assert!(tb.contains("cell:2:"), "{tb}");
    assert!(tb.contains("let b: i32 = \"text\";"), "{tb}");
    assert!(tb.contains("^^^"), "{tb}");
}

fn panic_keeps_earlier_variables(s: &mut Session) {
    s.ok("let kept = 41;");
    let (e, rec, _) =
        s.err("let doomed = 1;\nlet v: Vec<i32> = Vec::new();\npanic!(\"boom {}\", kept);");
    assert_eq!(e.ename, "Panic");
    assert!(e.evalue.contains("boom 41"), "{}", e.evalue);
    assert!(e.evalue.contains("cell:3:"), "{}", e.evalue);
    // main() sets RUST_BACKTRACE=1: the backtrace is not part of the message.
    assert!(!e.evalue.contains("stack backtrace"), "{}", e.evalue);
    assert!(
        !rec.text(StreamName::Stderr)
            .contains("panicked at src/lib.rs")
    );
    let (value, _) = s.ok("kept + 1");
    assert_eq!(value, "42");
    // A panic inside a library (here std) is located there.
    let (e, _, _) = s.err("let empty: Vec<i32> = Vec::new();\nempty[3]");
    assert_eq!(e.ename, "Panic");
    assert!(e.evalue.contains("index out of bounds"), "{}", e.evalue);
}

/// A layer written in a cell (a `Module`, its backward derived) is a layer like the others:
/// it trains with `fit`, shows in `summary`, and its weights are saved and loaded back into a
/// model built by the reader's code; `Sequential::load` says why it cannot rebuild it.
fn own_layer_trains_saves_and_loads(s: &mut Session) {
    s.ok(r#"
struct Affine { weight: Parameter, bias: Parameter }
impl Affine {
    fn new(inputs: usize, outputs: usize) -> Affine {
        Affine {
            weight: Parameter::new("weight", init::normal(&[inputs, outputs], 0.0, 0.1)),
            bias: Parameter::new("bias", tensor::zeros(&[outputs])),
        }
    }
}
impl Module for Affine {
    fn forward(&self, x: &Var, tape: &Tape, _mode: Mode) -> Var {
        x.matmul(&tape.param(&self.weight)) + tape.param(&self.bias)
    }
    fn parameters(&self) -> Vec<&Parameter> { vec![&self.weight, &self.bias] }
    fn parameters_mut(&mut self) -> Vec<&mut Parameter> { vec![&mut self.weight, &mut self.bias] }
    fn name(&self) -> &str { "affine" }
}
"#);
    s.ok("seed(3);
let x = init::uniform(&[64, 2], -1.0, 1.0);
let y = x.map_axis(Axis(1), |r| 2.0 * r[0] - r[1] + 0.5).insert_axis(Axis(1));");
    s.ok(
        "let mut model = Sequential::new().add(Autograd::new(Affine::new(2, 1)));
model.compile(Sgd::new(0.3), Loss::Mse, &[]);",
    );
    let (loss, _) = s.ok(r#"model.fit(&x, &y, FitOptions::new().epochs(60).batch_size(16).verbose(false)).last("loss").unwrap()"#);
    assert!(loss.parse::<f32>().unwrap() < 1e-3, "loss {loss}");
    let (summary, _) = s.ok("model.summary(&[2])");
    assert!(
        summary.contains("affine")
            && summary.contains("(None, 1)")
            && summary.contains("Total params: 3"),
        "{summary}"
    );
    s.ok(
        r#"let path = std::env::temp_dir().join(format!("own_layer_{}.json", std::process::id()));
model.save(&path).unwrap();"#,
    );
    s.ok("let mut rebuilt = Sequential::new().add(Autograd::new(Affine::new(2, 1)));\nrebuilt.load_weights(&path).unwrap();");
    let (same, _) = s.ok("rebuilt.predict(&x) == model.predict(&x)");
    assert_eq!(same, "true");
    let (message, _) = s.ok("Sequential::load(&path).unwrap_err().to_string()");
    assert!(
        message.contains("layer of your own") && message.contains("load_weights"),
        "{message}"
    );
    let (message, _) = s.ok("Sequential::new().add(Autograd::new(Affine::new(3, 1))).load_weights(&path).unwrap_err().to_string()");
    assert!(
        message.contains("[2, 1]") && message.contains("[3, 1]"),
        "{message}"
    );
}

fn statics_persist_across_cells(s: &mut Session) {
    // dl-core's generator is one state for the session: seed in one cell, draw in the next
    // two, and the draws continue the seeded sequence.
    s.ok("dl_core::seed(7);");
    let (a, _) = s.ok("dl_core::rng::with_rng(|r| r.next_u64())");
    let (b, _) = s.ok("dl_core::rng::with_rng(|r| r.next_u64())");
    let (expected, _) = s.ok(
        "{ let mut r = dl_core::rng::Rng::new(7); let a = r.next_u64(); \
         format!(\"{} {}\", a, r.next_u64()) }",
    );
    assert_eq!(format!("\"{a} {b}\""), expected);
}

fn interrupt_after(s: &Session, delay: Duration) -> std::thread::JoinHandle<()> {
    let interrupter = s.interp.interrupter();
    std::thread::spawn(move || {
        std::thread::sleep(delay);
        interrupter.interrupt();
    })
}

fn cooperative_interrupt_keeps_variables(s: &mut Session) {
    s.ok("let model = vec![1.0f32, 2.0];");
    // The first cells of a session are slow to prepare (evcxr analyses them); the timing below
    // is about stopping, so prepare a cell of the same kind first.
    s.ok("let warm_up = std::path::Path::new(&std::env::temp_dir()).exists();");
    let code = "let file = std::env::var(\"DL_KERNEL_INTERRUPT_FILE\").unwrap();\n\
                let mut steps = 0;\n\
                while !std::path::Path::new(&file).exists() { steps += 1; \
                std::thread::sleep(std::time::Duration::from_millis(10)); }\n\
                println!(\"stopped after {steps} steps\");";
    let timer = interrupt_after(s, Duration::from_millis(700));
    let started = Instant::now();
    let (e, rec, _) = s.err(code);
    timer.join().unwrap();
    assert_eq!(e.ename, "KeyboardInterrupt");
    assert!(
        e.evalue.contains("kept"),
        "{} (after {:?}; stdout {:?}; stderr {:?})",
        e.evalue,
        started.elapsed(),
        rec.text(StreamName::Stdout),
        rec.text(StreamName::Stderr)
    );
    assert!(
        started.elapsed() < Duration::from_millis(1400),
        "{:?}",
        started.elapsed()
    );
    assert!(rec.text(StreamName::Stdout).contains("stopped after"));
    let (value, _) = s.ok("model.len()");
    assert_eq!(value, "2");
}

fn interrupt_loop(s: &mut Session) {
    s.ok("let before_loop = 5;");
    let timer = interrupt_after(s, Duration::from_millis(500));
    let started = Instant::now();
    let (e, _, _) = s.err("loop {}");
    let answered = started.elapsed();
    timer.join().unwrap();
    assert_eq!(e.ename, "KeyboardInterrupt");
    assert!(
        answered < Duration::from_millis(500 + 3000),
        "answered {answered:?} after the cell started"
    );
    assert!(e.evalue.contains("before_loop"), "{}", e.evalue);
    let (value, _) = s.ok("1 + 1");
    assert_eq!(value, "2");
}

fn interrupt_while_compiling(s: &mut Session) {
    s.ok("let kept_value = 7;");
    // A thousand closures: rustc needs much longer than the grace period, so the build is
    // stopped. (400 compiled within it once on a fast machine, and the cell then ran.)
    let statements: String = (0..1000)
        .map(|i| {
            format!(
                "let a{i}: Vec<u64> = (0..{i}).map(|x| x * {i} + 1).filter(|x| x % 3 == 1)\
                 .collect(); std::hint::black_box(&a{i});\n"
            )
        })
        .collect();
    let code = format!("{{\n{statements}}}\nprintln!(\"compiled and ran\");");
    let timer = interrupt_after(s, Duration::from_millis(300));
    let started = Instant::now();
    let (e, rec, _) = s.err(&code);
    let answered = started.elapsed();
    timer.join().unwrap();
    assert_eq!(e.ename, "KeyboardInterrupt");
    assert!(e.evalue.contains("while compiling"), "{}", e.evalue);
    // Stopped once, after the 1.5 s grace period: not followed by a second build (which the
    // enforcer would stop only after another grace period) nor run.
    assert!(
        answered < Duration::from_millis(300 + 1500 + 1200),
        "answered after {answered:?}"
    );
    assert!(!rec.text(StreamName::Stdout).contains("compiled and ran"));
    let (value, _) = s.ok("kept_value + 1");
    assert_eq!(value, "8");
}

fn interrupt_println_flood(s: &mut Session) {
    // Long enough for the cell to compile on a busy machine and start printing.
    let timer = interrupt_after(s, Duration::from_millis(2500));
    let started = Instant::now();
    let (e, rec, _) = s.err("let mut i: u64 = 0;\nloop { println!(\"line {i}\"); i += 1; }");
    let answered = started.elapsed();
    timer.join().unwrap();
    assert_eq!(e.ename, "KeyboardInterrupt");
    assert!(
        answered < Duration::from_millis(2500 + 6000),
        "answered after {answered:?}"
    );
    assert!(rec.text(StreamName::Stdout).contains("line 1\n"));
    let (value, _) = s.ok("2 + 2");
    assert_eq!(value, "4");
}

fn abort_names_lost_variables(s: &mut Session) {
    s.ok("let precious = 3;\nlet weights = vec![0.5f32; 4];");
    let (e, _, _) = s.err("std::process::abort();");
    assert_eq!(e.ename, "ChildCrash");
    assert!(e.evalue.contains("precious"), "{}", e.evalue);
    assert!(e.evalue.contains("weights"), "{}", e.evalue);
    assert!(
        e.traceback.join("\n").contains("SIGABRT"),
        "{:?}",
        e.traceback
    );
    let (value, _) = s.ok("3 * 3");
    assert_eq!(value, "9");
    // Panics are still recognised in the new process.
    let (e, _, _) = s.err("panic!(\"after restart\")");
    assert_eq!(e.ename, "Panic");
}

fn exit_is_a_crash_too(s: &mut Session) {
    s.ok("let x_exit = 1;");
    let (e, _, _) = s.err("std::process::exit(3);");
    assert_eq!(e.ename, "ChildCrash");
    assert!(e.evalue.contains("x_exit"), "{}", e.evalue);
    assert!(
        e.traceback.join("\n").contains("exit status: 3"),
        "{:?}",
        e.traceback
    );
}

fn completions(s: &mut Session) {
    s.ok("let my_long_variable = 1;");
    let code = "let é = 1; my_long_v";
    let c = s.interp.complete(code, code.chars().count());
    assert!(
        c.matches.iter().any(|m| m == "my_long_variable"),
        "{:?}",
        c.matches
    );
    assert_eq!(c.cursor_end, code.chars().count());
    assert_eq!(c.cursor_start, code.chars().count() - "my_long_v".len());
}

fn inspect(s: &mut Session) {
    let code = "let v: Vec<u8> = Vec::new();";
    let at = code.find("Vec<").unwrap() + 1;
    let info = s.interp.inspect(code, at, 0).expect("something about Vec");
    let text = info["text/plain"].as_str().unwrap();
    assert!(text.contains("Vec"), "{text}");
}

fn restart_drops_variables_keeps_preload(s: &mut Session) {
    s.ok("let gone_after_restart = 1;");
    s.interp.restart();
    let (e, _, _) = s.err("gone_after_restart");
    assert_eq!(e.ename, "CompilationError");
    let (value, _) = s.ok("Array1::<f32>::zeros(4).len()");
    assert_eq!(value, "4");
}

/// `--concurrent N`: N kernels (processes) start at once from the same cache; each must
/// start, run a dl-core cell, and not disturb the others.
fn concurrent(n: usize) -> bool {
    let exe = std::env::current_exe().unwrap();
    let started = Instant::now();
    let children: Vec<_> = (0..n)
        .map(|_| {
            std::process::Command::new(&exe)
                .arg("--one-session")
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut ok = true;
    for child in children {
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        println!("  one session: {} ({})", text.trim(), out.status);
        ok &= out.status.success();
    }
    println!("  {n} sessions in {:.2?}", started.elapsed());
    ok
}

fn one_session() {
    let started = Instant::now();
    let mut s = Session {
        interp: EvcxrInterpreter::start(config(true)).unwrap(),
        count: 0,
    };
    let (value, _) = s.ok("Array1::<f32>::ones(3).sum()");
    assert_eq!(value, "3.0");
    println!("first dl-core cell after {:.2?}", started.elapsed());
}

/// The test that is running and when it must have ended.
static WATCHED: Mutex<Option<(&'static str, Instant)>> = Mutex::new(None);

/// Gives `name` until `limit` from now; `None` ends the watch.
fn watch(name: &'static str, limit: Duration) {
    *WATCHED.lock().unwrap() = Some((name, Instant::now() + limit));
}

/// A hung test fails the suite with what every process under this one was doing, instead of
/// hanging it (CI would only say that its time ran out).
fn start_watchdog() {
    std::thread::spawn(|| {
        loop {
            std::thread::sleep(Duration::from_secs(1));
            let watched = *WATCHED.lock().unwrap();
            if let Some((name, deadline)) = watched
                && Instant::now() > deadline
            {
                println!("test {name} ... TIMED OUT");
                print_processes();
                print_stacks();
                println!("test result: FAILED: [{name:?}] (timed out)");
                std::process::exit(1);
            }
        }
    });
}

/// Every thread's stack, when gdb is installed.
fn print_stacks() {
    let pid = std::process::id().to_string();
    let gdb = std::process::Command::new("gdb")
        .args(["-p", &pid, "-batch", "-nx", "-ex", "thread apply all bt 30"])
        .output();
    if let Ok(out) = gdb {
        println!("{}", String::from_utf8_lossy(&out.stdout));
    }
}

/// This process's threads and every process under it: state and kernel wait channel.
fn print_processes() {
    let read = |path: String| std::fs::read_to_string(path).unwrap_or_default();
    let describe = |dir: &str| {
        let stat = read(format!("{dir}/stat"));
        let after_name = stat.rfind(')').map_or("", |at| &stat[at + 1..]);
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        format!(
            "{} state {} ppid {} wchan {}",
            read(format!("{dir}/comm")).trim(),
            fields.first().unwrap_or(&"?"),
            fields.get(1).unwrap_or(&"?"),
            read(format!("{dir}/wchan")).trim()
        )
    };
    println!("threads of the test process:");
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{}/task", std::process::id())) {
        for task in tasks.flatten() {
            println!("  {}", describe(&task.path().to_string_lossy()));
        }
    }
    let mut pids = vec![std::process::id().to_string()];
    let mut seen = 0;
    while seen < pids.len() {
        let parent = pids[seen].clone();
        seen += 1;
        let Ok(entries) = std::fs::read_dir("/proc") else {
            break;
        };
        for entry in entries.flatten() {
            let pid = entry.file_name().to_string_lossy().into_owned();
            let stat = read(format!("/proc/{pid}/stat"));
            let after_name = stat.rfind(')').map_or("", |at| &stat[at + 1..]);
            if after_name.split_whitespace().nth(1) == Some(parent.as_str()) {
                println!("  process {pid}: {}", describe(&format!("/proc/{pid}")));
                pids.push(pid);
            }
        }
    }
}

fn main() {
    session::runtime_hook();
    // Readers may have asked for backtraces; panics must still be reported cleanly.
    // SAFETY: no other thread exists yet.
    unsafe { std::env::set_var("RUST_BACKTRACE", "1") };
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if std::env::args().any(|a| a == "--one-session") {
        one_session();
        return;
    }
    let _ = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn"))
        .try_init();
    start_watchdog();
    let selected: Vec<_> = tests()
        .into_iter()
        .filter(|(name, _)| args.is_empty() || args.iter().any(|a| name.contains(a.as_str())))
        .collect();
    let mut failed = Vec::new();
    if args.is_empty()
        || args
            .iter()
            .any(|a| "concurrent_sessions".contains(a.as_str()))
    {
        println!("test concurrent_sessions ...");
        watch("concurrent_sessions", Duration::from_secs(900));
        if !concurrent(3) {
            failed.push("concurrent_sessions");
        }
    }
    if !selected.is_empty() {
        // The first cell may build dl-core when no warm-up ran before.
        watch("session start", Duration::from_secs(900));
        let started = Instant::now();
        let mut s = Session {
            interp: EvcxrInterpreter::start(config(true)).expect("session starts"),
            count: 0,
        };
        println!("session started (returned) in {:.2?}", started.elapsed());
        for (index, (name, test)) in selected.into_iter().enumerate() {
            let limit = if index == 0 { 900 } else { 180 };
            watch(name, Duration::from_secs(limit));
            let t = Instant::now();
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| test(&mut s)));
            match result {
                Ok(()) => println!("test {name} ... ok ({:.2?})", t.elapsed()),
                Err(_) => {
                    println!("test {name} ... FAILED ({:.2?})", t.elapsed());
                    failed.push(name);
                }
            }
        }
    }
    if failed.is_empty() {
        println!("test result: ok");
    } else {
        println!("test result: FAILED: {failed:?}");
        std::process::exit(1);
    }
}
