"""Piecewise-affine image warping over a fixed triangle mesh (used by the virtual camera).

The mesh is triangulated once (Delaunay, on the neutral vertex positions). Each frame
gives new vertex positions; every destination triangle maps affinely back onto its
source triangle. Instead of warping ~1000 triangles one by one, the warper rasterises
triangle ids on a half-resolution grid (painter's order: far triangles first, so
folded parts such as the far cheek behind the nose are hidden by nearer ones), turns
them into an inverse coordinate map with one vectorised gather, upsamples the map
bilinearly (the map is continuous and piecewise linear, so this is nearly exact) and
samples the source image once with cv2.remap. Pixels outside the mesh are unchanged.
"""
from __future__ import annotations

import cv2
import numpy as np


def delaunay(points: np.ndarray) -> np.ndarray:
    """Delaunay triangles of 2-D points as an (M, 3) int32 array of point indices."""
    pts = np.asarray(points, dtype=np.float32)
    lo = pts.min(axis=0) - 16.0
    hi = pts.max(axis=0) + 16.0
    subdiv = cv2.Subdiv2D((int(np.floor(lo[0])), int(np.floor(lo[1])),
                           int(np.ceil(hi[0] - lo[0])) + 1, int(np.ceil(hi[1] - lo[1])) + 1))
    # Subdiv2D numbers vertices from 4 (0..3 are its virtual outer corners) in insertion
    # order; a point equal to an earlier one reuses that id, which we reject.
    vid_to_idx: dict[int, int] = {}
    for i, (x, y) in enumerate(pts):
        vid = subdiv.insert((float(x), float(y)))
        if vid in vid_to_idx:
            raise ValueError(f"mesh points {vid_to_idx[vid]} and {i} coincide")
        vid_to_idx[vid] = i
    tris = []
    lookup = {(float(x), float(y)): i for i, (x, y) in enumerate(pts)}
    for t in subdiv.getTriangleList():
        corners = [(float(np.float32(t[0])), float(np.float32(t[1]))),
                   (float(np.float32(t[2])), float(np.float32(t[3]))),
                   (float(np.float32(t[4])), float(np.float32(t[5])))]
        idx = [lookup.get(c) for c in corners]
        if None in idx:  # touches a virtual outer corner
            continue
        tris.append(idx)
    return np.asarray(tris, dtype=np.int32)


