"""Optional multiview SAM distillation for stage 1 (``--sam-checkpoint``).

Each training mesh is rendered from K random viewpoints with orthographic ray casting (trimesh;
a numpy Moller-Trumbore fallback when trimesh has no ray backend, e.g. without rtree). The image
is a normal/depth shading that segment-anything can read. A *mask function* (SAM's automatic mask
generator, or any ``image (H,W,3) uint8 -> masks (M,H,W) bool``) segments every view; each mask is
mapped back to the 3D points visible in its pixels. Every view then gives one label map over the
points (-1 = not visible / no mask), used as an extra "level" of the contrastive loss: points in
one SAM mask are pulled together. The pseudo labels are computed once per object, before training.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import CheckpointError, InputError
from ..geometry import normalize_points

MaskFn = Callable[[np.ndarray], np.ndarray]
TORCHVISION_MSG = ("--sam-checkpoint needs torchvision, which is not installed; install torchvision matching "
                   "your torch, or train without SAM distillation")


def camera(direction: np.ndarray, res: int, extent: float = 1.15):
    """Orthographic camera looking along -direction: ray origins (res*res, 3), ray direction (3,), basis."""
    d = direction / np.linalg.norm(direction)
    up = np.array([0.0, 0.0, 1.0]) if abs(d[2]) < 0.95 else np.array([0.0, 1.0, 0.0])
    u = np.cross(up, d)
    u /= np.linalg.norm(u)
    v = np.cross(d, u)
    t = (np.arange(res) + 0.5) / res * 2 * extent - extent
    yy, xx = np.meshgrid(-t, t, indexing="ij")  # row 0 = top of the image
    origins = 3.0 * d + xx.reshape(-1, 1) * u + yy.reshape(-1, 1) * v
    return origins, -d, (u, v, d, extent)


def _cast_numpy(tris: np.ndarray, origins: np.ndarray, direction: np.ndarray, chunk: int = 256):
    """First hit of parallel rays: (distance (R,) inf = miss, triangle index (R,) -1 = miss).

    Moller-Trumbore against the triangles whose projection overlaps each chunk of rays (the rays are
    parallel, so a 2D bounding-box test in the image plane culls most triangles).
    """
    a1 = np.cross(direction, [1.0, 0, 0] if abs(direction[0]) < 0.9 else [0, 1.0, 0])
    a1 /= np.linalg.norm(a1)
    a2 = np.cross(direction, a1)
    tuv = np.stack([tris @ a1, tris @ a2], -1)                   # (F,3,2) projected corners
    tmin, tmax = tuv.min(1), tuv.max(1)
    ouv = np.stack([origins @ a1, origins @ a2], -1)             # (R,2)
    dist = np.full(len(origins), np.inf)
    tri = np.full(len(origins), -1, np.int64)
    for s in range(0, len(origins), chunk):
        o_all = origins[s:s + chunk]
        lo, hi = ouv[s:s + chunk].min(0), ouv[s:s + chunk].max(0)
        cand = np.flatnonzero(((tmax >= lo) & (tmin <= hi)).all(1))
        if len(cand) == 0:
            continue
        t3 = tris[cand]
        v0, e1, e2 = t3[:, 0], t3[:, 1] - t3[:, 0], t3[:, 2] - t3[:, 0]
        p = np.cross(direction, e2)                              # same direction for every ray
        det = (e1 * p).sum(1)
        ok = np.abs(det) > 1e-12
        inv = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)
        o = o_all[:, None, :] - v0[None]                         # (r,F',3)
        a = (o * p).sum(-1) * inv
        q = np.cross(o, e1[None])
        b = (q @ direction) * inv
        t = (q * e2[None]).sum(-1) * inv
        hit = ok & (a >= 0) & (b >= 0) & (a + b <= 1) & (t > 1e-9)
        t = np.where(hit, t, np.inf)
        j = t.argmin(1)
        d = t[np.arange(len(j)), j]
        dist[s:s + chunk] = d
        tri[s:s + chunk] = np.where(np.isfinite(d), cand[j], -1)
    return dist, tri


def render(vertices: np.ndarray, faces: np.ndarray, direction: np.ndarray, res: int = 64) -> dict:
    """Ray-cast one view -> {"image" (res,res,3) uint8 shading, "depth" (res,res) inf = background, "camera"}."""
    origins, ray, cam = camera(np.asarray(direction, float), res)
    tris = vertices[faces].astype(np.float64)
    try:
        import trimesh
        mesh = trimesh.Trimesh(vertices, faces, process=False)
        loc, ir, it = mesh.ray.intersects_location(origins, np.repeat(ray[None], len(origins), 0), multiple_hits=False)
        dist = np.full(len(origins), np.inf)
        tri = np.full(len(origins), -1, np.int64)
        dist[ir] = ((loc - origins[ir]) @ ray)
        tri[ir] = it
    except Exception:  # no rtree/embree backend (ImportError surfaces lazily): numpy ray casting
        dist, tri = _cast_numpy(tris, origins, ray)
    n = np.cross(tris[:, 1] - tris[:, 0], tris[:, 2] - tris[:, 0])
    n /= np.linalg.norm(n, axis=1, keepdims=True).clip(1e-12)
    hit = tri >= 0
    shade = np.zeros((len(origins), 3))
    nh = n[tri[hit]] * np.sign(-(n[tri[hit]] @ ray))[:, None]          # normals facing the camera
    depth01 = (dist[hit] - 1.5) / 3.0
    shade[hit] = 0.75 * (nh * 0.5 + 0.5) + 0.25 * (1 - depth01.clip(0, 1))[:, None]
    img = (shade.clip(0, 1) * 255).astype(np.uint8).reshape(res, res, 3)
    return {"image": img, "depth": dist.reshape(res, res), "camera": cam}


def visible_pixels(points: np.ndarray, view: dict, tol: float = 0.04) -> np.ndarray:
    """(N,3) points -> flat pixel index of each point that this view sees, -1 where hidden/outside."""
    u, v, d, extent = view["camera"]
    depth = view["depth"]
    res = depth.shape[0]
    col = np.floor((points @ u + extent) / (2 * extent) * res).astype(int)
    row = np.floor((extent - points @ v) / (2 * extent) * res).astype(int)
    inside = (col >= 0) & (col < res) & (row >= 0) & (row < res)
    pix = np.where(inside, row.clip(0, res - 1) * res + col.clip(0, res - 1), -1)
    zpt = 3.0 - points @ d                                          # distance from the image plane
    seen = inside & (np.abs(depth.reshape(-1)[pix.clip(0)] - zpt) < tol)
    return np.where(seen, pix, -1)


def masks_to_labels(masks: np.ndarray, pix: np.ndarray) -> np.ndarray:
    """masks (M,H,W) bool + pixel of each point (N,) -> (N,) mask id, -1 = none. Smaller masks win overlaps."""
    labels = np.full(len(pix), -1, np.int64)
    if len(masks) == 0:
        return labels
    flat = masks.reshape(len(masks), -1)
    seen = pix >= 0
    for m in np.argsort(-flat.sum(1)):                               # large first, small ones overwrite
        hit = seen & flat[m][pix.clip(0)]
        labels[hit] = m
    return labels


def pseudo_labels(vertices: np.ndarray, faces: np.ndarray, points: np.ndarray, mask_fn: MaskFn,
                  views: int = 4, res: int = 64, seed: int = 0) -> np.ndarray:
    """SAM pseudo labels of normalised ``points`` (N,3) of a mesh: (views, N) int64, -1 = unlabelled.

    The mesh is normalised like the points (bbox centred, largest half-extent 1), so both line up
    up to the sampling's bbox (well below the visibility tolerance).
    """
    v = normalize_points(np.asarray(vertices, np.float32))[0]
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(views):
        d = rng.normal(size=3)
        d[2] = abs(d[2]) * 0.5                                       # mostly from the side and above
        view = render(v, np.asarray(faces), d, res)
        out.append(masks_to_labels(np.asarray(mask_fn(view["image"]), bool), visible_pixels(points, view)))
    return np.stack(out)


def load_sam(checkpoint: str | Path, model_type: str = "vit_b", device: str = "cpu") -> MaskFn:
    """segment-anything's automatic mask generator as a MaskFn (clear errors for every failure)."""
    path = Path(checkpoint)
    if not path.is_file():
        raise InputError(f"--sam-checkpoint {path}: file not found")
    try:
        import torchvision  # noqa: F401  (segment-anything imports it)
    except ImportError as exc:
        raise InputError(TORCHVISION_MSG) from exc
    try:
        from segment_anything import SamAutomaticMaskGenerator, sam_model_registry
    except ImportError as exc:
        raise InputError(f"--sam-checkpoint needs the segment-anything package ({exc})") from exc
    if model_type not in sam_model_registry:
        raise InputError(f"--sam-model {model_type!r}: choose one of {sorted(sam_model_registry)}")
    try:
        sam = sam_model_registry[model_type](checkpoint=str(path)).to(device)
    except Exception as exc:  # corrupt/truncated file or a checkpoint of another SAM size
        raise CheckpointError(f"--sam-checkpoint {path}: not a readable segment-anything {model_type} "
                              f"checkpoint ({type(exc).__name__}: {str(exc)[:200]})") from exc
    gen = SamAutomaticMaskGenerator(sam, points_per_side=16, pred_iou_thresh=0.8, min_mask_region_area=8)

    def mask_fn(image: np.ndarray) -> np.ndarray:
        masks = gen.generate(image)
        if not masks:
            return np.zeros((0,) + image.shape[:2], bool)
        return np.stack([m["segmentation"] for m in masks])
    return mask_fn
