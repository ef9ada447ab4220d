"""The playground in a real browser: JupyterLab and the Voila app, driven by Playwright in Chromium.

Needs Debian's chromium (``.ci/install-browser.sh``) and the ``playwright`` Python package; Playwright's
own browser download is not used. Without them these tests skip, except under ``CI=true``, where a
missing browser is a failure. Screenshots and measured numbers land in ``test-artifacts/``.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "08_playground.ipynb"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("WORKBENCH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
STOP_LIMIT_S = 2.0
PLOT_LIMIT_S = 1.0


def _missing_browser() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed (pip install playwright)"
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"no chromium at {CHROMIUM} (run .ci/install-browser.sh, or set WORKBENCH_CHROMIUM)"
    return None


@pytest.fixture(scope="module")
def browser():
    reason = _missing_browser()
    if reason:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"browser tests cannot run in CI: {reason}", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, timeout: float, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"no answer from {url} within {timeout} s")


def _wait_port(port: int, timeout: float, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode} before listening on port {port}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"nothing listening on port {port} within {timeout} s")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT if sys.platform != "win32" else signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _env(home: Path) -> dict:
    """A private HOME and Jupyter dirs; the kernel imports this checkout's workbench."""
    env = dict(os.environ)
    env.update(HOME=str(home), JUPYTER_CONFIG_DIR=str(home / ".jupyter"), JUPYTER_RUNTIME_DIR=str(home / "runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(home / "lab-user-settings"), JUPYTERLAB_WORKSPACES_DIR=str(home / "ws"),
               PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p),
               PYTHONUNBUFFERED="1")
    return env


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A copy of the playground, so autosave never writes outputs into the committed notebook."""
    d = tmp_path_factory.mktemp("browser")
    (d / "root").mkdir()
    shutil.copy(NOTEBOOK, d / "root" / NOTEBOOK.name)
    (d / "home").mkdir()
    ARTIFACTS.mkdir(exist_ok=True)
    return d


@pytest.fixture(scope="module")
def metrics():
    out: dict = {}
    yield out
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "browser-metrics.json"
    old = json.loads(path.read_text()) if path.exists() else {}
    path.write_text(json.dumps({**old, **out}, indent=2))


# ----------------------------------------------------------------------------------------------------
# what both front ends must do


def _text(page, selector: str) -> str:
    return page.locator(selector).first.inner_text()


def _src(page, selector: str) -> str | None:
    return page.locator(selector).first.get_attribute("src")


def _wait_text(page, selector: str, text: str, timeout: float = 10_000) -> None:
    page.wait_for_function("([sel, t]) => { const e = document.querySelector(sel); return e && e.textContent.includes(t); }",
                           arg=[selector, text], timeout=timeout)


def exercise_playground(page, name: str, metrics: dict) -> None:
    """Freeze, schedule, run, stop: assert what a student would see, and measure it."""
    shots = ARTIFACTS
    freeze = ".wb-freeze-panel"
    page.locator(f"{freeze} .wb-trainable-total").first.wait_for(state="visible", timeout=60_000)

    # 1. tick a freeze checkbox: the trainable count drops
    before = _text(page, f"{freeze} .wb-trainable-total")
    page.locator(f"{freeze} .widget-checkbox", has_text="freeze stage3").locator("input").first.check()
    page.wait_for_function(
        "([sel, old]) => { const e = document.querySelector(sel); return e && e.textContent !== old; }",
        arg=[f"{freeze} .wb-trainable-total", before], timeout=10_000)
    after = _text(page, f"{freeze} .wb-trainable-total")
    summary = f".wb-train-panel .wb-summary"
    _wait_text(page, summary, "frozen=3")  # every linked panel has the new recipe
    assert int(after.replace(",", "")) < int(before.replace(",", "")), (before, after)
    assert page.locator(f"{freeze} .widget-checkbox", has_text="freeze stage1").locator("input").first.is_checked()
    page.locator(freeze).first.screenshot(path=str(shots / f"{name}-1-freeze.png"))

    # 2. change the schedule and the gradual-unfreezing plan: the preview picture changes
    sched = ".wb-schedule-panel"
    old = _src(page, f"{sched} img")
    page.locator(f"{sched} .widget-dropdown select").first.select_option("constant")
    page.wait_for_function("([sel, old]) => document.querySelector(sel).getAttribute('src') !== old",
                           arg=[f"{sched} img", old], timeout=10_000)
    assert _src(page, f"{sched} img") != old
    _wait_text(page, summary, "constant")
    page.locator(sched).first.screenshot(path=str(shots / f"{name}-2-schedule.png"))
    # back to a plain full fine-tune for the run
    page.locator(f"{freeze} .widget-checkbox", has_text="freeze stage1").locator("input").first.uncheck()
    page.wait_for_function("([sel, full]) => document.querySelector(sel).textContent === full",
                           arg=[f"{freeze} .wb-trainable-total", before], timeout=10_000)
    page.wait_for_function("sel => !document.querySelector(sel).textContent.includes('frozen=')", arg=summary,
                           timeout=10_000)
    # the longest run the steps slider allows (keyboard End on its handle), so that on a fast machine the
    # run is still going when Stop is pressed below
    steps_slider = page.locator(f"{sched} .widget-slider", has=page.locator("label", has_text=re.compile(r"^steps$")))
    steps_slider.locator(".noUi-handle").first.focus()
    page.keyboard.press("End")
    _wait_text(page, summary, "1000 steps")
    print(name, "recipe before Run:", _text(page, summary))

    # 3. Run: the progress bar moves and the plot is replaced in place, often
    train = ".wb-train-panel"
    step_label = page.locator(f"{train} .widget-hprogress .widget-label").first
    page.locator(f"{train} button", has_text="Run").first.click()
    page.wait_for_function("sel => /step [1-9]/.test(document.querySelector(sel).textContent)",
                           arg=f"{train} .widget-hprogress .widget-label", timeout=60_000)
    # watch the picture from inside the page: when does its source change, at which step?
    page.evaluate("""([imgSel, stepSel]) => {
        const img = document.querySelector(imgSel);
        window.wbPlotChanges = [];
        window.wbObserver = new MutationObserver(() => window.wbPlotChanges.push(
            [performance.now() / 1000, document.querySelector(stepSel).textContent]));
        window.wbObserver.observe(img, {attributes: true, attributeFilter: ["src"]});
    }""", [f"{train} img", f"{train} .widget-hprogress .widget-label"])
    page.wait_for_timeout(4000)
    records = page.evaluate("() => { window.wbObserver.disconnect(); return window.wbPlotChanges; }")
    changes = [t for t, _ in records]
    print(name, "plot changes (s, step):", [(round(t - changes[0], 2), st) for t, st in records])
    gaps = [b - a for a, b in zip(changes, changes[1:])]
    steps_seen = int(step_label.inner_text().split()[-1])
    assert steps_seen > 0 and len(changes) >= 3, (steps_seen, changes)
    page.locator(train).first.screenshot(path=str(shots / f"{name}-3-training.png"))
    # the plot is one <img> replaced in place: still exactly one image in the panel
    assert page.locator(f"{train} img").count() == 1

    # 4. Stop mid-run: the run ends (status says stopped, Run is back) within 2 s
    t0 = time.perf_counter()
    page.locator(f"{train} button", has_text="Stop").first.click()
    page.wait_for_function("sel => document.querySelector(sel).textContent.startsWith('stopped')",
                           arg=f"{train} .wb-status", timeout=30_000,
                           polling=20)
    latency = time.perf_counter() - t0
    _wait_text(page, f"{train} .wb-status", "test accuracy", timeout=30_000)  # then scored on the test set
    scored = time.perf_counter() - t0
    step_at_stop = int(step_label.inner_text().split()[-1])
    page.wait_for_timeout(1000)
    step_later = int(step_label.inner_text().split()[-1])
    assert step_later == step_at_stop, "training went on after Stop"
    page.wait_for_function("sel => ![...document.querySelectorAll(sel)].find(b => b.textContent.includes('Run')).disabled",
                           arg=f"{train} button", timeout=5_000)  # ready for another run
    status = _text(page, f"{train} .wb-status")
    page.locator(train).first.screenshot(path=str(shots / f"{name}-4-stopped.png"))
    metrics[name] = {"stop_latency_s": round(latency, 3), "stop_to_scored_s": round(scored, 3), "plot_changes_in_4s": len(changes),
                     "plot_gap_max_s": round(max(gaps), 3) if gaps else None,
                     "plot_gap_mean_s": round(sum(gaps) / len(gaps), 3) if gaps else None,
                     "stopped_at_step": step_at_stop, "status": status}
    print(name, metrics[name])
    assert latency < STOP_LIMIT_S, f"Stop took {latency:.2f} s (limit {STOP_LIMIT_S})"
    assert gaps and max(gaps) <= PLOT_LIMIT_S, f"plot updates {gaps}"


# ----------------------------------------------------------------------------------------------------
# JupyterLab

OVERRIDES = {
    "@jupyterlab/apputils-extension:notification": {"checkForUpdates": False, "fetchNews": "false"},
    "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none", "autoStartDefaultKernel": True},
}


@pytest.fixture(scope="module")
def lab(workdir):
    port, token = _free_port(), "wb-test-token"
    settings = workdir / "app-settings"
    settings.mkdir(exist_ok=True)
    (settings / "overrides.json").write_text(json.dumps(OVERRIDES))
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ip", "127.0.0.1", "--port", str(port),
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={workdir / 'root'}",
           "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
           f"--LabApp.app_settings_dir={settings}"]
    log = open(workdir / "lab.log", "w")
    proc = subprocess.Popen(cmd, env=_env(workdir / "home"), stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_http(f"{base}/api/status?token={token}", 60, proc)
        yield base, token
    finally:
        _delete_sessions(base, token)
        _stop(proc)
        log.close()
        shutil.copy(workdir / "lab.log", ARTIFACTS / "lab.log")


def _delete_sessions(base: str, token: str) -> None:
    try:
        with urllib.request.urlopen(f"{base}/api/sessions?token={token}", timeout=5) as r:
            sessions = json.load(r)
        for s in sessions:
            req = urllib.request.Request(f"{base}/api/sessions/{s['id']}?token={token}", method="DELETE")
            urllib.request.urlopen(req, timeout=5).close()
    except OSError:
        pass


def test_playground_in_jupyterlab(browser, lab, metrics):
    t_start = time.perf_counter()
    base, token = lab
    _delete_sessions(base, token)
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    try:
        page.goto(f"{base}/lab/tree/{NOTEBOOK.name}?reset&token={token}")
        nb = ".jp-NotebookPanel:not(.lm-mod-hidden)"
        page.locator(f"{nb} .jp-Notebook").first.wait_for(timeout=60_000)
        page.wait_for_timeout(500)
        dialog = page.locator(".jp-Dialog button.jp-mod-accept")
        if dialog.count():  # a kernel chooser, should the preferred-kernel setting not apply
            dialog.first.click()
        page.locator(f"{nb} .jp-Notebook-ExecutionIndicator").first.wait_for(timeout=60_000)
        page.wait_for_function(
            "() => !!document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Toolbar-kernelName')"
            " && !/No Kernel/.test(document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) "
            ".jp-Toolbar-kernelName').textContent)", timeout=60_000)
        page.locator(f"{nb} .jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(timeout=60_000)
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
        page.wait_for_function(
            """sel => { const p = [...document.querySelectorAll(sel)];
                        return p.length > 0 && p.every(e => /\\[\\d+\\]/.test(e.textContent)); }""",
            arg=f"{nb} .jp-CodeCell .jp-InputPrompt", timeout=120_000)
        page.screenshot(path=str(ARTIFACTS / "lab-0-after-run-all.png"))
        assert page.locator(f"{nb} .jp-RenderedText[data-mime-type='application/vnd.jupyter.error']").count() == 0
        t_ready = time.perf_counter()
        exercise_playground(page, "lab", metrics)
        metrics["lab"].update(open_and_run_all_s=round(t_ready - t_start, 1), test_s=round(time.perf_counter() - t_start, 1))
    finally:
        page.screenshot(path=str(ARTIFACTS / "lab-5-final.png"))
        page.close()


# ----------------------------------------------------------------------------------------------------
# Voila: the classroom app, started the way `workbench app` starts it


@pytest.fixture(scope="module")
def voila(workdir):
    port = _free_port()
    log = open(workdir / "voila.log", "w")
    # exactly what an instructor types: `workbench app` (loopback unless --ip says otherwise)
    cmd = [sys.executable, "-m", "workbench", "app", "--port", str(port), "--notebook", str(workdir / "root" / NOTEBOOK.name)]
    proc = subprocess.Popen(cmd, env=_env(workdir / "home"), stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_port(port, 60, proc)  # a GET would execute the notebook in a kernel nobody uses
        yield base
    finally:
        _stop(proc)
        log.close()
        shutil.copy(workdir / "voila.log", ARTIFACTS / "voila.log")


def test_playground_in_voila(browser, voila, metrics):
    t_start = time.perf_counter()
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    try:
        page.goto(f"{voila}/", timeout=120_000)
        page.locator(".wb-playground").first.wait_for(state="visible", timeout=120_000)
        page.screenshot(path=str(ARTIFACTS / "voila-0-loaded.png"), full_page=True)
        assert "from workbench" not in page.locator("body").inner_text()  # an app: no code shown
        t_ready = time.perf_counter()
        exercise_playground(page, "voila", metrics)
        metrics["voila"].update(page_ready_s=round(t_ready - t_start, 1), test_s=round(time.perf_counter() - t_start, 1))
    finally:
        page.screenshot(path=str(ARTIFACTS / "voila-5-final.png"), full_page=True)
        page.close()
