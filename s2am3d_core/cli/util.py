"""Helpers shared by every command-line tool (s2am3d-segment, -eval, -bench, -calibrate, -data,
-train, and the viewer): argparse that exits 2 with ``error: ...``, a stderr progress bar, and the
common error exit. Every CLI imports downward from here."""
from __future__ import annotations

import argparse
import contextlib
import sys
import time
import warnings
from typing import Callable, Iterator, NoReturn

EXIT_ERROR = 2


class UsageError(Exception):
    """A problem with the command line, reported as ``error: <arg>: <problem>``."""


MAX_POINTS = 2_000_000   # --points above this would sample/encode for hours or run out of memory
MAX_SEED = 2**32 - 1     # numpy seeds are non-negative 32-bit (and wider) integers


class ArgumentParser(argparse.ArgumentParser):
    """The argument parser of every command-line tool (and the viewer): reports problems as
    ``error: <message>`` on stderr and exits 2, and range-checks the flags the tools share
    (:func:`check_common`) right after parsing, unless ``check_shared=False`` (a tool that checks
    its own, e.g. s2am3d-train, where ``--threads 0`` means torch's default). Sub-commands
    (``add_subparsers``) get the same class."""

    def __init__(self, *args, check_shared: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.check_shared = check_shared

    def error(self, message: str) -> NoReturn:  # noqa: D401 (argparse API)
        self.print_usage(sys.stderr)
        sys.stderr.write(f"error: {message}\n(run '{self.prog} --help' for examples)\n")
        raise SystemExit(EXIT_ERROR)

    def parse_args(self, args=None, namespace=None):  # noqa: D102 (argparse API)
        ns = super().parse_args(args, namespace)
        if self.check_shared:
            try:
                check_common(ns)
            except UsageError as exc:
                self.error(str(exc))
        return ns


def check_seed(value: int | None, flag: str = "--seed") -> None:
    """UsageError unless the seed is None or in [0, 2**32 - 1]."""
    if value is not None and not 0 <= value <= MAX_SEED:
        raise UsageError(f"{flag}: {value} must be an integer in [0, {MAX_SEED}]")


def check_points(value: int | None, flag: str = "--points", minimum: int = 1) -> None:
    """UsageError unless a point count is None or in [minimum, MAX_POINTS]."""
    if value is not None and not minimum <= value <= MAX_POINTS:
        raise UsageError(f"{flag}: {value} must be in [{minimum}, {MAX_POINTS}] points")


def check_common(args: argparse.Namespace) -> None:
    """Range checks of shared flags when present: --seed, --points, --threads, --sizes (UsageError)."""
    check_seed(getattr(args, "seed", None))
    check_points(getattr(args, "points", None))
    check_min("--threads", getattr(args, "threads", None))
    for n in getattr(args, "sizes", None) or ():
        check_points(n, "--sizes")


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    sys.stderr.write(f"warning: {message}\n")


@contextlib.contextmanager
def one_line_warnings() -> Iterator[None]:
    """Within the block, each warning (shown once per place) is one ``warning: ...`` line on stderr;
    the project's warnings name the file and element themselves."""
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = _show_warning
        yield


def run_main(run: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Call ``run(args)``; report user errors as ``error: ...`` with exit status 2, ^C as 130, and
    warnings as ``warning: ...`` lines."""
    from ..errors import S2AM3DError

    try:
        with one_line_warnings():
            return run(args)
    except (UsageError, S2AM3DError) as exc:
        return fail(str(exc))
    except OSError as exc:
        return fail(f"{exc.filename}: {exc.strerror or exc}" if exc.filename else str(exc))
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130


def set_threads(threads: int | None) -> None:
    """Apply ``--threads`` (None = torch's default); UsageError when it is < 1."""
    if threads is None:
        return
    check_min("--threads", threads)
    import torch

    torch.set_num_threads(threads)


def check_min(flag: str, value: int | float | None, minimum: int = 1) -> None:
    """UsageError ``--flag: must be >= minimum, got value`` unless ``value`` is None or large enough."""
    if value is not None and value < minimum:
        raise UsageError(f"{flag}: must be >= {minimum}, got {value}")


def check_threshold(value: float, flag: str = "--threshold") -> None:
    """UsageError unless the mask probability threshold lies strictly between 0 and 1."""
    if not 0.0 < value < 1.0:
        raise UsageError(f"{flag}: {value} must be in (0, 1)")


def device_arg(device: str):
    """``--device`` as a torch.device; an unknown or absent device is a UsageError."""
    from ..device import pick_device
    from ..errors import S2AM3DError

    try:
        return pick_device(device)
    except S2AM3DError as exc:
        raise UsageError(f"--device: {exc}") from None


def fail(message: str) -> int:
    """Print ``error: message`` on stderr; return the error exit code."""
    sys.stderr.write(f"error: {message}\n")
    sys.stderr.flush()
    return EXIT_ERROR


class Progress:
    """A 0..100 % tqdm bar on stderr driven by ``(fraction, message)`` callbacks; silent if disabled."""

    def __init__(self, enabled: bool = True, desc: str = ""):
        self.bar = None
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=100, desc=desc, file=sys.stderr, leave=False, dynamic_ncols=True,
                            bar_format="{desc} {percentage:3.0f}%|{bar}| {elapsed}")
        self._lo, self._hi = 0.0, 1.0
        self._t0 = time.perf_counter()

    def stage(self, lo: float, hi: float, message: str = "") -> "Progress":
        """Map the following callbacks' 0..1 onto ``lo..hi`` of the bar."""
        self._lo, self._hi = lo, hi
        self(0.0, message)
        return self

    def __call__(self, fraction: float, message: str = "") -> None:
        if self.bar is None:
            return
        pos = 100.0 * (self._lo + (self._hi - self._lo) * min(max(float(fraction), 0.0), 1.0))
        if message:
            self.bar.set_description_str(message[:60], refresh=False)
        self.bar.update(max(0.0, pos - self.bar.n))

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def human_seconds(t: float) -> str:
    return f"{t * 1000:.0f} ms" if t < 1 else f"{t:.1f} s"
