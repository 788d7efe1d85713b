"""The grader's progress report on stderr: a live bar on a terminal, plain lines in a log.

On a terminal one line is redrawn in place (a carriage return and "erase to the end of the line")
after every submission. Anywhere else (a CI log, ``nohup``, a file) escape codes are noise, so
``Progress`` prints whole lines, and only a few of them: when another tenth of the class is done,
when ``every`` seconds have passed since the last line, and always for the last submission::

    graded 30/120 (25%), not ok 2, about 4 min left
    graded 120/120 (100%), not ok 5, finished in 7 min 12 s

``state`` is what ``graders.grade.grade_all`` hands its callback: done, total, errors, skipped
(finished in an earlier run), started (``time.monotonic()``), last and status.
"""
from __future__ import annotations

import sys
import time
from typing import Callable, TextIO

BAR_WIDTH = 24


def duration(seconds: float) -> str:
    """``95`` -> ``1 min 35 s``; ``4000`` -> ``1 h 7 min``."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


class Progress:
    """A ``grade_all`` progress callback writing to ``stream`` (stderr by default)."""

    def __init__(self, stream: TextIO | None = None, *, every: float = 30.0,
                 clock: Callable[[], float] = time.monotonic):
        self.stream = stream or sys.stderr
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())
        self.every, self.clock = every, clock
        self.last_line_at: float | None = None
        self.last_tenth = -1

    def __call__(self, state: dict) -> None:
        now = self.clock()
        done, total = state["done"], state["total"]
        graded = done - state["skipped"]
        left = total - done
        elapsed = now - state["started"]
        if not left:
            eta = f"finished in {duration(elapsed)}"
        else:
            eta = f"about {duration(elapsed / graded * left)} left" if graded else "starting"
        if self.live:
            filled = BAR_WIDTH * done // total if total else BAR_WIDTH
            bar = "#" * filled + "." * (BAR_WIDTH - filled)
            self.stream.write(f"\r[{bar}] {done}/{total}  not ok: {state['errors']}  {eta}  "
                              f"(last: {state['last']} {state['status']})\033[K" + ("" if left else "\n"))
            self.stream.flush()
            return
        tenth = 10 * done // total if total else 10
        due = self.last_line_at is None or now - self.last_line_at >= self.every
        if left and tenth <= self.last_tenth and not due:
            return
        self.last_tenth, self.last_line_at = tenth, now
        percent = 100 * done // total if total else 100
        print(f"graded {done}/{total} ({percent}%), not ok {state['errors']}, {eta}", file=self.stream, flush=True)
