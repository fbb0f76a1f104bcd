"""Serve careledger for a browser test and drive Debian's Chromium.

The server runs in a subprocess on its own SQLite file, not pytest-django's live_server: that
flushes the database between tests, and the audit table's triggers refuse the DELETE.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CARELEDGER = Path(sys.executable).parent / "careledger"
RESULTS = ROOT / "test-results"
PASSWORD = "correct horse battery"
PRACTICE_ZONE = "America/Chicago"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_serving(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise RuntimeError(f"the server did not answer {url} within {timeout} s")


@dataclass
class Served:
    """A running careledger: its address, a way to run commands against its database, and what
    each set-up command printed."""

    url: str
    run: Callable[..., str]
    outputs: list[str] = field(default_factory=list)

    def shell(self, code: str) -> str:
        return self.run("shell", "-c", code)


@contextmanager
def serve(*setup: tuple[str, ...], prefix: str = "careledger-browser-") -> Iterator[Served]:
    """Migrate a fresh SQLite database, run the set-up commands, and serve it on a free port."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{tmp}/db.sqlite3",
            "PYTHONDONTWRITEBYTECODE": "1",
        }

        def run(*args: str) -> str:
            done = subprocess.run(
                [str(CARELEDGER), *args], env=env, cwd=ROOT, capture_output=True, text=True
            )
            if done.returncode:
                raise RuntimeError(f"careledger {args[0]} failed:\n{done.stderr[-3000:]}")
            return done.stdout

        run("migrate", "--no-input", "-v0")
        run("createcachetable")
        outputs = [run(*command) for command in setup]
        port = free_port()
        with open(Path(tmp) / "server.log", "wb") as log:
            process = subprocess.Popen(
                [str(CARELEDGER), "runserver", f"127.0.0.1:{port}", "--noreload"],
                env=env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                base = f"http://127.0.0.1:{port}"
                wait_until_serving(f"{base}/login/", process)
                yield Served(url=base, run=run, outputs=outputs)
            finally:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def launch(playwright: Any) -> Any:
    """Start Debian's Chromium headless (Playwright's own browser downloads fail here)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
