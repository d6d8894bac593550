#!/usr/bin/env python3
"""End-to-end: the book's chapters in a real JupyterLab, in Debian's headless Chromium.

Starts JupyterLab on a copy of `notebooks/` (so the repository's notebooks stay clean),
opens each chapter (every one unless named on the command line), runs all cells from the Run
menu, waits until the kernel is idle, and asserts that
  - every code cell ran and none produced an `error` output (read back from the saved file),
  - at least one plot rendered as a PNG image (untrusted notebooks show PNG, not SVG),
  - the live training display was updated in place while the cell ran (chapter 5),
  - the widgets work (chapter 3): dragging the learning-rate slider redraws the figure (its
    PNG changes) and shows the new value; the reset button sets the slider back and says so,
then saves a screenshot per chapter under build/screenshots/ (and 03_linear_regression_widgets.png
for the widgets).

    test_jupyterlab.py [CHAPTER_PREFIX ...]     (default: every chapter, 01 to 08)
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "build" / "screenshots"
# A rendered figure: its PNG or its SVG, each shown by JupyterLab as an <img>.
IMAGES_SELECTOR = (".jp-OutputArea-output[data-mime-type='image/png'] img, "
                   ".jp-OutputArea-output[data-mime-type='image/svg+xml'] img")
PORT, TOKEN = 18_931, "rust-dl-browser-test"
BASE = f"http://127.0.0.1:{PORT}"
RUN_TIMEOUT_MS = int(os.environ.get("BROWSER_RUN_TIMEOUT_S", "900")) * 1000
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# Chapters whose training cell must show a display updated in place.
LIVE_UPDATE_CHAPTERS = {"05"}
# Chapters whose widgets are dragged and clicked.
WIDGET_CHAPTERS = {"03"}
T0 = time.monotonic()


def log(message: str) -> None:
    print(f"[browser {time.monotonic() - T0:6.1f}s] {message}", flush=True)


def start_server(work: Path) -> subprocess.Popen:
    """JupyterLab on a scratch copy of the notebooks; every Jupyter dir kept in `work`."""
    env = dict(os.environ)
    for var, sub in [("JUPYTER_CONFIG_DIR", "cfg"), ("JUPYTER_RUNTIME_DIR", "runtime"),
                     ("JUPYTERLAB_SETTINGS_DIR", "lab-settings"),
                     ("JUPYTERLAB_WORKSPACES_DIR", "lab-workspaces")]:
        env[var] = str(work / sub)
    news = work / "lab-settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text(
        '{"fetchNews": "false", "checkForUpdates": false}')
    # JupyterLab renders only the cells near the viewport by default ("windowing"); the test
    # looks at every output of the notebook, so render them all.
    tracker = work / "lab-settings" / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True)
    (tracker / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    log_file = open(work / "server.log", "w")
    venv_bin = Path(sys.executable).parent
    return subprocess.Popen(
        [str(venv_bin / "jupyter"), "lab", "--no-browser", f"--port={PORT}",
         "--ServerApp.ip=127.0.0.1", "--ServerApp.port_retries=0", "--allow-root",
         f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={work / 'root'}",
         "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        cwd=work / "root", env=env, stdout=log_file, stderr=subprocess.STDOUT,
        start_new_session=True)


def wait_for_server(server: subprocess.Popen, work: Path) -> None:
    for _ in range(240):
        try:
            urllib.request.urlopen(f"{BASE}/api/status?token={TOKEN}", timeout=2).read()
            return
        except Exception:
            if server.poll() is not None:
                raise RuntimeError("JupyterLab exited:\n" + (work / "server.log").read_text())
            time.sleep(0.5)
    raise RuntimeError("JupyterLab did not come up")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


# Records, per code cell, every distinct PNG shown while it ran: an output updated in
# place (update_display_data) shows several images in the same cell over time.
OBSERVER_JS = """() => {
  const IMAGES = "IMAGES_SELECTOR";
  window.__busySeen = false;
  window.__pngsPerCell = {};
  const nb = document.querySelector('.jp-NotebookPanel .jp-Notebook');
  const record = () => {
    const cells = [...nb.querySelectorAll('.jp-CodeCell')];
    cells.forEach((cell, i) => {
      if (cell.querySelector('.jp-InputPrompt')?.textContent.includes('*')) window.__busySeen = true;
      cell.querySelectorAll(IMAGES).forEach(img => {
        const key = img.src.length + ':' + img.src.slice(-48);
        (window.__pngsPerCell[i] = window.__pngsPerCell[i] || {})[key] = true;
      });
    });
  };
  new MutationObserver(record).observe(nb, {subtree: true, childList: true, attributes: true,
                                            characterData: true});
}""".replace("IMAGES_SELECTOR", IMAGES_SELECTOR)


def run_chapter(page, notebook: Path, root: Path) -> None:
    name = notebook.name
    page.goto(f"{BASE}/lab/tree/notebooks/{name}?reset&token={TOKEN}")
    expect(page.locator(".jp-NotebookPanel").first).to_be_visible(timeout=60_000)
    # The status bar says "<kernel> | Idle" only once the kernel is really connected.
    idle = page.locator("#jp-main-statusbar .jp-StatusBar-TextItem", has_text=re.compile(r"\| Idle$"))
    expect(idle).to_have_count(1, timeout=180_000)
    log(f"{name}: kernel connected: {idle.first.text_content()!r}")
    n_code = sum(c["cell_type"] == "code" for c in json.loads(notebook.read_text())["cells"])
    prompts = page.locator(".jp-Notebook .jp-CodeCell .jp-InputPrompt")
    expect(prompts).to_have_count(n_code, timeout=60_000)
    page.evaluate(OBSERVER_JS)
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
    try:
        page.locator(".jp-Dialog .jp-mod-accept").click(timeout=1500)
        log(f"{name}: WARNING: had to accept a kernel dialog")
    except PlaywrightTimeout:
        pass
    started = time.monotonic()
    try:
        page.wait_for_function(
            """n => {
                 const ps = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')]
                            .map(p => p.textContent);
                 const idle = [...document.querySelectorAll('#jp-main-statusbar .jp-StatusBar-TextItem')]
                            .some(e => /\\| Idle$/.test(e.textContent));
                 return window.__busySeen && idle && ps.length === n && !ps.some(t => t.includes('*'));
               }""",
            arg=n_code, timeout=RUN_TIMEOUT_MS, polling=250)
    except Exception:
        page.screenshot(path=str(SHOTS / f"{notebook.stem}.fail.png"), full_page=True)
        log(f"{name}: prompts {prompts.all_text_contents()}")
        raise
    log(f"{name}: all cells ran in {time.monotonic() - started:.0f} s")

    # Save, then read the file back: an `error` output is the reliable failure signal.
    page.locator(".jp-NotebookPanel .jp-Notebook").first.click(position={"x": 5, "y": 5})
    page.keyboard.press("Control+s")
    saved_path = root / "notebooks" / name
    code = []
    for _ in range(120):
        try:
            saved = json.loads(saved_path.read_text())
        except json.JSONDecodeError:  # JupyterLab is still writing a large notebook: read again
            time.sleep(0.25)
            continue
        code = [c for c in saved["cells"] if c["cell_type"] == "code"]
        if code and all(c.get("execution_count") for c in code):
            break
        time.sleep(0.25)
    assert code, f"{name}: the saved notebook never parsed as JSON with code cells"
    errors = [o for c in code for o in c.get("outputs", []) if o["output_type"] == "error"]
    unrun = sum(1 for c in code if not c.get("execution_count"))
    page.screenshot(path=str(SHOTS / f"{notebook.stem}.png"), full_page=False)
    assert not errors, f"{name}: " + "; ".join(f"{e['ename']}: {e['evalue']}" for e in errors)
    assert unrun == 0, f"{name}: {unrun} code cells did not run"

    # A figure is a bundle of PNG and SVG: JupyterLab shows the SVG in a trusted notebook (one
    # whose outputs this session produced) and the PNG in an untrusted one.
    saved_types = {t for c in code for o in c.get("outputs", []) for t in o.get("data", {})}
    assert "image/png" in saved_types, f"{name}: no figure carries a PNG (needed by untrusted notebooks)"
    pngs = page.locator(IMAGES_SELECTOR)
    if pngs.count() == 0:  # say what was shown instead
        shown = page.evaluate("""() => [...document.querySelectorAll('.jp-OutputArea-output')]
                                 .map(e => e.dataset.mimeType)""")
        raise AssertionError(f"{name}: no plot rendered; the page shows outputs {shown}, "
                             f"the saved notebook has {sorted(saved_types)}")
    width = pngs.first.evaluate("img => img.naturalWidth")
    assert width > 100, f"{name}: the first PNG is {width} px wide: not a rendered plot"
    log(f"{name}: {pngs.count()} plots rendered (PNG or SVG), first {width} px wide")

    if notebook.stem[:2] in LIVE_UPDATE_CHAPTERS:
        seen = page.evaluate("() => window.__pngsPerCell")
        most = max((len(v) for v in seen.values()), default=0)
        assert most >= 3, f"{name}: no display was updated in place (at most {most} images in a cell)"
        log(f"{name}: a live display showed {most} successive images in one cell")
    # Scroll to the first plot for the screenshot a reader sees in the README.
    pngs.first.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / f"{notebook.stem}.png"))
    if notebook.stem[:2] in WIDGET_CHAPTERS:
        play_with_widgets(page, notebook)


def play_with_widgets(page, notebook: Path) -> None:
    """Drags the learning-rate slider and clicks the reset button, as a reader would."""
    name = notebook.name
    label = page.locator(".widget-slider .widget-label", has_text=re.compile(r"^learning rate$"))
    expect(label).to_have_count(1, timeout=30_000)
    # `has` is matched inside each slider, so it names the label alone.
    slider = page.locator(".widget-slider", has=page.locator(".widget-label", has_text=re.compile(r"^learning rate$")))
    cell = page.locator(".jp-CodeCell", has=label)
    figure = cell.locator(".jp-OutputArea-output[data-mime-type='image/png'] img").first
    figure.scroll_into_view_if_needed()
    readout = slider.locator(".widget-readout")
    before_value, before_png = readout.text_content(), figure.get_attribute("src")
    handle = slider.locator(".noUi-handle").first
    box = handle.bounding_box()
    track = slider.locator(".noUi-target, .slider").first.bounding_box()
    assert box and track, f"{name}: the slider has no handle on screen"
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    target = track["x"] + 0.85 * track["width"]
    page.mouse.move(x, y)
    page.mouse.down()
    for k in range(1, 11):
        page.mouse.move(x + (target - x) * k / 10, y)
        time.sleep(0.03)
    page.mouse.up()
    # The output is re-rendered on update: read the figure afresh until its PNG changes.
    deadline = time.monotonic() + 30
    while figure.get_attribute("src") == before_png:
        assert time.monotonic() < deadline, f"{name}: the figure was not redrawn after the drag"
        time.sleep(0.1)
    after_value = readout.text_content()
    assert after_value != before_value, f"{name}: the slider still reads {after_value}"
    assert float(after_value) > float(before_value), f"{name}: dragged right, read {after_value}"
    log(f"{name}: dragged the learning rate from {before_value} to {after_value}: the figure was redrawn")
    page.screenshot(path=str(SHOTS / f"{notebook.stem}_widgets.png"))
    page.locator("button", has_text="reset lr to 0.1").click()
    expect(page.locator(".widget-label", has_text="reset: lr = 0.10")).to_be_visible(timeout=30_000)
    expect(readout).to_have_text(re.compile(r"^0\.100?$"), timeout=30_000)
    log(f"{name}: the reset button set the learning rate back to {readout.text_content()}")
    # The reset redraws the figure: its image may be replaced while it is scrolled to, so the
    # locator is tried again on the new one (for the screenshot only; nothing is asserted).
    for attempt in range(5):
        try:
            figure.scroll_into_view_if_needed(timeout=10_000)
            break
        except PlaywrightError as e:
            if "not attached" not in str(e) or attempt == 4:
                raise
            time.sleep(0.5)
    page.screenshot(path=str(SHOTS / f"{notebook.stem}_widgets.png"))
    log(f"{name}: widgets screenshot {(SHOTS / f'{notebook.stem}_widgets.png').relative_to(ROOT)}")


def main() -> int:
    every_chapter = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    prefixes = sys.argv[1:] or [p.name[:2] for p in every_chapter]
    chapters = [p for prefix in prefixes for p in sorted((ROOT / "notebooks").glob(f"{prefix}*.ipynb"))]
    if not chapters or len(chapters) != len(prefixes):
        print(f"browser test: chapters not found for {prefixes}: {chapters}")
        return 1
    SHOTS.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="rust-dl-browser-"))
    root = work / "root"
    shutil.copytree(ROOT / "notebooks", root / "notebooks",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    (root / "data").symlink_to(ROOT / "data")
    server = start_server(work)
    ok = False
    try:
        wait_for_server(server, work)
        log("JupyterLab up")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                        args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            for notebook in chapters:
                run_chapter(page, notebook, root)
            browser.close()
        ok = True
    finally:
        stop_server(server)
        if not ok:
            print((work / "server.log").read_text()[-4000:])
        shutil.rmtree(work, ignore_errors=True)
    print(f"browser test: {'PASS' if ok else 'FAIL'}: {', '.join(c.name for c in chapters)}; "
          f"screenshots in {SHOTS.relative_to(ROOT)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
