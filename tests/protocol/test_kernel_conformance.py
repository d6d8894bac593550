"""The `jupyter_kernel_test` conformance suite against the installed `rust-dl` kernel.

Every test of `jupyter_kernel_test.KernelTests` is enabled with Rust samples, except:
- `test_pager`: skipped, Rust has no pager (`code_page_something` is empty; no payloads);
- `IopubWelcomeTests` is not run: iopub_welcome belongs to protocol 5.4 (XPUB), this kernel
  speaks 5.3.
Completion samples give no exact `matches` set (rust-analyzer's list varies with the
toolchain); test_protocol.py checks that an expected name is among them.
"""

from __future__ import annotations

import unittest

import jupyter_kernel_test as jkt

from dlk_protocol import FIRST_CELL_TIMEOUT, KERNEL_NAME

PNG_1X1 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


class RustKernelTests(jkt.KernelTests):
    kernel_name = KERNEL_NAME
    language_name = "rust"
    file_extension = ".rs"

    code_hello_world = 'println!("hello, world");'
    code_stderr = 'eprintln!("to stderr");'

    completion_samples = [
        {"text": "let v: Vec<i32> = Vec::ne"},
        {"text": "std::collections::Hash"},
    ]

    complete_code_samples = ["1 + 1", 'println!("hi");', "fn f() {}", "let s = \"a } b\";"]
    incomplete_code_samples = ["fn f() {", "let x = (1,", 'let s = "open', "/* open comment"]
    invalid_code_samples = ["fn f() }", "let v = [1, 2);"]

    code_generate_error = 'let x: i32 = "not a number";'

    code_execute_result = [
        {"code": "6 * 7", "result": "42"},
        {"code": "1 + 2", "result": "3"},
        # A final value whose `evcxr_display` prints evcxr's convention is the cell's result.
        {
            "code": 'struct Bold;\nimpl Bold { fn evcxr_display(&self) { println!('
                    '"EVCXR_BEGIN_CONTENT text/html\\n<b>bold</b>\\nEVCXR_END_CONTENT"); } }\nBold',
            "mime": "text/html",
            "result": "<b>bold</b>",
        },
    ]
    code_history_pattern = "6*7"
    supported_history_operations = ("tail", "range", "search")

    code_display_data = [
        {
            "code": 'println!("{}", r#"DLK_DISPLAY {"data":{"image/png":"%s","text/plain":"dot"}}"#);'
            % PNG_1X1,
            "mime": "image/png",
        },
        # evcxr's convention printed while a cell runs is a display of its own.
        {
            "code": 'println!("EVCXR_BEGIN_CONTENT text/html\\n<b>bold</b>\\nEVCXR_END_CONTENT");',
            "mime": "text/html",
        },
    ]

    code_inspect_sample = "Vec"

    code_clear_output = 'println!("{}", r#"DLK_CLEAR_OUTPUT {"wait":false}"#);'

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        # The suite's 15 s timeouts assume a running session: wait once for evcxr's start
        # (and dl-core's preload) with a silent cell, which changes no count or history.
        msg_id = cls.kc.execute("1", silent=True, store_history=False)
        while True:
            reply = cls.kc.get_shell_msg(timeout=FIRST_CELL_TIMEOUT)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        assert reply["content"]["status"] == "ok", reply["content"]


if __name__ == "__main__":
    unittest.main()
