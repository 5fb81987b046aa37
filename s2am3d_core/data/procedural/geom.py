"""Fast triangle primitives as plain ``(vertices (V,3) float64, faces (F,3) int64)`` pairs.

Built with numpy only (no ``trimesh.Trimesh`` objects on the hot path), so an object with a
hundred parts is generated in milliseconds. Every primitive is closed (watertight) with outward
normals; ``tests/test_procedural.py`` checks this with trimesh.

Conventions: z is up; round primitives are lathed around the z axis and re-oriented with
:func:`orient` / :func:`segment`; every function takes an optional ``at`` translation.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

Mesh = tuple[np.ndarray, np.ndarray]


# ----------------------------------------------------------------------------- transforms

def tf(at=(0.0, 0.0, 0.0), rx: float = 0.0, ry: float = 0.0, rz: float = 0.0) -> np.ndarray:
    """4x4 transform: rotate about x, then y, then z (radians), then translate by ``at``."""
    cx, sx, cy, sy, cz, sz = np.cos(rx), np.sin(rx), np.cos(ry), np.sin(ry), np.cos(rz), np.sin(rz)
    rxm = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    rym = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rzm = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    m = np.eye(4)
    m[:3, :3] = rzm @ rym @ rxm
    m[:3, 3] = at
    return m


def align_z(direction) -> np.ndarray:
    """3x3 rotation taking +z onto ``direction`` (normalised inside)."""
    d = np.asarray(direction, float)
    d = d / np.linalg.norm(d)
    c = d[2]
    if c > 1 - 1e-9:
        return np.eye(3)
    if c < -1 + 1e-9:
        return np.diag([1.0, -1.0, -1.0])
    v = np.array([-d[1], d[0], 0.0])  # z x d
    k = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    return np.eye(3) + k + k @ k / (1 + c)


def transform(mesh: Mesh, m: np.ndarray) -> Mesh:
    v, f = mesh
    return v @ m[:3, :3].T + m[:3, 3], f


def move(mesh: Mesh, at) -> Mesh:
    return mesh[0] + np.asarray(at, float), mesh[1]


_AXES = {"x": (1.0, 0.0, 0.0), "y": (0.0, 1.0, 0.0), "z": (0.0, 0.0, 1.0),
         "-x": (-1.0, 0.0, 0.0), "-y": (0.0, -1.0, 0.0), "-z": (0.0, 0.0, -1.0)}


def orient(mesh: Mesh, axis="z", at=(0.0, 0.0, 0.0)) -> Mesh:
    """Rotate a z-axis primitive so its axis is ``axis`` ('x', '-y', ... or a vector), then move to ``at``."""
    d = _AXES[axis] if isinstance(axis, str) else axis
    v, f = mesh
    return v @ align_z(d).T + np.asarray(at, float), f


def merge(*meshes: Mesh) -> Mesh:
    vs, fs, off = [], [], 0
    for v, f in meshes:
        vs.append(v)
        fs.append(f + off)
        off += len(v)
    return np.concatenate(vs), np.concatenate(fs)


# ----------------------------------------------------------------------------- primitives

_BOX_V = np.array([[x, y, z] for x in (-0.5, 0.5) for y in (-0.5, 0.5) for z in (-0.5, 0.5)])
_BOX_F = np.array([[0, 1, 3], [0, 3, 2], [4, 6, 7], [4, 7, 5], [0, 4, 5], [0, 5, 1],
                   [2, 3, 7], [2, 7, 6], [0, 2, 6], [0, 6, 4], [1, 5, 7], [1, 7, 3]], np.int64)


def box(extents, at=(0.0, 0.0, 0.0)) -> Mesh:
    """Axis-aligned box with the given full extents, centred at ``at``."""
    return _BOX_V * np.asarray(extents, float) + np.asarray(at, float), _BOX_F.copy()


@lru_cache(maxsize=64)
def _ring_faces(n_prof: int, poles: tuple[bool, ...], sections: int, closed: bool) -> tuple[np.ndarray, np.ndarray]:
    """Faces of a lathe with ``n_prof`` profile points; returns (faces, vertex-start index per point)."""
    starts, n = [], 0
    for p in poles:
        starts.append(n)
        n += 1 if p else sections
    j = np.arange(sections)
    jn = (j + 1) % sections
    faces = []
    pairs = [(i, i + 1) for i in range(n_prof - 1)] + ([(n_prof - 1, 0)] if closed else [])
    for a, b in pairs:
        aj = np.full(sections, starts[a]) if poles[a] else starts[a] + j
        ajn = np.full(sections, starts[a]) if poles[a] else starts[a] + jn
        bj = np.full(sections, starts[b]) if poles[b] else starts[b] + j
        bjn = np.full(sections, starts[b]) if poles[b] else starts[b] + jn
        if not poles[a]:
            faces.append(np.stack([aj, ajn, bj], 1))
        if not poles[b]:
            faces.append(np.stack([ajn, bjn, bj], 1))
    return np.concatenate(faces).astype(np.int64), np.array(starts)


def lathe(profile, sections: int = 16, closed: bool = False, at=(0.0, 0.0, 0.0)) -> Mesh:
    """Surface of revolution about z of a profile of (radius, z) points.

    The profile runs from the bottom of the axis, outwards, up and back to the axis (points with
    radius 0 become poles), so normals point outwards. ``closed=True`` joins the last point to the
    first (a ring profile without poles, e.g. a torus).
    """
    prof = np.asarray(profile, float)
    poles = tuple(bool(r <= 1e-12) for r in prof[:, 0])
    faces, _ = _ring_faces(len(prof), poles, sections, closed)
    ang = 2 * np.pi * np.arange(sections) / sections
    cs, sn = np.cos(ang), np.sin(ang)
    verts = []
    for (r, z), pole in zip(prof, poles):
        if pole:
            verts.append(np.array([[0.0, 0.0, z]]))
        else:
            verts.append(np.stack([r * cs, r * sn, np.full(sections, z)], 1))
    return np.concatenate(verts) + np.asarray(at, float), faces


def cylinder(radius: float, height: float, axis="z", at=(0.0, 0.0, 0.0), sections: int = 16) -> Mesh:
    """Cylinder centred at ``at`` with its axis along ``axis``."""
    h = height / 2
    return orient(lathe([(0, -h), (radius, -h), (radius, h), (0, h)], sections), axis, at)


def frustum(r0: float, r1: float, height: float, axis="z", at=(0.0, 0.0, 0.0), sections: int = 16) -> Mesh:
    """Truncated cone: radius r0 at ``at``, r1 at ``at + height * axis`` (r1 = 0 gives a cone)."""
    prof = [(0, 0), (r0, 0), (r1, height)] + ([(0, height)] if r1 > 0 else [])
    return orient(lathe(prof, sections), axis, at)


def sphere(radius: float, at=(0.0, 0.0, 0.0), sections: int = 12, scale=(1.0, 1.0, 1.0)) -> Mesh:
    """UV sphere (optionally an ellipsoid through ``scale``)."""
    rings = max(3, sections // 2)
    phi = np.linspace(-np.pi / 2, np.pi / 2, rings + 1)
    prof = np.stack([radius * np.cos(phi), radius * np.sin(phi)], 1)
    prof[0, 0] = prof[-1, 0] = 0.0
    v, f = lathe(prof, sections)
    return v * np.asarray(scale, float) + np.asarray(at, float), f


def capsule(radius: float, length: float, axis="z", at=(0.0, 0.0, 0.0), sections: int = 12) -> Mesh:
    """Cylinder of ``length`` (between cap centres) with hemispherical ends, centred at ``at``."""
    k = max(2, sections // 4)
    phi = np.linspace(-np.pi / 2, 0, k + 1)
    lower = np.stack([radius * np.cos(phi), radius * np.sin(phi) - length / 2], 1)
    upper = np.stack([radius * np.cos(phi[::-1]), -radius * np.sin(phi[::-1]) + length / 2], 1)
    prof = np.concatenate([lower, upper])
    prof[0, 0] = prof[-1, 0] = 0.0
    return orient(lathe(prof, sections), axis, at)


def torus(major: float, minor: float, axis="z", at=(0.0, 0.0, 0.0), sections: int = 20,
          minor_sections: int = 8, squash: float = 1.0) -> Mesh:
    """Torus around ``axis``; ``squash`` scales the tube along the axis (e.g. a flat tyre tread)."""
    phi = -np.pi / 2 + 2 * np.pi * np.arange(minor_sections) / minor_sections
    prof = np.stack([major + minor * np.cos(phi), squash * minor * np.sin(phi)], 1)
    return orient(lathe(prof, sections, closed=True), axis, at)


def tube(r_in: float, r_out: float, height: float, axis="z", at=(0.0, 0.0, 0.0), sections: int = 20) -> Mesh:
    """Hollow cylinder (annulus extruded), centred at ``at``."""
    h = height / 2
    prof = [(r_in, -h), (r_out, -h), (r_out, h), (r_in, h)]
    return orient(lathe(prof, sections, closed=True), axis, at)


def segment(a, b, radius: float, sections: int = 10, r_end: float | None = None) -> Mesh:
    """Cylinder (or frustum when ``r_end`` is given) from point ``a`` to point ``b``."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    length = float(np.linalg.norm(b - a))
    r1 = radius if r_end is None else r_end
    v, f = lathe([(0, 0), (radius, 0), (r1, length), (0, length)], sections)
    return v @ align_z(b - a).T + a, f


