"""The grader's progress on stderr: a live bar on a terminal, a few plain lines anywhere else."""
from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from graders.progress import Progress

KIT = Path(__file__).resolve().parents[1]
LINE = re.compile(r"^graded (\d+)/(\d+) \((\d+)%\), not ok (\d+), (about .* left|finished in .*|starting)$")


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _feed(progress: Progress, clock: list[float], total: int, seconds_each: float, skipped: int = 0) -> None:
    for done in range(skipped + 1, total + 1):
        clock[0] += seconds_each
        progress({"done": done, "total": total, "errors": done // 3, "skipped": skipped, "started": 0.0,
                  "last": f"s{done}", "status": "ok"})


def test_a_terminal_gets_one_line_redrawn_in_place():
    clock = [0.0]
    stream = FakeTty()
    _feed(Progress(stream, clock=lambda: clock[0]), clock, total=5, seconds_each=10.0)
    frames = stream.getvalue().split("\r")[1:]
    assert len(frames) == 5 and all(f.count("\033[K") == 1 for f in frames)
    assert frames[0].startswith("[" + "#" * 4 + "." * 20 + "] 1/5  not ok: 0  about 40 s left  (last: s1 ok)")
    assert frames[-1] == "[" + "#" * 24 + "] 5/5  not ok: 1  finished in 50 s  (last: s5 ok)\033[K\n"
    assert stream.getvalue().count("\n") == 1  # only the last frame ends the line


@pytest.mark.parametrize("total, seconds_each, every", [
    (1000, 0.1, 30.0),  # a big class graded fast: about one line per tenth
    (1000, 1.0, 30.0),  # slower: a line every 30 s between the tenths
    (10, 100.0, 30.0),  # each submission is a tenth
    (7, 1.0, 30.0),
])
def test_a_log_gets_a_few_plain_lines_and_always_the_last(total, seconds_each, every):
    clock = [0.0]
    stream = io.StringIO()
    _feed(Progress(stream, every=every, clock=lambda: clock[0]), clock, total, seconds_each)
    text = stream.getvalue()
    assert "\r" not in text and "\033" not in text
    lines = [LINE.match(line) for line in text.splitlines()]
    assert all(lines), text
    done = [int(m[1]) for m in lines]
    assert done == sorted(set(done)) and done[0] == 1 and done[-1] == total
    assert lines[-1][5].startswith("finished in") and lines[-1][3] == "100"
    for before, after in zip(done, done[1:-1]):  # each line but the last: a new tenth, or `every` seconds on
        assert 10 * after // total > 10 * before // total or (after - before) * seconds_each >= every
    assert len(done) <= 11 + total * seconds_each / every


def test_the_command_line_writes_plain_lines_when_stderr_is_not_a_terminal(tmp_path):
    subs = tmp_path / "subs"
    for i in range(25):  # folders without a notebook: rows without a worker, graded at once
        (subs / f"s{i:02d}").mkdir(parents=True)
        (subs / f"s{i:02d}" / "notes.txt").write_text("forgot it")
    proc = subprocess.run([sys.executable, "-m", "graders", "grade", str(subs), "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(KIT)})
    assert proc.returncode == 0, proc.stderr
    assert "\r" not in proc.stderr and "\033" not in proc.stderr
    lines = [LINE.match(line) for line in proc.stderr.splitlines() if line.startswith("graded ")]
    assert all(lines) and 2 <= len(lines) <= 11, proc.stderr
    assert lines[-1][0].startswith("graded 25/25 (100%), not ok 25, finished in")
