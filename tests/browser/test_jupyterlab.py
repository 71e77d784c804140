"""Run notebooks the way a student does: in JupyterLab, in a browser, with Run All.

nbval (`make test-notebooks`) checks what the kernel computes; these tests check what the
student sees: every cell ran, no cell shows an error, and the ipywidgets tools render (and
answer) in the page. Run with `make test-browser` (or `pytest -m browser tests/browser`);
plain `pytest tests/` leaves them out.
"""

from __future__ import annotations

import contextlib
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from mtlab.data.datasets import SAMPLE_DIR, load_dataset

pytestmark = pytest.mark.browser

PROJECT = Path(__file__).resolve().parents[2]
FIRST = "A man is playing a guitar on stage."  # prediction_explorer's default first sentence

# The widgets notebook: small on purpose, so a failure points at the page, not at training.
WIDGET_CELLS = [
    "import torch\n\nimport mtlab\nimport mtlab.debugging.widgets\n\ntorch.manual_seed(0)\nprint('mtlab imported')",
    "sst = mtlab.load_dataset('sst', 'train', mtlab.data.SAMPLE_DIR)\nprint('sst train rows:', len(sst))",
    "model = mtlab.MultitaskBert.from_pretrained()\nprint('encoder:', model.encoder.name)",
    "mtlab.debugging.widgets.prediction_explorer(model)",
]

# The focused notebook panel and its kernel, found by the notebook's path.
_PANEL = """(path) => {
    const app = window.jupyterapp;
    if (!app || !app.shell) return null;
    for (const w of app.shell.widgets('main')) {
        if (w.context && w.context.path === path && w.content && w.sessionContext) return w;
    }
    return null;
}"""
KERNEL_IDLE = f"""(path) => {{
    const panel = ({_PANEL})(path);
    const kernel = panel && panel.sessionContext.session && panel.sessionContext.session.kernel;
    return !!(kernel && kernel.status === 'idle' && panel.content.widgets.length > 0);
}}"""
# Run All has finished when no cell is queued or running ([*]) and either every code cell
# has an execution count or a cell failed (Run All stops there) or the kernel died.
RUN_FINISHED = f"""(path) => {{
    const panel = ({_PANEL})(path);
    if (!panel) return false;
    const status = panel.sessionContext.session && panel.sessionContext.session.kernel
        ? panel.sessionContext.session.kernel.status : 'none';
    if (status === 'dead' || status === 'unknown') return true;
    const code = panel.content.widgets.filter(c => c.model.type === 'code');
    const prompt = c => (c.node.querySelector('.jp-InputArea-prompt') || {{}}).textContent || '';
    if (code.some(c => prompt(c).includes('*'))) return false;
    const failed = code.some(c => c.model.outputs.toJSON().some(o => o.output_type === 'error'));
    return status === 'idle' && (failed || code.every(c => c.model.executionCount !== null));
}}"""
# What the page shows for each code cell: the model's execution count and error outputs, the
# prompt text, and the text of the stdout / stderr output areas as rendered.
SUMMARY = f"""(path) => {{
    const panel = ({_PANEL})(path);
    const texts = (node, mime) => [...node.querySelectorAll(
        `.jp-OutputArea-output[data-mime-type="${{mime}}"]`)].map(e => e.innerText);
    const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
    return {{
        kernel: kernel ? kernel.status : 'none',
        cells: panel.content.widgets.map((c, index) => ({{index, type: c.model.type}}))
            .filter(c => c.type === 'code').map(({{index}}) => {{
                const cell = panel.content.widgets[index];
                const outputs = cell.model.outputs.toJSON();
                return {{
                    index,
                    source: cell.model.sharedModel.getSource().slice(0, 60),
                    count: cell.model.executionCount,
                    prompt: (cell.node.querySelector('.jp-InputArea-prompt') || {{}}).textContent,
                    errors: outputs.filter(o => o.output_type === 'error')
                        .map(o => `${{o.ename}}: ${{o.evalue}}`),
                    stdout: texts(cell.node, 'application/vnd.jupyter.stdout'),
                    stderr: texts(cell.node, 'application/vnd.jupyter.stderr'),
                }};
            }}),
    }};
}}"""


def write_notebook(path: Path, cells: list[str]) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(notebook, path)


@contextlib.contextmanager
def lab_page(browser, server, notebook: str, name: str):
    """A page on JupyterLab; screenshot and server log attached to any failure inside."""
    page = browser.context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    shot = browser.artifacts / f"{name}.png"
    try:
        yield page, problems
    except BaseException as error:
        with contextlib.suppress(Exception):
            page.screenshot(path=shot)
            error.add_note(f"screenshot: {shot}")
        error.add_note(f"page errors: {problems}\nblocked requests: {browser.blocked}")
        error.add_note("JupyterLab log (tail):\n" + server.log_tail(25))
        raise
    finally:
        server.shutdown_kernels_for(notebook)
        page.close()