def beam(a, b, width: float, depth: float | None = None, up=(0.0, 0.0, 1.0)) -> Mesh:
    """Rectangular bar from ``a`` to ``b`` (cross-section width x depth; depth defaults to width)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    d = b - a
    length = float(np.linalg.norm(d))
    ex = d / length
    u = np.asarray(up, float)
    if abs(ex @ u) > 0.99:
        u = np.array([1.0, 0.0, 0.0]) if abs(ex[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    ey = np.cross(u, ex)
    ey /= np.linalg.norm(ey)
    ez = np.cross(ex, ey)
    v, f = box((length, width, width if depth is None else depth))
    return v @ np.stack([ex, ey, ez], 1).T + (a + b) / 2, f


def prism(polygon, height: float, at=(0.0, 0.0, 0.0)) -> Mesh:
    """Extrude a convex polygon (counter-clockwise (x, y) points) from z=0 to z=height, then move."""
    p = np.asarray(polygon, float)
    n = len(p)
    v = np.concatenate([np.c_[p, np.zeros(n)], np.c_[p, np.full(n, height)]])
    i = np.arange(1, n - 1)
    bottom = np.stack([np.zeros(n - 2, int), i + 1, i], 1)
    top = np.stack([np.full(n - 2, n), n + i, n + i + 1], 1)
    j, jn = np.arange(n), (np.arange(n) + 1) % n
    side = np.concatenate([np.stack([j, jn, n + jn], 1), np.stack([j, n + jn, n + j], 1)])
    return v + np.asarray(at, float), np.concatenate([bottom, top, side]).astype(np.int64)


def wing(root_chord: float, tip_chord: float, span: float, thickness: float, sweep: float = 0.0) -> Mesh:
    """Tapered flat wing panel: root along x at y=0, tip at y=span shifted back by ``sweep``."""
    poly = [(root_chord / 2, 0), (tip_chord / 2 - sweep, span), (-tip_chord / 2 - sweep, span), (-root_chord / 2, 0)]
    poly = poly[::-1] if _signed_area(poly) < 0 else poly
    return prism(poly, thickness, at=(0, 0, -thickness / 2))


def _signed_area(poly) -> float:
    p = np.asarray(poly, float)
    return 0.5 * float(np.sum(p[:, 0] * np.roll(p[:, 1], -1) - np.roll(p[:, 0], -1) * p[:, 1]))


def beveled_box(extents, bevel: float, at=(0.0, 0.0, 0.0)) -> Mesh:
    """Box with every edge chamfered by ``bevel`` (absolute, clipped to 45 % of the smallest side)."""
    h = np.asarray(extents, float) / 2
    b = min(float(bevel), 0.9 * float(h.min()))
    pts = []
    for axis in range(3):  # on each face: the face's corners pulled in by the bevel
        for sa in (-1, 1):
            for sb in (-1, 1):
                for sc in (-1, 1):
                    q = np.array([sa * (h[0] - b), sb * (h[1] - b), sc * (h[2] - b)])
                    q[axis] = (sa, sb, sc)[axis] * h[axis]
                    pts.append(q)
    return convex_hull(np.unique(np.round(np.array(pts), 12), axis=0), at)


def extrude_quads(verts2d, quads, depth: float) -> tuple[Mesh, np.ndarray]:
    """Extrude a 2D quad mesh (in the xz plane, quads counter-clockwise seen from -y) along +y by ``depth``.

    Quads that share vertices stay one continuous closed mesh (e.g. a comb: a base row of quads with
    fins standing on it). Returns (mesh, quad index of every face).
    """
    p = np.asarray(verts2d, float)
    q = np.asarray(quads, np.int64)
    n = len(p)
    v = np.concatenate([np.c_[p[:, 0], np.zeros(n), p[:, 1]], np.c_[p[:, 0], np.full(n, depth), p[:, 1]]])
    front = np.concatenate([q[:, [0, 2, 1]], q[:, [0, 3, 2]]])
    back = np.concatenate([q[:, [0, 1, 2]], q[:, [0, 2, 3]]]) + n
    owner = [np.tile(np.arange(len(q)), 2), np.tile(np.arange(len(q)), 2)]
    edges = np.stack([q, np.roll(q, -1, axis=1)], -1).reshape(-1, 2)  # directed edges of every quad
    eq = np.repeat(np.arange(len(q)), 4)
    key = np.sort(edges, 1)
    _, inv, cnt = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    border = cnt[inv.reshape(-1)] == 1
    a, b = edges[border, 0], edges[border, 1]
    side = np.concatenate([np.stack([a, b, b + n], 1), np.stack([a, b + n, a + n], 1)])
    owner.append(np.tile(eq[border], 2))
    faces = np.concatenate([front, back, side])[:, ::-1]  # outward normals
    return (v, np.ascontiguousarray(faces, dtype=np.int64)), np.concatenate(owner)


def comb(width: float, base: float, fins: int, fin_height: float, fin_width: float, depth: float) -> tuple[Mesh, np.ndarray]:
    """A finned block as ONE closed mesh: base (quad 0..) along x in [-width/2, width/2], z in [0, base],
    ``fins`` fins of ``fin_width`` standing on it; y in [0, depth]. Returns (mesh, 0 = base / k = fin k)."""
    centres = np.linspace(-width / 2, width / 2, fins + 2)[1:-1] if fins else np.zeros(0)
    xs = np.unique(np.concatenate([[-width / 2, width / 2], centres - fin_width / 2, centres + fin_width / 2]))
    nx = len(xs)
    verts = [(x, 0.0) for x in xs] + [(x, base) for x in xs]
    quads, part = [], []
    for i in range(nx - 1):
        quads.append([i, i + 1, nx + i + 1, nx + i])
        part.append(0)
    for k, c in enumerate(centres):
        i0 = int(np.argmin(np.abs(xs - (c - fin_width / 2))))
        i1 = int(np.argmin(np.abs(xs - (c + fin_width / 2))))
        t0, t1 = len(verts), len(verts) + 1
        verts += [(xs[i0], base + fin_height), (xs[i1], base + fin_height)]
        quads.append([nx + i0, nx + i1, t1, t0])
        part.append(k + 1)
    (v, f), fq = extrude_quads(verts, quads, depth)
    return (v, f), np.asarray(part)[fq]


def convex_hull(points, at=(0.0, 0.0, 0.0)) -> Mesh:
    """Closed, outward-oriented triangle mesh of the convex hull of ``points`` (scipy)."""
    from scipy.spatial import ConvexHull

    p = np.asarray(points, float)
    hull = ConvexHull(p)
    f = hull.simplices.copy()
    c = p.mean(0)
    t = p[f]
    n = np.cross(t[:, 1] - t[:, 0], t[:, 2] - t[:, 0])
    flip = np.einsum("ij,ij->i", n, t[:, 0] - c) < 0
    f[flip] = f[flip][:, ::-1]
    used = np.unique(f)
    remap = np.full(len(p), -1)
    remap[used] = np.arange(len(used))
    return p[used] + np.asarray(at, float), remap[f].astype(np.int64)


# ----------------------------------------------------------------------------- mesh ops

def subdivide(mesh: Mesh) -> Mesh:
    """Midpoint 1-to-4 subdivision (shared edges get one midpoint, so closed meshes stay closed)."""
    v, f = mesh
    edges = np.sort(f[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2), axis=1)
    uniq, inv = np.unique(edges, axis=0, return_inverse=True)
    mids = (v[uniq[:, 0]] + v[uniq[:, 1]]) / 2
    m = inv.reshape(-1, 3) + len(v)  # midpoints of edges (0-1, 1-2, 2-0)
    a, b, c = f[:, 0], f[:, 1], f[:, 2]
    ab, bc, ca = m[:, 0], m[:, 1], m[:, 2]
    nf = np.concatenate([np.stack([a, ab, ca], 1), np.stack([ab, b, bc], 1),
                         np.stack([ca, bc, c], 1), np.stack([ab, bc, ca], 1)])
    return np.concatenate([v, mids]), nf.astype(np.int64)


def face_areas(mesh: Mesh) -> np.ndarray:
    v, f = mesh
    t = v[f]
    return 0.5 * np.linalg.norm(np.cross(t[:, 1] - t[:, 0], t[:, 2] - t[:, 0]), axis=1)
