"""Read a URDF robot as one triangle mesh: links placed by their joint origins (zero configuration).

The links form a tree through the joints. A child link's frame is its parent's frame times the
joint ``<origin xyz rpy>`` (joint axis and type are ignored). Each link's ``<visual>`` geometries
(``<mesh filename scale>``, ``<box size>``, ``<cylinder radius length>``, ``<sphere radius>``,
each with its own ``<origin>``) are placed in world coordinates and concatenated.

Mesh file names are resolved relative to the URDF file. ``package://pkg/path/to/m.stl`` is
stripped of its scheme and looked up beside the URDF (as ``pkg/path/to/m.stl``, then
``path/to/m.stl``, in the URDF's folder and up to three parent folders), finally by file name
anywhere below the URDF's folder. ``file://`` URIs are used as plain paths. Referenced meshes are
read in their own coordinates (no up-axis conversion: URDF is Z-up).

Files in the wild have quirks. Unambiguous ones are accepted with a warning that names the file,
the element and what was assumed: whitespace before the XML declaration, NUL bytes or junk
whitespace after ``</robot>``, comma-separated numbers (``xyz="0.07, 0, -0.69"``), unexpanded xacro
``$(optenv NAME default)`` (the default, or $NAME when set) and ``$(find pkg)`` (``package://pkg``).
A broken element is skipped, not the robot: a ``<visual>`` with a zero radius, a missing mesh,
an unsupported geometry or unreadable numbers (e.g. four numbers in ``rpy`` or ``scale``) is left
out, and a joint ``<origin>`` that cannot be read is taken as the identity. Only what cannot be
read at all (not XML, no links, a joint naming an unknown link, cycles) is an error.

:func:`load_urdf_geometry` also says which link owns each face. ``load_shape`` keeps only the
geometry (prediction never sees link ids); the link structure is for ground truth
(:mod:`s2am3d_core.data.urdf`) and hints.
"""
from __future__ import annotations

import os
import re
import warnings
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import trimesh

from ..errors import InputError
from ..geometry import check_points
from .mesh_file import check_faces, read_mesh_file

URDF_EXTENSIONS: tuple[str, ...] = (".urdf",)


@dataclass
class UrdfGeometry:
    """A URDF robot in its zero joint configuration.

    Attributes:
        vertices: (V, 3) float32 world coordinates.
        faces: (F, 3) int64 triangles.
        face_link: (F,) int64 index into ``link_paths`` of the link owning each face.
        link_paths: per link with visual geometry, its chain of link names from the root.
    """

    vertices: np.ndarray
    faces: np.ndarray
    face_link: np.ndarray
    link_paths: list[tuple[str, ...]]


XACRO_HINT = "expand it to a URDF first (ROS: `xacro robot.urdf.xacro > robot.urdf`) and open that"


def reject_xacro(path: Path) -> None:
    """InputError with :data:`XACRO_HINT` for a ``.xacro`` file (robot description macros, not a URDF)."""
    if path.suffix.lower() == ".xacro":
        raise InputError(f"{path}: a xacro file (robot description macros): {XACRO_HINT}")


