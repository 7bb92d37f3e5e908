"""Every command example in README.md runs, against a real server with the sample data, and prints
what the README shows.

An example is a fenced block of shell (```sh, ```bash, ```shell) or a console session (```console,
or ```text whose lines start with `$ `). Each is run unless an HTML comment right before it says
why not (`<!-- not run: needs docker -->`). The examples run in document order, in one bash
process, so that a variable set in one (`KEY=$(...)`) serves the next, against one
`python -m app serve --seed-if-empty` on an empty embedded database of its own; the README's
http://127.0.0.1:8000 becomes that server's address.

The output shown is compared with the output printed, as the README describes its outputs: `…`
stands for anything left out; line breaks and spaces do not count (the README wraps long JSON);
timestamps are any timestamps; of the headers of `curl -i`, those shown must be there, with the
values shown. Every command must succeed (exit status 0), and one whose output the README does
not show must not print a problem.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from app.core.embedded import free_port
from tests.servers import HOST, ROOT, app_env, start_server, stop, wait_ready

README = ROOT / "README.md"
SHOWN_BASE = "http://127.0.0.1:8000"
SHELLS = {"sh", "bash", "shell", "console", "text"}
NOT_RUN = re.compile(r"^<!--\s*not run:\s*(?P<reason>.*?)\s*-->$")
FENCE = re.compile(r"^(?P<indent>\s*)```(?P<lang>[\w+-]*)\s*$")
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)")
ELLIPSIS = "…"
PROBLEM = '"type":"urn:craftvillage:problem:'
PY_WARNING = re.compile(r"\b\w*Warning: ")
PASSWORD = "readme-password-2026"  # what the reader types at the prompt


@dataclass
class Command:
    text: str
    shown: str  # the output the README shows, "" when none


@dataclass
class Block:
    line: int  # of the opening fence, 1-based
    lang: str
    lines: list[str]
    not_run: str | None  # the reason given, "" when the marker gives none
    commands: list[Command] = field(default_factory=list)


def blocks(text: str) -> list[Block]:
    """The README's shell and console blocks that hold commands."""
    found: list[Block] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        fence = FENCE.match(lines[index])
        if not fence:
            index += 1
            continue
        start, indent, lang = index, len(fence["indent"]), fence["lang"]
        index += 1
        body: list[str] = []
        while index < len(lines) and lines[index].strip() != "```":
            body.append(lines[index][indent:])
            index += 1
        index += 1
        before = next((ln.strip() for ln in reversed(lines[:start]) if ln.strip()), "")
        marker = NOT_RUN.match(before)
        block = Block(start + 1, lang, body, marker["reason"] if marker else None)
        block.commands = _commands(block) if lang in SHELLS else []
        if block.commands:
            found.append(block)
    return found


def _commands(block: Block) -> list[Command]:
    """The commands of a block with the output shown after each. In a console session a command
    is a `$ ` line, continued while it ends with a backslash or leaves a quote open."""
    if block.lang in {"sh", "bash", "shell"}:
        return [Command(ln, "") for ln in block.lines if ln.strip() and not ln.startswith("#")]
    commands: list[Command] = []
    current: list[str] | None = None
    output: list[str] = []
    open_command = False
    for ln in block.lines:
        if open_command and current is not None:
            current.append(ln)
        elif ln.startswith("$ "):
            if current is not None:
                commands.append(Command("\n".join(current), "\n".join(output)))
            current, output = [ln[2:]], []
        else:
            output.append(ln)
            continue
        text = "\n".join(current)
        open_command = text.endswith("\\") or text.count("'") % 2 == 1
    if current is not None:
        commands.append(Command("\n".join(current), "\n".join(output)))
    return commands


# -- comparing ----------------------------------------------------------------------------------


def squeezed(text: str) -> str:
    return re.sub(r"\s+", "", TIMESTAMP.sub("<time>", text))


def matches(shown: str, printed: str) -> bool:
    """The printed text is the shown one, `…` standing for anything, spaces and line breaks aside."""
    parts = squeezed(shown).split(ELLIPSIS)
    text = squeezed(printed)
    if len(parts) == 1:
        return parts[0] == text
    if not text.startswith(parts[0]) or not text.endswith(parts[-1]):
        return False
    at = len(parts[0])
    for part in parts[1:-1]:
        found = text.find(part, at)
        if found < 0:
            return False
        at = found + len(part)
    return at <= len(text) - len(parts[-1])


def http_matches(shown: str, printed: str) -> list[str]:
    """`curl -i` output: the status line, the headers shown (among those sent) and the body."""
    shown_head, _, shown_body = shown.replace("\r", "").partition("\n\n")
    head, _, body = printed.replace("\r", "").partition("\n\n")
    status, *shown_headers = shown_head.splitlines()
    printed_status, *printed_headers = head.splitlines()
    problems = [] if status.strip() == printed_status.strip() else [f"status {printed_status!r}"]
    sent: dict[str, list[str]] = {}
    for header in printed_headers:
        name, _, value = header.partition(":")
        sent.setdefault(name.strip().lower(), []).append(value.strip())
    for header in shown_headers:
        name, _, value = header.partition(":")
        values = sent.get(name.strip().lower(), [])
        if not any(matches(value.strip(), v) for v in values):
            problems.append(f"header {header!r}, sent {values!r}")
    if not matches(shown_body, body):
        problems.append(f"body {body[:3000]!r}")
    return problems


