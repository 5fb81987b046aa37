"""Output-path safety: check every output against every input before any work starts.

The command-line tools and the viewer call :func:`check_outputs` with their input paths and
output paths as soon as the arguments are known. It refuses, with an error naming the flag
and the path:

* an output file that is an input (same path after resolving ``..`` and symbolic links, or the
  same file through a hard link);
* an output folder that is or contains an input;
* two outputs that name the same file, or an output file inside an output folder;
* an output whose extension is wrong, that is a folder where a file is wanted (or the
  reverse), that exists but is not a regular file (a device, a pipe), or whose folder cannot
  be created or written;
* an existing non-empty output folder unless ``overwrite`` is given, and even then a folder
  holding files that s2am3d did not write there (it is replaced as a whole, see
  :func:`~s2am3d_core.io.atomic.atomic_dir`).
"""
from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from ..errors import OutputError

PathLike = str | os.PathLike

# files a parts folder holds (write_part_meshes / s2am3d-segment / the viewer's export)
PARTS_DIR_FILES = re.compile(r"^(part_\d+|unlabelled)\.(ply|obj|glb|stl|mtl)$|^parts\.json$|^material\w*\.(mtl|png|jpg)$")


@dataclass(frozen=True)
class OutFile:
    """An output file: the flag that names it (e.g. ``-o``), its path and allowed extensions
    (lower case with the dot; empty = any)."""

    flag: str
    path: PathLike
    extensions: tuple[str, ...] = ()


@dataclass(frozen=True)
class OutDir:
    """An output folder. ``replaced`` (default): written with ``atomic_dir`` as a whole, and
    ``owned`` matches the file names s2am3d writes there (an existing folder holding anything else
    is never replaced). ``replaced=False``: a folder the tool updates file by file (a dataset or
    run folder); only its overlap with inputs and other outputs is checked."""

    flag: str
    path: PathLike
    owned: re.Pattern | None = PARTS_DIR_FILES
    replaced: bool = True


def resolved(path: PathLike) -> Path:
    """Absolute path with ``~``, ``..`` and symbolic links resolved (the file need not exist)."""
    try:
        return Path(path).expanduser().resolve(strict=False)
    except (OSError, RuntimeError) as exc:  # a symlink loop
        raise OutputError(f"{path}: cannot resolve the path ({exc})") from None


def same_file(a: PathLike, b: PathLike) -> bool:
    """True when ``a`` and ``b`` are the same file: equal resolved paths, or (both existing) the
    same device and inode, which also catches hard links."""
    ra, rb = resolved(a), resolved(b)
    if ra == rb:
        return True
    try:
        return os.path.samefile(ra, rb)
    except OSError:
        return False


def _inside(child: Path, folder: Path) -> bool:
    return child == folder or folder in child.parents


def _nearest_existing(path: Path) -> Path:
    p = path
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def _check_parent_writable(flag: str, path: Path) -> None:
    anc = _nearest_existing(path.parent)
    if not anc.is_dir():
        raise OutputError(f"{flag} {path}: {anc} is a file, not a folder")
    if not os.access(anc, os.W_OK | os.X_OK):
        raise OutputError(f"{flag} {path}: the folder {anc} is not writable")


def check_output_file(out: OutFile) -> Path:
    """Validate one output file path (see the module docstring). Returns it as a Path."""
    flag, raw = out.flag, str(out.path)
    if not raw.strip():
        raise OutputError(f"{flag}: the output path is empty")
    p = Path(raw).expanduser()
    if raw.endswith(("/", os.sep)) or p.is_dir():
        raise OutputError(f"{flag} {raw}: is a folder; give a file name"
                          + (f" ending in {' or '.join(out.extensions)}" if out.extensions else ""))
    if out.extensions and p.suffix.lower() not in out.extensions:
        raise OutputError(f"{flag} {raw}: the output must be a {' or '.join(out.extensions)} file "
                          f"(got {p.suffix or 'no extension'})")
    _check_parent_writable(flag, p)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise OutputError(f"{flag} {raw}: cannot inspect the path ({exc.strerror or exc})") from None
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise OutputError(f"{flag} {raw}: exists and is not a regular file")
    return p