def load_urdf_geometry(path: str | os.PathLike) -> UrdfGeometry:
    """Place every link's visual geometry by the joint origins and concatenate it.

    Broken elements are skipped and quirks accepted with a warning (see the module docstring).

    Raises:
        InputError: missing/unparsable file, a joint naming an unknown link, a link with two
            parents or a cycle, or no (readable) visual geometry at all.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: file not found")
    root = _parse_xml(p)
    if root.tag != "robot":
        raise InputError(f"{p}: not a URDF file (root element is <{root.tag}>, expected <robot>)")

    links: dict[str, ET.Element] = {}
    for link in root.findall("link"):
        name = link.get("name")
        if not name:
            raise InputError(f"{p}: a <link> has no name")
        if name in links:
            raise InputError(f"{p}: link {name!r} is defined twice")
        links[name] = link
    if not links:
        macros = any(el.tag.startswith("{") and "xacro" in el.tag.split("}")[0] for el in root.iter())
        hint = f"; it holds xacro macros: {XACRO_HINT}" if macros else ""
        raise InputError(f"{p}: the URDF has no <link> elements{hint}")

    parent_of: dict[str, tuple[str, np.ndarray]] = {}
    for joint in root.findall("joint"):
        jname = joint.get("name", "?")
        par, chi = joint.find("parent"), joint.find("child")
        if par is None or chi is None:
            raise InputError(f"{p}: joint {jname!r} needs a <parent link=...> and a <child link=...>")
        a, b = par.get("link"), chi.get("link")
        for ln in (a, b):
            if ln not in links:
                raise InputError(f"{p}: joint {jname!r} refers to unknown link {ln!r}")
        if b in parent_of:
            raise InputError(f"{p}: link {b!r} is the child of more than one joint")
        try:
            origin = _origin(joint.find("origin"), p, f"joint {jname!r}")
        except _Broken as e:
            _warn(f"{e}; assumed the identity origin for this joint")
            origin = np.eye(4)
        parent_of[b] = (a, origin)

    world: dict[str, np.ndarray] = {}
    chains: dict[str, tuple[str, ...]] = {}

    def resolve(name: str) -> None:
        stack = []
        cur = name
        while cur not in world:
            if cur in stack:
                raise InputError(f"{p}: the joints form a cycle through link {cur!r}")
            stack.append(cur)
            if cur not in parent_of:
                world[cur] = np.eye(4)
                chains[cur] = (cur,)
                stack.pop()
                break
            cur = parent_of[cur][0]
        for ln in reversed(stack):
            par, t = parent_of[ln]
            world[ln] = world[par] @ t
            chains[ln] = chains[par] + (ln,)

    verts, faces, paths = [], [], []
    offset = 0
    mesh_cache: dict[Path, tuple[np.ndarray, np.ndarray]] = {}
    skipped: list[str] = []
    for name, link in links.items():
        resolve(name)
        link_v, link_f, n = [], [], 0
        for vis in link.findall("visual"):
            geo = vis.find("geometry")
            if geo is None or len(geo) == 0:
                continue
            try:
                v, f = _geometry(geo[0], p, name, mesh_cache)
                t = world[name] @ _origin(vis.find("origin"), p, f"a visual of link {name!r}")
            except _Broken as e:
                skipped.append(str(e))
                _warn(f"{e}; skipped this <visual>")
                continue
            link_v.append(v @ t[:3, :3].T + t[:3, 3])
            link_f.append(f + n)
            n += len(v)
        if not link_f:
            continue
        verts.append(np.concatenate(link_v))
        faces.append(np.concatenate(link_f) + offset)
        offset += n
        paths.append(chains[name])
    if not faces:
        why = f" (skipped {len(skipped)} broken <visual>(s), e.g. {skipped[0]})" if skipped else ""
        raise InputError(f"{p}: no link has visual geometry{why}")

    all_faces = np.concatenate(faces).astype(np.int64)
    owner = np.repeat(np.arange(len(faces)), [len(f) for f in faces]).astype(np.int64)
    vertices = np.concatenate(verts).astype(np.float32)
    if not np.isfinite(vertices).all():
        raise InputError(f"{p}: NaN or infinite coordinates after applying the joint origins")
    return UrdfGeometry(vertices=vertices, faces=all_faces, face_link=owner, link_paths=paths)


# ----------------------------------------------------------------------------- helpers


class _Broken(InputError):
    """An element that cannot be read: it is skipped (with a warning), not the whole robot."""


def _warn(message: str) -> None:
    warnings.warn(message, stacklevel=3)


_XML_DECL = re.compile(rb"^\s+(?=<\?xml)")


def _parse_xml(p: Path) -> ET.Element:
    """Parse the URDF, accepting whitespace before the XML declaration and NUL/whitespace junk
    after the last element (with a warning)."""
    try:
        data = p.read_bytes()
    except OSError as e:
        raise InputError(f"{p}: could not read the URDF ({e.strerror or e})") from None
    if _XML_DECL.match(data):
        data = _XML_DECL.sub(b"", data, count=1)
        _warn(f"{p}: whitespace before the XML declaration; ignored it")
    end = data.rfind(b">")
    tail = data[end + 1:] if end >= 0 else b""
    if tail and not tail.strip(b" \t\r\n"):
        tail = b""
    if tail and not tail.strip(b"\x00 \t\r\n"):
        data = data[:end + 1]
        _warn(f"{p}: {len(tail)} NUL/blank byte(s) after the last element; ignored them")
    try:
        return ET.fromstring(data)
    except ET.ParseError as e:
        raise InputError(f"{p}: could not parse URDF XML ({e})") from None


_OPTENV = re.compile(r"\$\(optenv\s+([^\s)]+)(?:\s+([^)]*))?\)")
_ENV = re.compile(r"\$\(env\s+([^\s)]+)\)")
_FIND = re.compile(r"\$\(find\s+([^\s)]+)\)")


def _attr(el: ET.Element, attr: str, path: Path, what: str) -> str | None:
    """An attribute's text with unexpanded xacro substitutions resolved where unambiguous:
    ``$(optenv NAME default)`` -> $NAME if set, else default; ``$(env NAME)`` -> $NAME (set);
    ``$(find pkg)`` -> ``package://pkg``. Anything else left unexpanded is a broken element."""
    text = el.get(attr)
    if text is None or "$" not in text:
        return text
    raw = text

    def optenv(m: re.Match) -> str:
        value = os.environ.get(m.group(1))
        return value if value is not None else (m.group(2) or "").strip()

    def env(m: re.Match) -> str:
        value = os.environ.get(m.group(1))
        if value is None:
            raise _Broken(f"{path}: {what} {attr}: unexpanded xacro {m.group(0)!r} and ${m.group(1)} is not set")
        return value

    text = _OPTENV.sub(optenv, text)
    text = _ENV.sub(env, text)
    text = _FIND.sub(lambda m: f"package://{m.group(1)}", text)
    if "$(" in text or "${" in text:
        raise _Broken(f"{path}: {what} {attr}: unexpanded xacro expression in {raw!r}")
    _warn(f"{path}: {what} {attr}: unexpanded xacro {raw!r}; assumed {text!r}")
    return text


