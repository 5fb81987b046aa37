"""All-or-nothing writes: a temporary file or folder beside the target, renamed into place.

Temporary names are findable: ``.<name>.s2am3d-tmp-<pid>-<random>`` next to the target
``<name>``. A write that is killed (kill -9, power loss) leaves at most such a hidden entry;
the next write of the same target removes leftovers whose process is gone, so nothing
accumulates. Errors while writing name the user's path (never the hidden temporary one) and
are raised as :class:`~s2am3d_core.errors.OutputError`.
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

from ..errors import OutputError

TMP_TAG = ".s2am3d-tmp-"
# leftovers of the pre-1.0 writer: ".<name>.<8 random chars>.tmp<suffix>"
_LEGACY_AGE_S = 600.0
_WINDOWS_STALE_AGE_S = 24 * 3600.0


def temp_prefix(name: str) -> str:
    """Prefix of this process's temporary entries for a target called ``name``."""
    return f".{name}{TMP_TAG}{os.getpid()}-"


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if sys.platform.startswith("win"):  # os.kill(pid, 0) would send CTRL_C_EVENT there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    try:  # Linux: a killed process not yet reaped by its parent (a zombie) is gone too
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            path.unlink()


def stale_temps(folder: str | os.PathLike, name: str | None = None) -> list[Path]:
    """Leftover temporary entries of killed writes in ``folder`` (of target ``name``, or of any target).

    An entry is stale when the process that created it no longer runs (on Windows: when it is
    older than a day), or, for the old ``.<name>.XXXXXXXX.tmp<suffix>`` names, older than ten minutes.
    """
    folder = Path(folder)
    out: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return out
    now = time.time()
    legacy = None
    if name is not None:
        stem_suffix = Path(name).suffix
        legacy = re.compile(r"^\." + re.escape(name) + r"\.[A-Za-z0-9_]{8}\.tmp" + re.escape(stem_suffix) + "$")
    for e in entries:
        n = e.name
        if not n.startswith("."):
            continue
        i = n.find(TMP_TAG)
        if i > 0 and (name is None or n[1:i] == name):
            pid_txt = n[i + len(TMP_TAG):].split("-", 1)[0]
            try:
                pid = int(pid_txt)
            except ValueError:
                continue
            if sys.platform.startswith("win"):
                with contextlib.suppress(OSError):
                    if now - e.stat(follow_symlinks=False).st_mtime > _WINDOWS_STALE_AGE_S:
                        out.append(Path(e.path))
                continue
            if not _pid_alive(pid):
                out.append(Path(e.path))
        elif legacy is not None and legacy.match(n):
            with contextlib.suppress(OSError):
                if now - e.stat(follow_symlinks=False).st_mtime > _LEGACY_AGE_S:
                    out.append(Path(e.path))
    return out


def clean_stale_temps(folder: str | os.PathLike, name: str | None = None) -> list[Path]:
    """Remove :func:`stale_temps` entries; returns what was removed (best effort, never raises)."""
    removed = stale_temps(folder, name)
    for p in removed:
        _remove(p)
    return removed


def _output_error(target: Path, exc: BaseException) -> OutputError:
    reason = getattr(exc, "strerror", None) or str(exc)
    for tmp_like in (getattr(exc, "filename", None), getattr(exc, "filename2", None)):
        if tmp_like:
            reason = reason.replace(str(tmp_like), str(target))
    return OutputError(f"{target}: could not write ({reason})")


def _is_write_error(exc: BaseException, tmp: Path) -> bool:
    """True for an error of writing ``tmp`` (disk full, read-only, I/O): OSError about tmp or about
    no file at all, or a safetensors serialisation error."""
    if isinstance(exc, OSError):
        return exc.filename is None or str(tmp) in (str(exc.filename), str(exc.filename2 or ""))
    return type(exc).__name__ == "SafetensorError"


