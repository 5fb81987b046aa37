"""One background thread for model work, so the window keeps drawing while the decoder runs.

"Latest wins" per tag: a job submitted while another job with the same tag is still waiting
replaces it (dragging the scale slider queues at most one decode, always with the newest value);
jobs with other tags wait their turn in submission order. The running job is never interrupted. Results are collected on the UI thread with :meth:`Worker.poll`. No polyscope.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable


@dataclass
class Done:
    """A finished job: its tag, and its return value or the exception it raised."""

    tag: str
    value: Any = None
    error: BaseException | None = None


class Worker:
    """Runs submitted callables on one daemon thread; a pending job is replaced by a newer one of its tag.

    Attributes:
        progress: (fraction, message) reported by the running job through :meth:`report`.
    """

    def __init__(self, name: str = "s2am3d-worker"):
        self._cv = threading.Condition()
        self._pending: dict[str, Callable[[], Any]] = {}  # tag -> newest job, in submission order
        self._running: str | None = None
        self._done: list[Done] = []
        self._closed = False
        self.progress: tuple[float, str] = (0.0, "")
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ UI thread
    def submit(self, tag: str, fn: Callable[[], Any]) -> None:
        """Queue ``fn``; a job with the same tag still waiting (not yet running) is dropped for it."""
        with self._cv:
            if self._closed:
                raise RuntimeError("worker is closed")
            self._pending.pop(tag, None)
            self._pending[tag] = fn
            self._cv.notify_all()

    def poll(self) -> list[Done]:
        """Finished jobs since the last poll, oldest first (never blocks)."""
        with self._cv:
            done, self._done = self._done, []
        return done

    @property
    def busy(self) -> bool:
        """True while a job runs or waits."""
        with self._cv:
            return self._running is not None or bool(self._pending)

    def has(self, tag: str) -> bool:
        """True while a job with this tag runs or waits."""
        with self._cv:
            return self._running == tag or tag in self._pending

    @property
    def running(self) -> str | None:
        """Tag of the running job, if any."""
        with self._cv:
            return self._running

    def wait(self, timeout: float | None = None) -> bool:
        """Block until no job runs or waits. False on timeout."""
        with self._cv:
            return self._cv.wait_for(lambda: self._running is None and not self._pending, timeout)

    def wait_done(self, timeout: float) -> bool:
        """Block until a finished job waits to be polled, at most ``timeout`` seconds (the frame loop
        sleeps here, so a result is drawn at once instead of at the next frame period)."""
        with self._cv:
            return self._cv.wait_for(lambda: bool(self._done) or self._closed, max(0.0, timeout))

    def report(self, fraction: float, message: str) -> None:
        """Progress callback for the running job (thread-safe to read from the UI)."""
        self.progress = (float(fraction), str(message))

    def close(self) -> None:
        with self._cv:
            self._closed = True
            self._pending.clear()
            self._cv.notify_all()
        self._thread.join(timeout=5)

    # ------------------------------------------------------------------ worker thread
    def _loop(self) -> None:
        while True:
            with self._cv:
                self._cv.wait_for(lambda: bool(self._pending) or self._closed)
                if self._closed:
                    return
                tag = next(iter(self._pending))
                fn = self._pending.pop(tag)
                self._running = tag
                self.progress = (0.0, "")
            try:
                result = Done(tag, value=fn())
            except BaseException as exc:  # handed to the UI thread, which reports it
                result = Done(tag, error=exc)
            with self._cv:
                self._done.append(result)
                self._running = None
                self._cv.notify_all()