def run_all(page, server, notebook: str, timeout_s: float) -> dict:
    """Open `notebook` in JupyterLab, wait for its kernel, Run All, wait for the end."""
    # `reset`: start from an empty workspace, so tabs left by an earlier test (and their
    # kernels) are not restored.
    url = server.url(f"lab/tree/{notebook}") + "&reset"
    page.goto(url, wait_until="domcontentloaded", timeout=60_000)
    page.wait_for_function(KERNEL_IDLE, arg=notebook, timeout=90_000, polling=250)
    page.evaluate("() => window.jupyterapp.commands.execute('runmenu:run-all')")
    page.wait_for_function(RUN_FINISHED, arg=notebook, timeout=timeout_s * 1000, polling=250)
    return page.evaluate(SUMMARY, notebook)


def assert_ran_cleanly(summary: dict) -> None:
    """Every code cell ran ([n]: prompt and an execution count) and none shows an error."""
    report = "\n".join(
        f"  cell {c['index']} {c['prompt']!s:7} {c['source']!r}"
        + "".join(f"\n      {e}" for e in c["errors"])
        for c in summary["cells"]
    )
    failed = [c for c in summary["cells"] if c["errors"]]
    tracebacks = [c for c in summary["cells"] if any("Traceback" in t for t in c["stderr"])]
    not_run = [c for c in summary["cells"] if c["count"] is None]
    assert not failed, f"cells with an error output:\n{report}"
    assert not tracebacks, f"cells showing a traceback:\n{report}"
    assert not not_run, f"cells that never ran (kernel {summary['kernel']}):\n{report}"
    assert all(re.fullmatch(r"\[\d+\]:", c["prompt"] or "") for c in summary["cells"]), report
    assert summary["kernel"] == "idle", report


def test_prediction_explorer_renders_and_answers(jupyter_server, browser):
    """A small notebook: import, load the sample, build the model, show the widget."""
    from playwright.sync_api import expect

    notebook = "widgets_check.ipynb"
    write_notebook(jupyter_server.root / notebook, WIDGET_CELLS)
    rows = len(load_dataset("sst", "train", SAMPLE_DIR))

    with lab_page(browser, jupyter_server, notebook, "prediction_explorer") as (page, problems):
        summary = run_all(page, jupyter_server, notebook, timeout_s=120)
        assert_ran_cleanly(summary)
        assert len(summary["cells"]) == len(WIDGET_CELLS)
        assert any(f"sst train rows: {rows}" in text for text in summary["cells"][1]["stdout"])

        # The widget view (ipywidgets' own DOM), not its text fallback "VBox(children=...)".
        view = page.locator(".jp-OutputArea-output > .jupyter-widgets.widget-vbox")
        expect(view).to_have_count(1)
        view.scroll_into_view_if_needed()
        boxes = view.locator(".jupyter-widgets.widget-text input")
        expect(boxes).to_have_count(2)
        expect(boxes.first).to_be_visible()
        expect(boxes.first).to_have_value(FIRST)
        expect(view.locator(".widget-label").first).to_have_text("sentence 1")
        result = view.locator(".widget-html")
        for head in ("sentiment", "paraphrase", "similarity"):
            expect(result).to_contain_text(head)
        expect(page.get_by_text("Error displaying widget")).to_have_count(0)
        page.screenshot(path=browser.artifacts / "prediction_explorer.png")

        # Live, not just drawn: typing goes to the kernel and the answers come back.
        before = result.inner_text()
        boxes.first.fill("The stock market fell sharply today.")
        expect(result).not_to_have_text(before, use_inner_text=True, timeout=30_000)
        expect(result).to_contain_text("similarity")
        print("prediction_explorer before:", before, "after:", result.inner_text(), sep="\n")
        page.screenshot(path=browser.artifacts / "prediction_explorer_typed.png")
        assert not problems, problems
    assert not browser.blocked, f"requests that tried to leave 127.0.0.1: {browser.blocked}"


def test_tour_notebook_runs_in_jupyterlab(jupyter_server, browser):
    """notebooks/00_tour.ipynb, Run All in the fast profile (MTLAB_FAST=1 on the server)."""
    source = PROJECT / "notebooks" / "00_tour.ipynb"
    if not source.exists():
        pytest.skip(f"{source} does not exist")
    text = source.read_text()
    # The tour reads files relative to notebooks/ (e.g. ../results/...): copy those that exist.
    needed = sorted(set(re.findall(r'\.\./((?:results|data)/[^"\'\\\s)]+)', text)))
    missing = [p for p in needed if not (PROJECT / p).exists()]
    if missing:
        pytest.skip(f"the tour reads {', '.join(missing)}, which this checkout lacks")
    (jupyter_server.root / "notebooks").mkdir(exist_ok=True)
    shutil.copy(source, jupyter_server.root / "notebooks" / source.name)
    for path in needed:
        (jupyter_server.root / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(PROJECT / path, jupyter_server.root / path)

    notebook = f"notebooks/{source.name}"
    with lab_page(browser, jupyter_server, notebook, "tour") as (page, problems):
        summary = run_all(page, jupyter_server, notebook, timeout_s=240)
        assert_ran_cleanly(summary)
        assert any("fast profile" in t for t in summary["cells"][0]["stdout"]), summary["cells"][0]
        page.screenshot(path=browser.artifacts / "tour.png")
        assert not problems, problems
    assert not browser.blocked, f"requests that tried to leave 127.0.0.1: {browser.blocked}"