def check_output_dir(out: OutDir, overwrite: bool = False) -> Path:
    """Validate one output folder (see the module docstring). Returns it as a Path."""
    flag, raw = out.flag, str(out.path)
    if not raw.strip():
        raise OutputError(f"{flag}: the folder name is empty")
    p = Path(raw).expanduser()
    if p.exists() and not p.is_dir():
        raise OutputError(f"{flag} {raw}: exists and is not a folder")
    if p.is_dir() and out.replaced:
        entries = sorted(os.listdir(p))
        if entries and not overwrite:
            raise OutputError(f"{flag} {raw}: folder exists and is not empty; pass --overwrite to replace it "
                              "as a whole, or choose a new folder")
        foreign = [e for e in entries if out.owned is None or not out.owned.match(e)]
        if foreign:
            raise OutputError(f"{flag} {raw}: the folder holds files s2am3d did not write there "
                              f"(e.g. {foreign[0]!r}); it would be replaced as a whole, so choose a new folder")
        if resolved(p) == resolved(Path.cwd()) or resolved(p) == Path(resolved(p).anchor):
            raise OutputError(f"{flag} {raw}: refusing to replace the current or root folder")
    _check_parent_writable(flag, p)
    return p


def _as_list(value) -> list[PathLike]:
    if value is None:
        return []
    if isinstance(value, (str, os.PathLike)):
        return [value]
    return [v for v in value if v is not None]


def check_outputs(
    inputs: Mapping[str, PathLike | Sequence[PathLike] | None],
    files: Iterable[OutFile] = (),
    dirs: Iterable[OutDir] = (),
    overwrite: bool = False,
) -> None:
    """Refuse outputs that are bad or would touch an input (before any expensive work).

    Args:
        inputs: {flag or name: input path(s)}; files or folders (a folder input protects
            everything inside it). Missing paths are fine (the loader reports them).
        files: the output files.
        dirs: the output folders (written with :func:`~s2am3d_core.io.atomic.atomic_dir`).
        overwrite: allow replacing an existing non-empty output folder of s2am3d's own files.

    Raises:
        OutputError: naming the flag and path, on the first problem found.
    """
    files, dirs = [f for f in files if f.path is not None], [d for d in dirs if d.path is not None]
    ins = [(flag, p) for flag, v in inputs.items() for p in _as_list(v)]
    out_files = [(f, check_output_file(f)) for f in files]
    out_dirs = [(d, check_output_dir(d, overwrite)) for d in dirs]
    for f, p in out_files:
        rp = resolved(p)
        for iflag, ip in ins:
            rip = resolved(ip)
            if same_file(rp, rip):
                raise OutputError(f"{f.flag} {f.path}: is the input file {ip} ({iflag}); s2am3d never "
                                  "overwrites its inputs, name a new file")
            if rip.is_dir() and _inside(rp, rip) and rp.exists():
                raise OutputError(f"{f.flag} {f.path}: would replace a file inside the input folder {ip} "
                                  f"({iflag}); name a new file")
    for d, p in out_dirs:
        rp = resolved(p)
        for iflag, ip in ins:
            rip = resolved(ip)
            if _inside(rip, rp):
                raise OutputError(f"{d.flag} {d.path}: overlaps the input {ip} ({iflag}); the folder is "
                                  "replaced as a whole, choose a folder apart from the inputs")
            if rp.is_dir() and rip.exists():
                for entry in rp.iterdir():
                    if same_file(entry, rip):
                        raise OutputError(f"{d.flag} {d.path}: holds the input {ip} ({iflag}) as {entry.name}; "
                                          "choose another folder")
    for i, (f, p) in enumerate(out_files):
        for g, q in out_files[i + 1:]:
            if same_file(p, q):
                raise OutputError(f"{g.flag} {g.path}: names the same file as {f.flag} {f.path}")
        for d, q in out_dirs:
            if d.replaced and _inside(resolved(p), resolved(q)):
                raise OutputError(f"{f.flag} {f.path}: lies inside the output folder {d.flag} {d.path}, "
                                  "which is replaced as a whole; put it elsewhere")
    for i, (d, p) in enumerate(out_dirs):
        for e, q in out_dirs[i + 1:]:
            if _inside(resolved(p), resolved(q)) or _inside(resolved(q), resolved(p)):
                raise OutputError(f"{e.flag} {e.path}: overlaps the output folder {d.flag} {d.path}")
