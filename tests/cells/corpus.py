"""The cells a reader types, with what each must show.

Each case runs in a fresh kernel, its cells in order. A cell's expectations:

- `result`: the `text/plain` of its `execute_result`, exactly;
- `stdout` / `stderr`: text the stream must contain (`stdout_exact` for the whole stream);
  `stderr_lacks`: text stderr must not contain;
- `error`: text the error must contain (its evalue and traceback, or for a kernel that sends
  none, its streams), and the cell must fail;
- `displays`: the MIME types of the `display_data` messages, in order, interleaved with the
  stream text given by `order` (a list of "stdout:<text>" and "display" entries);
- `stdin`: the line to answer an `input_request` with, or `INTERRUPT` to interrupt the cell
  while it waits.

A cell without `error` must succeed. `kind` groups cells for the benchmark. `dl_core=True`
marks a case that needs dl-core in scope (the peer kernel gets `:dep dl-core` and the prelude
first). `chapter_cells` cases are filled from the notebooks' first code cells.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Cell:
    code: str
    kind: str
    result: str | None = None
    stdout: str | None = None
    stdout_exact: str | None = None
    stderr: str | None = None
    stderr_lacks: str | None = None
    error: str | None = None
    order: list[str] | None = None
    stdin: str | None = None
    stdout_lines: int | None = None


@dataclass
class Case:
    name: str
    cells: list[Cell]
    dl_core: bool = False
    tags: set[str] = field(default_factory=set)


CASES: list[Case] = [
    Case("let then value, two lines", [Cell("let q = 6 * 7;\nq", "let", result="42")]),
    Case("let then value, one line", [Cell("let z = 2 + 3; z", "let", result="5")]),
    Case("a variable in the next cell", [
        Cell("let x = 5;", "let"),
        Cell("x", "expression", result="5"),
        Cell("x * 2 + 1", "expression", result="11"),
    ]),
    Case("literal arithmetic", [
        Cell("1 + 1", "expression", result="2"),
        Cell("2.5 * 4.0", "expression", result="10.0"),
    ]),
    Case("shadowing", [
        Cell("let s = 1;", "let"),
        Cell("let s = s.to_string() + \"!\";", "let"),
        Cell("s", "expression", result='"1!"'),
    ]),
    Case("mutation across cells", [
        Cell("let mut total = 0;", "let"),
        Cell("total += 5;", "statement"),
        Cell("total += 2;\ntotal", "expression", result="7"),
    ]),
    Case("items across cells", [
        Cell("#[derive(Debug, Clone)]\nstruct Point { x: f64, y: f64 }\n"
             "impl Point {\n    fn norm(&self) -> f64 { (self.x * self.x + self.y * self.y).sqrt() }\n}",
             "items"),
        Cell("trait Area { fn area(&self) -> f64; }\n"
             "impl Area for Point { fn area(&self) -> f64 { 0.0 } }\n"
             "enum Shape { Dot(Point), Nothing }\n"
             "fn describe(s: &Shape) -> &'static str {\n"
             "    match s { Shape::Dot(_) => \"dot\", Shape::Nothing => \"nothing\" }\n}",
             "items"),
        Cell("let p = Point { x: 3.0, y: 4.0 };", "let"),
        Cell("p.norm()", "expression", result="5.0"),
        Cell("let shape = Shape::Dot(p.clone());\ndescribe(&shape)", "let", result='"dot"'),
        Cell("p.area()", "expression", result="0.0"),
    ]),
    Case("closures and iterators", [
        Cell("let double = |x: i32| x * 2;\n(1..=3).map(double).collect::<Vec<_>>()",
             "expression", result="[2, 4, 6]"),
        Cell("let evens: Vec<u32> = (1..10).filter(|n| n % 2 == 0).collect();\nevens",
             "let", result="[2, 4, 6, 8]"),
        Cell("let total: u32 = evens.iter().sum();\ntotal", "let", result="20"),
        Cell("let words = vec![\"deep\", \"learning\", \"in\", \"rust\"];\n"
             "let longest = *words.iter().max_by_key(|w| w.len()).unwrap();\nlongest",
             "let", result='"learning"'),
    ]),
    Case("HashMap", [
        Cell("use std::collections::HashMap;\nlet mut ages = HashMap::new();\n"
             "ages.insert(\"Ada\", 36);\nages.insert(\"Alan\", 41);", "let"),
        Cell("ages[\"Ada\"]", "expression", result="36"),
        Cell("let counts = \"hello\".chars().fold(std::collections::BTreeMap::new(), "
             "|mut m, c| { *m.entry(c).or_insert(0) += 1; m });", "let"),
        Cell("counts[&'l']", "expression", result="2"),
    ]),
    Case("a type error on line 2", [
        Cell("let a: i32 = 1;\nlet b: String = a;", "error", error="line 2"),
    ]),
    Case("index out of bounds keeps earlier variables", [
        Cell("let keep = 7;", "let"),
        Cell("let v = vec![1, 2, 3];\nlet i = v.len() + 7;\nv[i]", "error",
             error="index out of bounds", stderr_lacks="stack backtrace"),
        Cell("keep", "expression", result="7"),
    ]),
    Case("an undefined name", [
        Cell("undefined_name + 1", "error", error="cannot find value `undefined_name`"),
    ]),
    Case("a closure is used, not kept, and the reader is told", [
        Cell("let f = |x: i32| x + 1;\nf(41)", "let", result="42", stderr="closure"),
        Cell("f(1)", "error", error="cannot find function `f`"),
        Cell("let boxed: Box<dyn Fn(i32) -> i32> = Box::new(|x| x * 10);", "let"),
        Cell("boxed(4)", "expression", result="40"),
    ]),
    Case("a borrow of the cell's own value is used, not kept", [
        Cell("let words = vec![\"deep\".to_string(), \"learning\".to_string()];\n"
             "let longest = words.iter().max_by_key(|w| w.len()).unwrap();\nlongest.len()",
             "let", result="8", stderr="borrows"),
        Cell("words.len()", "expression", result="2"),
    ]),
    Case("Unicode output", [
        Cell("println!(\"héllo → 世界 ✓\");", "print", stdout_exact="héllo → 世界 ✓\n"),
    ]),
    Case("a 20,000-line print", [
        Cell("for i in 0..20000 { println!(\"line {i}\"); }", "print", stdout_lines=20000,
             stdout="line 19999\n"),
    ]),
    Case("print! without a newline", [
        Cell("print!(\"no newline at end\");", "print", stdout_exact="no newline at end"),
        Cell("eprint!(\"nor here\");", "print", stderr="nor here"),
    ]),
    Case("reading a line from stdin", [
        Cell("let mut name = String::new();\nstd::io::stdin().read_line(&mut name).unwrap();\n"
             "println!(\"hello {}\", name.trim());", "stdin", stdin="Ada", stdout="hello Ada"),
        Cell("name.trim().len()", "expression", result="3"),
    ]),
    Case("an interrupt while stdin waits", [
        Cell("let keep = 1;", "let"),
        Cell("let mut line = String::new();\nstd::io::stdin().read_line(&mut line).unwrap();",
             "stdin", stdin="INTERRUPT", error="nterrupt"),
        Cell("keep + 1", "expression", result="2"),
    ]),
    Case("two mid-cell displays", [
        Cell("println!(\"before\");\n"
             "println!(\"EVCXR_BEGIN_CONTENT text/html\\n<b>first</b>\\nEVCXR_END_CONTENT\");\n"
             "println!(\"between\");\n"
             "println!(\"EVCXR_BEGIN_CONTENT text/html\\n<b>second</b>\\nEVCXR_END_CONTENT\");\n"
             "println!(\"after\");",
             "display",
             order=["stdout:before", "display:<b>first</b>", "stdout:between",
                    "display:<b>second</b>", "stdout:after"]),
    ]),
    Case(":dep of a small crate from the registry", [
        Cell(":dep itoa = \"1\"", "dep"),
        Cell("let mut buffer = itoa::Buffer::new();\nbuffer.format(1234).to_string()",
             "let", result='"1234"'),
    ]),
    Case("a tensor across cells", [
        Cell("let t = dl_core::init::uniform(&[3, 2], 0.0, 1.0);", "let"),
        Cell("t.shape().to_vec()", "expression", result="[3, 2]"),
        Cell("let t2 = &t + 1.0;\nt2.iter().all(|v| *v >= 1.0)", "let", result="true"),
    ], dl_core=True),
]


def chapter_cases(first_cells: int = 2) -> list[Case]:
    """The first code cells of every chapter, each chapter in a fresh kernel (they must run)."""
    cases = []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text())
        code = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
        cells = [Cell(src, "chapter") for src in code[:first_cells] if src.strip()]
        cases.append(Case(f"first cells of {path.stem}", cells, dl_core=True, tags={"chapter"}))
    return cases


def all_cases() -> list[Case]:
    return CASES + chapter_cases()