def _floats(text: str | None, n: int, default: tuple[float, ...], path: Path, what: str) -> np.ndarray:
    if text is None:
        return np.asarray(default, dtype=np.float64)
    fields = text.replace(",", " ").split()
    try:
        vals = [float(x) for x in fields]
    except ValueError:
        raise _Broken(f"{path}: {what}: expected {n} numbers, got {text!r}") from None
    if len(vals) == 1 and n == 3 and what.endswith("scale"):
        vals = vals * 3
    if len(vals) != n or not np.all(np.isfinite(vals)):
        raise _Broken(f"{path}: {what}: expected {n} finite numbers, got {text!r}")
    if "," in text:
        _warn(f"{path}: {what}: comma-separated numbers {text!r}; read as {' '.join(f'{v:g}' for v in vals)}")
    return np.asarray(vals, dtype=np.float64)


def _origin(el: ET.Element | None, path: Path, what: str) -> np.ndarray:
    """4x4 transform of an ``<origin xyz rpy>`` element (fixed-axis roll, pitch, yaw: R = Rz Ry Rx)."""
    if el is None:
        return np.eye(4)
    xyz = _floats(_attr(el, "xyz", path, f"{what} origin"), 3, (0, 0, 0), path, f"{what} origin xyz")
    rpy = _floats(_attr(el, "rpy", path, f"{what} origin"), 3, (0, 0, 0), path, f"{what} origin rpy")
    t = trimesh.transformations.euler_matrix(rpy[0], rpy[1], rpy[2], "sxyz")
    t[:3, 3] = xyz
    return t


def _positive(el: ET.Element, attr: str, path: Path, what: str) -> float:
    text = _attr(el, attr, path, what)
    val = _floats(text, 1, (), path, f"{what} {attr}") if text is not None else None
    if val is None or val[0] <= 0:
        raise _Broken(f"{path}: {what}: needs a positive {attr}= (got {text!r})")
    return float(val[0])


def _geometry(el: ET.Element, path: Path, link: str, cache: dict) -> tuple[np.ndarray, np.ndarray]:
    what = f"link {link!r} <{el.tag}>"
    if el.tag == "box":
        text = _attr(el, "size", path, what)
        size = _floats(text, 3, (), path, f"{what} size") if text else None
        if size is None or (size <= 0).any():
            raise _Broken(f"{path}: {what}: needs size=\"x y z\" with positive values (got {text!r})")
        m = trimesh.creation.box(extents=size)
    elif el.tag == "cylinder":
        m = trimesh.creation.cylinder(radius=_positive(el, "radius", path, what),
                                      height=_positive(el, "length", path, what), sections=24)
    elif el.tag == "sphere":
        m = trimesh.creation.icosphere(subdivisions=2, radius=_positive(el, "radius", path, what))
    elif el.tag == "mesh":
        filename = _attr(el, "filename", path, what)
        if not filename:
            raise _Broken(f"{path}: {what}: needs a filename=")
        scale = _floats(_attr(el, "scale", path, what), 3, (1, 1, 1), path, f"{what} scale")
        mesh_path = _resolve_mesh(filename, path)
        if mesh_path is None:
            raise _Broken(f"{path}: {what}: mesh file {filename!r} not found beside the URDF")
        if mesh_path not in cache:
            try:
                verts, faces, _ = read_mesh_file(mesh_path)  # InputError names the mesh file
                verts = check_points(verts, name=str(mesh_path))
                if faces is not None:
                    faces = check_faces(faces, len(verts), mesh_path)
            except InputError as e:
                raise _Broken(f"{path}: {what}: {e}") from None
            if faces is None:
                raise _Broken(f"{mesh_path}: a URDF mesh must have triangles (link {link!r})")
            cache[mesh_path] = (verts.astype(np.float64), faces)
        v, f = cache[mesh_path]
        return v * scale, f
    else:
        raise _Broken(f"{path}: {what}: unsupported geometry (expected box, cylinder, sphere or mesh)")
    return np.asarray(m.vertices, dtype=np.float64), np.asarray(m.faces, dtype=np.int64)


def _resolve_mesh(filename: str, urdf: Path) -> Path | None:
    """Find a URDF mesh reference on disk (see the module docstring for the search order)."""
    base = urdf.resolve().parent
    if filename.startswith("file://"):
        cand = Path(filename[len("file://"):])
        if not cand.is_absolute():
            cand = base / cand
        return cand if cand.is_file() else None
    rel = filename
    if filename.startswith("package://"):
        rel = filename[len("package://"):]
    rel_path = Path(rel)
    if rel_path.is_absolute():
        return rel_path if rel_path.is_file() else None
    parts = rel_path.parts
    variants = [rel_path] + ([Path(*parts[1:])] if len(parts) > 1 else [])
    folder = base
    for _ in range(4):
        for v in variants:
            cand = folder / v
            if cand.is_file():
                return cand
        if folder.parent == folder:
            break
        folder = folder.parent
    matches = sorted(base.rglob(rel_path.name))
    return matches[0] if matches else None
