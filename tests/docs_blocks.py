"""The commands of README.md and docs/*.md, as the tests run them.

Every fenced `bash` or `python` block carries a name on the line before it,
`<!-- cmd: NAME -->`, and a test runs it through `block(NAME)`; the output a page shows under
`<!-- output: NAME -->` is what that test compares against. `tests/test_docs.py` fails on a block
without a name or without a test, so a command cannot land in the docs untested.

A `Workspace` is what a user's checkout looks like (the project's files, its `.venv`), in a
temporary folder: commands write their `mlflow.db`, `tickets.csv` or `outputs/` there, not into
the repository, and `$PWD` is that folder as it is in a user's shell.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from mlflow_fixtures import free_port as free_port  # one port picker; the doc tests import it

from warmstart.config import PROJECT_ROOT

PAGES = (PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").glob("*.md")))
FENCE = re.compile(
    r"^(?:[ \t]*<!-- (?P<kind>cmd|output): (?P<name>[\w-]+) -->\n)?"
    r"(?P<indent>[ \t]*)```(?P<lang>\w*)\n(?P<body>.*?)^(?P=indent)```[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
RUNNABLE = ("bash", "python")
# MLflow's own notice when it creates a new SQLite store (once per store): not a stage's line.
MLFLOW_INFO = re.compile(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d INFO mlflow\.")
# What a checkout holds that commands use; never .git or a user's own mlflow.db.
CHECKOUT = ("MLproject", "Makefile", "conf", "src", "notebooks", "pyproject.toml",
            "conda.yaml", "requirements.lock", "requirements-cluster.lock",
            "requirements-test.lock", ".venv", ".cache")  # fmt: skip


@dataclass(frozen=True)
class Block:
    page: Path
    line: int
    lang: str
    kind: str | None  # "cmd", "output" or None
    name: str | None
    text: str

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(PROJECT_ROOT)}:{self.line}"


def blocks() -> list[Block]:
    """Every fenced block of the README and docs/, in page order."""
    found = []
    for page in PAGES:
        text = page.read_text()
        for m in FENCE.finditer(text):
            body = textwrap.dedent(m.group("body"))
            line = text.count("\n", 0, m.start()) + 1
            found.append(Block(page, line, m.group("lang"), m.group("kind"), m.group("name"), body))
    return found


def block(name: str, kind: str = "cmd") -> Block:
    """The one block named `name` (`kind` "output" for the output a page shows)."""
    (match,) = [b for b in blocks() if b.name == name and b.kind == kind]
    return match


def commands(name: str) -> list[str]:
    """A shell block's commands, one per entry: continuations joined, comments dropped."""
    joined = block(name).text.replace("\\\n", " ")
    lines = (re.sub(r"\s+#\s.*$", "", line).strip() for line in joined.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def wait_for_http(url: str, process: subprocess.Popen, timeout: float = 120) -> None:
    """Until `url` answers (any HTTP status); fail at once if `process` died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the service exited ({process.returncode}) before {url} answered")
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"{url} did not answer within {timeout} s")


def stop(process: subprocess.Popen) -> str:
    """Stop a background service and every process it started; its output."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    log = getattr(process, "log_path", None)
    return Path(log).read_text(errors="replace") if log else ""


class Workspace:
    """A user's checkout in `root`: the project's files linked in, its own stores."""

    def __init__(self, root: Path, **env: str) -> None:
        self.root = root
        for name in CHECKOUT:
            if (PROJECT_ROOT / name).exists() and not (root / name).exists():
                (root / name).symlink_to(PROJECT_ROOT / name)
        bin_dir = str(Path(sys.executable).parent)
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "PYTEST"))},
            "PATH": os.environ["PATH"].replace(f"{bin_dir}:", ""),  # as a fresh shell has it
            "PWD": str(root),
            "MLFLOW_TRACKING_URI": f"sqlite:///{root}/mlflow.db",
            **env,
        }

    def _argv(self, lang: str, text: str, *, strict: bool) -> list[str]:
        """How `text` runs: Python as is; shell lines with the venv active (the pages say
        commands assume it), stopping at the first failing line when `strict`."""
        if lang == "python":
            return [sys.executable, "-c", text]
        if "source .venv/bin/activate" not in text:
            text = "source .venv/bin/activate\n" + text
        return ["bash", *(["-e", "-o", "pipefail"] if strict else []), "-c", text]

    def _text(self, b: Block, replace: dict[str, str] | None) -> str:
        text = b.text
        for old, new in (replace or {}).items():
            assert old in text, f"{b.where}: the test expects {old!r} in block {b.name!r}"
            text = text.replace(old, new)
        return text

    def run(
        self,
        name: str,
        replace: dict[str, str] | None = None,
        timeout: float = 900,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess:
        """Run block `name` to its end; fail with its output unless it exits 0."""
        b = block(name)
        done = self.shell(self._text(b, replace), b.lang, timeout, env, strict=True)
        assert done.returncode == 0, f"{b.where} `{name}` exited {done.returncode}:\n" + (
            done.stdout[-3000:] + done.stderr[-6000:]
        )
        return done

    def shell(
        self,
        text: str,
        lang: str = "bash",
        timeout: float = 900,
        env: dict[str, str] | None = None,
        *,
        strict: bool = False,
    ) -> subprocess.CompletedProcess:
        """Run `text` (lines of a block) in the workspace, whatever its exit code."""
        return subprocess.run(
            self._argv(lang, text, strict=strict), cwd=self.root, env={**self.env, **(env or {})},
            capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip

    def start(
        self, name: str, replace: dict[str, str] | None = None, env: dict[str, str] | None = None
    ) -> subprocess.Popen:
        """Start block `name` as a background service (its own process group), its output
        into a file: a pipe nobody reads fills up and stalls a chatty server mid-request."""
        b = block(name)
        log_path = self.root / f"{name}.log"
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                self._argv(b.lang, self._text(b, replace), strict=True), cwd=self.root,
                env={**self.env, **(env or {})}, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        process.log_path = log_path  # type: ignore[attr-defined]
        return process