class MeshWarper:
    """Warp an image so that `src_points` move to per-frame destination points.

    `src_points` (N, 2) are the vertex positions in the source image. The outermost
    vertices should stay fixed between frames so that the mesh's hull, and everything
    outside it, is untouched.
    """

    def __init__(self, src_points: np.ndarray, image_size: tuple[int, int],
                 triangles: np.ndarray | None = None, step: int = 2, max_stretch: float = 12.0):
        self.src = np.asarray(src_points, dtype=np.float64)
        self.width, self.height = image_size
        self.tris = delaunay(self.src) if triangles is None else np.asarray(triangles, np.int32)
        self.step = int(step)
        self.max_stretch = float(max_stretch)
        m = len(self.tris)
        st = self.src[self.tris]
        self._s0 = st[:, 0]
        self._f1 = st[:, 1] - st[:, 0]
        self._f2 = st[:, 2] - st[:, 0]
        # Coefficient tables, one row per coefficient; column m is the identity map.
        self._coef = np.zeros((6, m + 1), dtype=np.float32)
        self._coef[:, m] = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
        self._grid_cache: dict[tuple[int, int, int, int], tuple[np.ndarray, np.ndarray]] = {}

    def _grid(self, x0: int, y0: int, gw: int, gh: int) -> tuple[np.ndarray, np.ndarray]:
        key = (x0, y0, gw, gh)
        g = self._grid_cache.get(key)
        if g is None:
            s = self.step
            off = (s - 1) / 2.0  # centre of an s x s block of full-resolution pixels
            xs = (x0 + s * np.arange(gw) + off).astype(np.float32)
            ys = (y0 + s * np.arange(gh) + off).astype(np.float32)
            gx, gy = np.meshgrid(xs, ys)
            g = (gx, gy)
            if len(self._grid_cache) > 8:
                self._grid_cache.clear()
            self._grid_cache[key] = g
        return g

    def affines(self, dst_points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-triangle inverse affines (M, 6) mapping destination to source, and a validity mask.

        Row k holds (a, b, c, d, e, f): source x = a*x + b*y + c, source y = d*x + e*y + f.
        """
        dst = np.asarray(dst_points, dtype=np.float64)
        d = dst[self.tris]  # (M, 3, 2)
        d0 = d[:, 0]
        e1 = d[:, 1] - d0
        e2 = d[:, 2] - d0
        det = e1[:, 0] * e2[:, 1] - e2[:, 0] * e1[:, 1]
        valid = np.abs(det) > 1e-6
        inv_det = np.where(valid, 1.0 / np.where(valid, det, 1.0), 0.0)
        # Inverse of the 2x2 matrix [e1 e2] (columns).
        i00 = e2[:, 1] * inv_det
        i01 = -e2[:, 0] * inv_det
        i10 = -e1[:, 1] * inv_det
        i11 = e1[:, 0] * inv_det
        s0, f1, f2 = self._s0, self._f1, self._f2
        # Linear part L = [f1 f2] @ inv([e1 e2]); offset so that d0 maps to s0.
        a = f1[:, 0] * i00 + f2[:, 0] * i10
        b = f1[:, 0] * i01 + f2[:, 0] * i11
        c_ = f1[:, 1] * i00 + f2[:, 1] * i10
        dd = f1[:, 1] * i01 + f2[:, 1] * i11
        out = np.empty((len(self.tris), 6))
        out[:, 0] = a
        out[:, 1] = b
        out[:, 2] = s0[:, 0] - a * d0[:, 0] - b * d0[:, 1]
        out[:, 3] = c_
        out[:, 4] = dd
        out[:, 5] = s0[:, 1] - c_ * d0[:, 0] - dd * d0[:, 1]
        # A destination sliver (squashed to almost nothing: a shut eyelid, a fold at the
        # silhouette) has a huge inverse; the rasteriser still gives it a few boundary
        # pixels, which would sample far-away texture. Such triangles cover next to no
        # area, so they are simply not drawn: their neighbours cover those pixels.
        valid &= (np.abs(a) + np.abs(b) + np.abs(c_) + np.abs(dd)) < self.max_stretch
        return out, valid

    def coordinate_map(self, dst_points: np.ndarray, depth: np.ndarray | None = None,
                       roi: tuple[int, int, int, int] | None = None):
        """(x0, y0, map_x, map_y) for the region `roi` = (x0, y0, x1, y1) of the output."""
        dst = np.asarray(dst_points, dtype=np.float64)
        a, valid = self.affines(dst)
        m = len(self.tris)
        self._coef[:, :m] = a.T
        if roi is None:
            both = np.vstack([dst, self.src])
            roi = (int(np.floor(both[:, 0].min())), int(np.floor(both[:, 1].min())),
                   int(np.ceil(both[:, 0].max())) + 1, int(np.ceil(both[:, 1].max())) + 1)
        x0, y0, x1, y1 = roi
        x0, y0 = max(0, x0), max(0, y0)
        x1, y1 = min(self.width, x1), min(self.height, y1)
        if x1 <= x0 or y1 <= y0:
            return x0, y0, None, None
        s = self.step
        gw = (x1 - x0 + s - 1) // s + 1
        gh = (y1 - y0 + s - 1) // s + 1
        ids = np.full((gh, gw), m, dtype=np.int32)
        off = (s - 1) / 2.0
        # Vertex positions in grid units, fixed point with 4 fractional bits.
        gpts = np.empty_like(dst)
        gpts[:, 0] = (dst[:, 0] - x0 - off) / s
        gpts[:, 1] = (dst[:, 1] - y0 - off) / s
        tri_pts = np.round(gpts[self.tris] * 16.0).astype(np.int32)
        if depth is not None:
            order = np.argsort(-np.asarray(depth)[self.tris].mean(axis=1), kind="stable")
        else:
            order = np.arange(m)
        order = order[valid[order]]
        fill = cv2.fillConvexPoly
        for k in order.tolist():
            fill(ids, tri_pts[k], k, cv2.LINE_8, 4)
        gx, gy = self._grid(x0, y0, gw, gh)
        c = [np.take(row, ids) for row in self._coef]
        mx = c[0] * gx
        mx += c[1] * gy
        mx += c[2]
        my = c[3] * gx
        my += c[4] * gy
        my += c[5]
        if s > 1:
            size = (gw * s, gh * s)
            mx = cv2.resize(mx, size, interpolation=cv2.INTER_LINEAR)
            my = cv2.resize(my, size, interpolation=cv2.INTER_LINEAR)
            # resize maps output pixel u to grid coordinate (u + 0.5)/s - 0.5; the grid
            # samples sit at full-resolution offset s*i + (s-1)/2, which is the same point.
        mx = mx[: y1 - y0, : x1 - x0]
        my = my[: y1 - y0, : x1 - x0]
        return x0, y0, mx, my

    def warp(self, image: np.ndarray, dst_points: np.ndarray, depth: np.ndarray | None = None,
             roi: tuple[int, int, int, int] | None = None, margin: int = 0) -> np.ndarray:
        """Return the image warped so that the source vertices land on `dst_points`.

        `image` may carry `margin` extra pixels on every side (real picture content
        beyond the output frame, so stretching near the frame edge has something to
        sample); the result is the output-sized frame without that margin.
        """
        m = int(margin)
        h_img, w_img = image.shape[:2]
        if (w_img - 2 * m, h_img - 2 * m) != (self.width, self.height):
            raise ValueError("image size does not match the warper's frame size plus margin")
        out = image[m:m + self.height, m:m + self.width].copy()
        x0, y0, mx, my = self.coordinate_map(dst_points, depth, roi)
        if mx is None:
            return out
        if m:
            mx += m
            my += m
        h, w = mx.shape
        out[y0:y0 + h, x0:x0 + w] = cv2.remap(image, mx, my, cv2.INTER_LINEAR,
                                               borderMode=cv2.BORDER_REPLICATE)
        return out
