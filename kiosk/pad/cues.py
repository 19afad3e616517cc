"""Screen cues around the face: small functions, one number each, thresholds in thresholds.PAD.

- `bezel_sides`: how many sides of the face (left/right/top/bottom) have a long straight edge
  running along them, outside the face, within the MiniFASNet 2.7x region. A phone or tablet
  held in front of the camera frames the face with its screen edge and bezel.
- `glare_fraction`: share of near-white, colourless (specular) pixels on the face. A glossy
  screen reflects room lights as a band over the face.
- `planarity`: largest affine residual of the rigid landmarks between any gated frame and the
  session's first one (kiosk.liveness.motion.parallax). A picture, however moved, stays flat;
  a real head that turns or nods does not. A video of a real head on a screen is NOT flat, so
  this cue can only speak against printed pictures.
"""
from __future__ import annotations

import cv2
import numpy as np

from kiosk.arrays import Floats, Image
from kiosk.liveness.motion import parallax
from kiosk.pad.minifasnet import Box, crop_box
from kiosk.thresholds import PAD, PadThresholds

_WORK_SIDE = 240  # the region is resized to at most this many pixels on its long side


def bezel_sides(gray: cv2.typing.MatLike, box: Box, th: PadThresholds = PAD) -> int:
    """Sides of the face box with a long straight edge outside it (0-4). `box` = [x, y, w, h]."""
    h, w = gray.shape[:2]
    l, t, r, b = crop_box(w, h, box, 2.7)
    region = gray[max(t, 0):b + 1, max(l, 0):r + 1]
    if region.size == 0:
        return 0
    s = min(1.0, _WORK_SIDE / max(region.shape))
    small = cv2.resize(region, None, fx=s, fy=s, interpolation=cv2.INTER_AREA) if s < 1 else region
    x, y, bw, bh = box
    fx0, fy0 = (x - max(l, 0)) * s, (y - max(t, 0)) * s
    fx1, fy1 = fx0 + bw * s, fy0 + bh * s
    edges = cv2.Canny(cv2.GaussianBlur(small, (3, 3), 0), 50, 150)
    min_len = th.bezel_min_len * bw * s
    lines = cv2.HoughLinesP(edges, 1, np.pi / 180, threshold=int(max(20, min_len * 0.5)),
                            minLineLength=max(10, int(min_len)), maxLineGap=4)
    if lines is None:
        return 0
    sides: set[str] = set()
    tol = np.tan(np.radians(th.bezel_max_angle))
    for x0, y0, x1, y1 in lines[:, 0].astype(float):
        dx, dy = abs(x1 - x0), abs(y1 - y0)
        my = (y0 + y1) / 2
        if dy <= tol * dx:  # horizontal: above or below the face
            if max(y0, y1) < fy0:
                sides.add("top")
            elif min(y0, y1) > fy1:
                sides.add("bottom")
        elif dx <= tol * dy:  # vertical: left or right of the face
            if max(x0, x1) < fx0 and fy0 - bh * s < my < fy1 + bh * s:
                sides.add("left")
            elif min(x0, x1) > fx1 and fy0 - bh * s < my < fy1 + bh * s:
                sides.add("right")
    return len(sides)


def glare_fraction(bgr: Image, box: Box, th: PadThresholds = PAD) -> float:
    """Share of specular (bright, colourless) pixels inside the face box."""
    x, y, bw, bh = (int(round(v)) for v in box)
    face = bgr[max(y, 0):y + bh, max(x, 0):x + bw]
    if face.size == 0:
        return 0.0
    hsv = cv2.cvtColor(face, cv2.COLOR_BGR2HSV)
    mask = (hsv[..., 2] >= th.glare_v_min) & (hsv[..., 1] <= th.glare_s_max)
    return float(mask.mean())


def planarity(shapes: list[Floats]) -> float:
    """Largest affine residual (/ interocular) of any shape against the first; 0 if < 2 shapes.

    `shapes` are full (478, 2+) landmark arrays of gated (near-frontal-range) frames."""
    if len(shapes) < 2:
        return 0.0
    ref = shapes[0]
    return max(parallax(ref, s) for s in shapes[1:])