def differences(shown: str, printed: str) -> list[str]:
    if not shown.strip():
        return []
    if shown.lstrip().startswith("HTTP/"):
        return http_matches(shown.strip(), printed.strip())
    return [] if matches(shown, printed) else [f"printed {printed[:3000]!r}"]


# -- the examples themselves ---------------------------------------------------------------------


def _runnable(block: Block) -> bool:
    text = "\n".join(c.text for c in block.commands)
    return "curl" in text or "-m app" in text


def test_every_example_is_run_or_says_why_not() -> None:
    found = blocks(README.read_text(encoding="utf-8"))
    skipped = {b.line: b.not_run for b in found if b.not_run is not None}
    assert all(skipped.values()), f"a `not run` marker without a reason, at README.md lines {skipped}"
    run = [b for b in found if b.not_run is None]
    assert len(run) >= 15, [b.line for b in run]
    for block in run:
        assert _runnable(block), (
            f"README.md line {block.line}: an example that is neither curl nor `python -m app` "
            "(mark it <!-- not run: reason --> if it cannot run here)"
        )
    # The examples that cannot run here, and why, for the log (-rA shows it).
    for line, reason in sorted(skipped.items()):
        print(f"README.md line {line}: not run: {reason}")


def test_the_comparison_itself() -> None:
    assert matches('{"a" : 1, …, "c" : 3}', '{"a":1,"b":2,"c":3}')
    assert not matches('{"a" : 1, …, "c" : 4}', '{"a":1,"b":2,"c":3}')
    assert matches('"at" : "2026-11-27T10:05:01.511246+00:00"', '"at":"2030-01-01T00:00:00+00:00"')
    assert not matches("created admin hoa (id 1)", "created admin hoa (id 2)")
    assert (
        http_matches('HTTP/1.1 200 OK\netag: "1"\n\n{}', 'HTTP/1.1 200 OK\r\nx: y\r\netag: "1"\r\n\r\n{}')
        == []
    )
    assert http_matches('HTTP/1.1 200 OK\netag: "1"\n\n{}', 'HTTP/1.1 200 OK\r\netag: "2"\r\n\r\n{}')
    session = Block(1, "console", ["$ a 'x", "y'", "out", "$ b \\", "  c", "more"], None)
    assert [(c.text, c.shown) for c in _commands(session)] == [("a 'x\ny'", "out"), ("b \\\n  c", "more")]


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, dict[str, str]]]:
    """`python -m app serve --seed-if-empty` on an empty embedded database; its URL and the
    environment under which the README's commands reach it (and its database)."""
    if shutil.which("curl") is None or shutil.which("bash") is None:
        pytest.skip("the README's examples need curl and bash")
    folder = Path(tempfile.mkdtemp(prefix="craftvillage-readme-"))
    port = free_port()
    env = app_env(without={"PYTHONWARNINGS"}, DATA_DIR=str(folder), PORT=str(port), HOST=HOST, COLUMNS="80")
    log_path = folder / "serve.log"
    log = log_path.open("wb")
    process = start_server(env, port, "--seed-if-empty", output=log)
    try:
        wait_ready(process, port, timeout=180, log=log_path)
        yield f"http://{HOST}:{port}", env
    finally:
        stop(process, timeout=60)
        log.close()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.slow
def test_every_example_prints_what_the_readme_shows(
    server: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    url, env = server
    # Only curl and `python -m app`: anything else unmarked fails the test above instead of
    # running here (a `make run` would never return).
    examples = blocks(README.read_text(encoding="utf-8"))
    commands = [c for b in examples if b.not_run is None and _runnable(b) for c in b.commands]
    python = shlex.quote(sys.executable)
    script = ["set -u"]
    for number, command in enumerate(commands):
        text = command.text.replace(SHOWN_BASE, url).replace(".venv/bin/python", python)
        script += [f"echo '<<<{number}>>>'", f"echo '<<<{number}>>>' >&2", text, 'echo "<<<rc $?>>>"']
    script.append("echo '<<<end>>>'")
    (tmp_path / "readme.sh").write_text("\n".join(script) + "\n", encoding="utf-8")
    run = subprocess.run(
        ["bash", str(tmp_path / "readme.sh")],
        cwd=ROOT,
        env=env,
        input=PASSWORD + "\n",  # what the reader types at the README's password prompt
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.stdout.rstrip().endswith("<<<end>>>"), (run.stdout[-3000:], run.stderr[-3000:])
    printed = re.split(r"<<<\d+>>>\n", run.stdout.rsplit("<<<end>>>", 1)[0])[1:]
    errors = re.split(r"<<<\d+>>>\n", run.stderr)[1:]
    assert len(printed) == len(commands)
    wrong = []
    for command, chunk, err in zip(commands, printed, errors, strict=True):
        out, _, rc = chunk.rpartition("<<<rc ")
        expected = command.shown.replace(SHOWN_BASE, url)
        found = differences(expected, out)
        if rc.strip() != "0>>>":
            found.append(f"exit status {rc.strip().removesuffix('>>>')}")
        if not expected.strip() and PROBLEM in out:
            found.append(f"an error where the README shows none: {out[:1000]!r}")
        # No third-party warning on a normal run (the service's own log lines are JSON).
        if PY_WARNING.search(err):
            found.append(f"a warning on stderr: {err[-1500:]!r}")
        if found:
            wrong.append(
                f"$ {command.text}\n  " + "\n  ".join(found) + (f"\n  stderr: {err[-1500:]}" if err else "")
            )
    assert not wrong, "\n\n".join(wrong)
