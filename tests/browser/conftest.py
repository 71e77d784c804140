"""Fixtures for the browser tests: a private JupyterLab server and headless Chromium.

Everything stays on 127.0.0.1: the server listens there only, its news and update checks
are off, and the browser aborts every request that is not for the server (the aborted
addresses are kept in `browser.blocked` so a test can show them).

The server gets its own config, data and runtime folders, so nothing here depends on (or
writes to) the user's Jupyter setup, and a temporary root folder: tests copy notebooks into
`jupyter_server.root` and never touch the originals.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("MTLAB_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_TIMEOUT = 60  # seconds until /api/status answers
SERVER_STOP_TIMEOUT = 20  # seconds for a clean shutdown before the server is killed

# Server-side: no news feed, no PyPI update check, no extension-manager searches, and
# `window.jupyterapp` exposed so tests can run commands (`runmenu:run-all`) directly.
SERVER_CONFIG = {
    "LabApp": {
        "news_url": None,
        "check_for_updates_class": "jupyterlab.handlers.announcements.NeverCheckForUpdate",
        "extension_manager": "readonly",
        "expose_app_in_browser": True,
    },
    "LanguageServerManager": {"autodetect": False},
}
# Front-end user settings: never ask about (or fetch) news, and keep every cell in the DOM
# (the default windowing can leave off-screen cells unrendered, which would hide outputs).
USER_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
        "doNotDisturbMode": True,
    },
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}
# Environment variables that would point the server at the user's own Jupyter setup.
JUPYTER_ENV = ("JUPYTER_PATH", "JUPYTER_CONFIG_PATH", "JUPYTER_PREFER_ENV_PATH", "JUPYTER_TOKEN")


def _requirements_or_skip() -> None:
    """Skip (with the reason and the fix) when the browser, playwright or jupyterlab is missing."""
    fix = "run `make test-browser`, which installs them"
    if not CHROMIUM.is_file():
        pytest.skip(f"no Chromium at {CHROMIUM} (set MTLAB_CHROMIUM, or {fix})")
    for module in ("playwright", "jupyterlab"):
        try:
            __import__(module)
        except ImportError:
            pytest.skip(f"Python package {module!r} is not installed ({fix})")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class JupyterServer:
    """A running JupyterLab server: where it is, how to reach it, what it logged."""

    root: Path
    port: int
    token: str
    log: Path
    process: subprocess.Popen = field(repr=False)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}?token={self.token}"

    def api(self, path: str, method: str = "GET", timeout: float = 10):
        """Call the REST API; the decoded JSON answer, or None for an empty one."""
        request = urllib.request.Request(
            f"{self.base_url}/api/{path.lstrip('/')}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None

    def log_tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def shutdown_kernels_for(self, notebook: str) -> None:
        """Delete the sessions (and so the kernels) opened for `notebook` (a root-relative path)."""
        with contextlib.suppress(OSError, ValueError):
            for session in self.api("sessions") or []:
                if session.get("path") == notebook:
                    self.api(f"sessions/{session['id']}", method="DELETE", timeout=20)


def _write_isolated_config(base: Path) -> dict[str, str]:
    """Fresh Jupyter config/data/runtime/IPython folders; the env vars that select them."""
    dirs = {name: base / name for name in ("config", "data", "runtime", "ipython")}
    for folder in dirs.values():
        folder.mkdir(parents=True)
    (dirs["config"] / "jupyter_server_config.json").write_text(json.dumps(SERVER_CONFIG))
    settings = dirs["config"] / "lab" / "user-settings"
    for name, values in USER_SETTINGS.items():
        (settings / name).parent.mkdir(parents=True, exist_ok=True)
        (settings / name).write_text(json.dumps(values))
    return {
        "JUPYTER_CONFIG_DIR": str(dirs["config"]),
        "JUPYTER_DATA_DIR": str(dirs["data"]),
        "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
        "IPYTHONDIR": str(dirs["ipython"]),
    }


def _wait_until_up(server: JupyterServer) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"JupyterLab exited with code {server.process.returncode} while starting:\n"
                + server.log_tail()
            )
        with contextlib.suppress(OSError, ValueError):
            server.api("status", timeout=2)
            return
        time.sleep(0.3)
    raise RuntimeError(
        f"JupyterLab did not answer within {SERVER_START_TIMEOUT}s:\n" + server.log_tail()
    )


def _stop(server: JupyterServer) -> None:
    """Ask the server to shut down (it stops its kernels first); kill it if it will not."""
    process = server.process
    if process.poll() is None:
        with contextlib.suppress(OSError, ValueError):
            server.api("shutdown", method="POST", timeout=5)
        try:
            process.wait(timeout=SERVER_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)  # the server's own process group
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


@pytest.fixture(scope="session")
def jupyter_server(tmp_path_factory):
    """JupyterLab on 127.0.0.1 with a temporary root folder; always shut down afterwards."""
    _requirements_or_skip()
    base = tmp_path_factory.mktemp("jupyterlab")
    root = base / "root"
    root.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in JUPYTER_ENV}
    env.update(_write_isolated_config(base))
    # The kernels inherit this: the fast profile (sample data) and no Hugging Face downloads.
    env.update(MTLAB_FAST="1", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONUNBUFFERED="1")
    token = secrets.token_hex(16)
    log = base / "server.log"

    server = None
    for _attempt in range(3):  # the free port can be taken between choosing and binding it
        port = _free_port()
        command = [
            sys.executable, "-m", "jupyterlab", "--no-browser",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
        ]  # fmt: skip
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-root")
        with log.open("w") as log_file:
            process = subprocess.Popen(
                command, cwd=root, env=env, stdout=log_file, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        server = JupyterServer(root=root, port=port, token=token, log=log, process=process)
        try:
            _wait_until_up(server)
            break
        except RuntimeError:
            _stop(server)
            if "address already in use" not in server.log_tail().lower():
                raise
    else:
        raise RuntimeError("JupyterLab could not bind a free port in 3 tries:\n" + log.read_text())

    try:
        yield server
    finally:
        _stop(server)


@dataclass
class Browser:
    """A headless Chromium context; `blocked` lists every request aborted for leaving 127.0.0.1."""

    context: object
    blocked: list[str]
    artifacts: Path


@pytest.fixture(scope="session")
def browser(jupyter_server, tmp_path_factory):
    """Headless Chromium (the system's, never a downloaded one) with a fresh profile."""
    from playwright.sync_api import sync_playwright

    artifacts = tmp_path_factory.mktemp("browser-artifacts")
    profile = tempfile.mkdtemp(prefix="mtlab-chromium-")
    blocked: list[str] = []
    allowed = (jupyter_server.base_url + "/", "data:", "blob:", "about:")

    def only_local(route) -> None:
        url = route.request.url
        if url.startswith(allowed):
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    try:
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                profile,
                executable_path=str(CHROMIUM),
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": 1400, "height": 1000},
                timeout=60_000,
            )
            try:
                context.set_default_timeout(30_000)
                context.route("**/*", only_local)
                yield Browser(context, blocked, artifacts)
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