def _mkdir_parent(target: Path) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{target}: cannot create its folder {target.parent} ({exc.strerror or exc})") from None


def _default_mode(directory: bool) -> int:
    umask = os.umask(0)
    os.umask(umask)
    return (0o777 if directory else 0o666) & ~umask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, fsync: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` when the body succeeds.

    If the body raises (or the process is killed), ``path`` is left as it was: a failed write
    never leaves a half-written file. Write errors (disk full, read-only folder) are raised as
    :class:`OutputError` naming ``path``.

    Args:
        path: the file to (re)place.
        fsync: flush the data to disk before the rename (so a power loss cannot leave an empty file).
    """
    target = Path(path)
    _mkdir_parent(target)
    clean_stale_temps(target.parent, target.name)
    try:
        fd, tmp = tempfile.mkstemp(prefix=temp_prefix(target.name), suffix=target.suffix, dir=target.parent)
    except OSError as exc:
        raise _output_error(target, exc) from None
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        try:
            yield tmp_path
        except OutputError as exc:  # from a nested atomic write onto tmp_path: name the user's path
            if str(tmp_path) in str(exc):
                raise OutputError(str(exc).replace(str(tmp_path), str(target))) from None
            raise
        except BaseException as exc:
            if _is_write_error(exc, tmp_path):
                raise _output_error(target, exc) from None
            raise
        try:
            os.chmod(tmp_path, _default_mode(False))  # mkstemp creates 0600; give the usual permissions
            if fsync:
                with open(tmp_path, "rb+") as fh:
                    os.fsync(fh.fileno())
            os.replace(tmp_path, target)
        except OSError as exc:
            raise _output_error(target, exc) from None
    finally:
        with contextlib.suppress(OSError):
            if tmp_path.exists():
                tmp_path.unlink()


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike, replace: bool = False) -> Iterator[Path]:
    """Yield an empty temporary folder beside ``path``; it becomes ``path`` when the body succeeds.

    The folder appears complete or not at all: a failure (or kill) leaves an existing ``path``
    untouched and no half-filled folder. Files of an earlier run are never mixed with new ones:
    an existing non-empty ``path`` is replaced as a whole when ``replace`` is True, else refused.

    Raises:
        OutputError: ``path`` is a file, or a non-empty folder and ``replace`` is False, or a
            write error (naming ``path``).
    """
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise OutputError(f"{target}: exists and is not a folder")
    if target.is_dir() and not replace and any(target.iterdir()):
        raise OutputError(f"{target}: folder exists and is not empty (pass --overwrite to replace it)")
    _mkdir_parent(target)
    clean_stale_temps(target.parent, target.name)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=temp_prefix(target.name), dir=target.parent))
    except OSError as exc:
        raise _output_error(target, exc) from None
    try:
        try:
            yield tmp
        except OutputError as exc:  # from an atomic_path inside: name the final folder, not the hidden one
            raise OutputError(str(exc).replace(str(tmp), str(target))) from None
        except BaseException as exc:
            if isinstance(exc, OSError) and exc.filename and str(exc.filename).startswith(str(tmp)):
                raise OutputError(f"{target}: could not write "
                                  f"({exc.strerror or exc}; file {str(exc.filename)[len(str(tmp)) + 1:]})") from None
            if _is_write_error(exc, tmp):
                raise _output_error(target, exc) from None
            raise
        try:
            os.chmod(tmp, _default_mode(True))
            if target.is_dir() or target.is_symlink():
                old = Path(tempfile.mkdtemp(prefix=temp_prefix(target.name) + "old-", dir=target.parent))
                os.rmdir(old)
                os.rename(target, old)
                try:
                    os.rename(tmp, target)
                except OSError:
                    os.rename(old, target)
                    raise
                _remove(old)
            else:
                os.rename(tmp, target)
        except OSError as exc:
            raise _output_error(target, exc) from None
    finally:
        if tmp.exists():
            _remove(tmp)
