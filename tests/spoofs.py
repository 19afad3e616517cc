"""Builders for presentation-attack clips, made from still photos and real frames.

Every builder writes an mp4 ('mp4v', 25 fps by default) into a folder the caller
owns (pytest's tmp_path) and returns its path; nothing is written anywhere else.
The clips imitate what an impostor can do in front of a kiosk camera with a
photo of the resident:

- `still_clip`       a photo held still (with a little sensor noise);
- `slide_clip`       the photo slid, rotated and scaled in the image plane;
- `turn_clip`        a flat photo turned about its vertical axis (perspective warp, +-40 deg);
- `slideshow_clip`   two real frames (eyes open / eyes closed) flipped on a screen.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

import cv2
import numpy as np

FPS = 25.0
CANVAS = (640, 480)  # width, height
GREY = (118, 118, 118)


# ------------------------------------------------------------------ basic helpers
def write_clip(path: Path, frames_rgb: Iterable[np.ndarray], fps: float = FPS) -> Path:
    """Write RGB frames to an mp4 ('mp4v'). All frames must have the size of the first."""
    path = Path(path)
    writer = None
    n = 0
    try:
        for rgb in frames_rgb:
            if writer is None:
                h, w = rgb.shape[:2]
                writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
                if not writer.isOpened():
                    raise RuntimeError(f"cv2.VideoWriter could not open {path}")
            writer.write(cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR))
            n += 1
    finally:
        if writer is not None:
            writer.release()
    if n == 0:
        raise ValueError("no frames to write")
    return path


def write_png(path: Path, rgb: np.ndarray) -> Path:
    path = Path(path)
    if not cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)):
        raise RuntimeError(f"could not write {path}")
    return path


def place_on_canvas(photo_rgb: np.ndarray, canvas: tuple[int, int] = CANVAS, height_frac: float = 0.9,
                    colour=GREY) -> np.ndarray:
    """The photo scaled to `height_frac` of the canvas height, centred on a plain canvas."""
    cw, ch = canvas
    h, w = photo_rgb.shape[:2]
    s = min(height_frac * ch / h, 0.95 * cw / w)
    img = cv2.resize(photo_rgb, (max(1, round(w * s)), max(1, round(h * s))),
                     interpolation=cv2.INTER_CUBIC if s > 1 else cv2.INTER_AREA)
    out = np.empty((ch, cw, 3), np.uint8)
    out[:] = colour
    y0, x0 = (ch - img.shape[0]) // 2, (cw - img.shape[1]) // 2
    out[y0:y0 + img.shape[0], x0:x0 + img.shape[1]] = img
    return out


def add_noise(rgb: np.ndarray, rng: np.random.Generator, sigma: float = 2.0) -> np.ndarray:
    """Mild Gaussian sensor noise, as every real webcam frame has."""
    noisy = rgb.astype(np.int16) + rng.normal(0.0, sigma, rgb.shape).round().astype(np.int16)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def _frames(duration_s: float, fps: float) -> range:
    return range(int(round(duration_s * fps)))


def _render(path: Path, duration_s: float, fps: float, make: Callable[[float], np.ndarray],
            seed: int, noise: float) -> Path:
    rng = np.random.default_rng(seed)

    def gen():
        for i in _frames(duration_s, fps):
            img = make(i / fps)
            yield add_noise(img, rng, noise) if noise > 0 else img

    return write_clip(path, gen(), fps)


# ------------------------------------------------------------------ attacks from one photo
def still_clip(path: Path, photo_rgb: np.ndarray, duration_s: float = 8.0, fps: float = FPS,
               noise: float = 2.0, seed: int = 1) -> Path:
    """(a) The photo held perfectly still in front of the camera."""
    canvas = place_on_canvas(photo_rgb)
    return _render(path, duration_s, fps, lambda t: canvas, seed, noise)


def slide_clip(path: Path, photo_rgb: np.ndarray, duration_s: float = 8.0, fps: float = FPS,
               shift_px: float = 25.0, rot_deg: float = 8.0, scale: float = 0.06,
               noise: float = 2.0, seed: int = 2) -> Path:
    """(b) The photo moved in the image plane: small translations, rotations and scaling over time."""
    canvas = place_on_canvas(photo_rgb)
    h, w = canvas.shape[:2]
    centre = (w / 2.0, h / 2.0)

    def make(t: float) -> np.ndarray:
        ang = rot_deg * np.sin(2 * np.pi * t / 3.1)
        sc = 1.0 + scale * np.sin(2 * np.pi * t / 4.3 + 0.7)
        m = cv2.getRotationMatrix2D(centre, ang, sc)
        m[0, 2] += shift_px * np.sin(2 * np.pi * t / 2.3)
        m[1, 2] += 0.6 * shift_px * np.sin(2 * np.pi * t / 3.7 + 1.3)
        return cv2.warpAffine(canvas, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                              borderValue=GREY)

    return _render(path, duration_s, fps, make, seed, noise)


def plane_turn_homography(size: tuple[int, int], angle_deg: float, focal: float | None = None) -> np.ndarray:
    """Homography of a flat picture (filling the image) rotated by `angle_deg` about its vertical
    centre line, seen by a pinhole camera at the distance where it filled the frame unturned.
    Positive angles bring the picture's image-right edge closer to the camera."""
    w, h = size
    f = focal or 1.2 * w
    cx, cy = w / 2.0, h / 2.0
    a = np.radians(angle_deg)
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = []
    for x, y in src:
        xr, yr = x - cx, y - cy
        X, Z = xr * np.cos(a), f - xr * np.sin(a)  # Z: depth of the turned point
        dst.append([cx + f * X / Z, cy + f * yr / Z])
    return cv2.getPerspectiveTransform(src, np.float32(dst))


def turn_angle(t: float, max_deg: float = 40.0) -> float:
    """Hold frontal 1.5 s, then sweep to +max, back, to -max and back, every 4 s."""
    if t < 1.5:
        return 0.0
    phase = ((t - 1.5) % 4.0) / 4.0
    return float(max_deg * np.sin(2 * np.pi * phase))


def turn_clip(path: Path, photo_rgb: np.ndarray, duration_s: float = 8.0, fps: float = FPS,
              max_deg: float = 40.0, noise: float = 2.0, seed: int = 3) -> Path:
    """(c) A flat photo turned left and right in front of the camera (rotation about the vertical axis)."""
    canvas = place_on_canvas(photo_rgb, height_frac=0.8)
    h, w = canvas.shape[:2]

    def make(t: float) -> np.ndarray:
        hm = plane_turn_homography((w, h), turn_angle(t, max_deg))
        return cv2.warpPerspective(canvas, hm, (w, h), flags=cv2.INTER_LINEAR,
                                   borderMode=cv2.BORDER_CONSTANT, borderValue=GREY)

    return _render(path, duration_s, fps, make, seed, noise)


def slideshow_clip(path: Path, open_rgb: np.ndarray, closed_rgb: np.ndarray, duration_s: float = 8.0,
                   fps: float = FPS, open_s: float = 1.0, closed_s: float = 0.3, noise: float = 2.0,
                   seed: int = 4) -> Path:
    """(d) Two stills of the same face (eyes open / eyes closed) flipped like a slideshow."""
    period = open_s + closed_s

    def make(t: float) -> np.ndarray:
        return open_rgb if (t % period) < open_s else closed_rgb

    return _render(path, duration_s, fps, make, seed, noise)


# ------------------------------------------------------------------ picking real frames
def read_frames(video: Path, indices: Iterable[int]) -> dict[int, np.ndarray]:
    """RGB frames of a video by index (read sequentially; fine for short clips)."""
    wanted = set(indices)
    out: dict[int, np.ndarray] = {}
    cap = cv2.VideoCapture(str(video))
    try:
        i = 0
        while wanted - set(out):
            ok, bgr = cap.read()
            if not ok:
                break
            if i in wanted:
                out[i] = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            i += 1
    finally:
        cap.release()
    missing = wanted - set(out)
    if missing:
        raise ValueError(f"{video}: frames {sorted(missing)} not found")
    return out


def fit_to(rgb_or_bgr: np.ndarray, size: tuple[int, int], colour=GREY,
           align: tuple[float, float] = (0.5, 0.5)) -> np.ndarray:
    """Resize keeping the aspect ratio and pad (letterbox) to `size` (w, h).

    `align` places the picture in the padded canvas: (0, 0) top-left, (0.5, 0.5) centred."""
    w, h = size
    ih, iw = rgb_or_bgr.shape[:2]
    s = min(w / iw, h / ih)
    img = cv2.resize(rgb_or_bgr, (max(1, round(iw * s)), max(1, round(ih * s))), interpolation=cv2.INTER_AREA)
    out = np.empty((h, w, 3), np.uint8)
    out[:] = colour
    y0, x0 = round((h - img.shape[0]) * align[1]), round((w - img.shape[1]) * align[0])
    out[y0:y0 + img.shape[0], x0:x0 + img.shape[1]] = img
    return out


def concat_clips(path: Path, parts: list[tuple],
                 size: tuple[int, int], fps: float = FPS) -> Path:
    """Cut [start_s, end_s) of each video, fit it to `size` (w, h; aspect kept, padded), join at `fps`.

    Each part is (video, start_s, end_s) or (video, start_s, end_s, align) with `align` as in
    `fit_to`. Frames are resampled by time, so clips recorded at other rates keep their speed."""

    def gen():
        for part in parts:
            video, start, end = part[:3]
            align = part[3] if len(part) > 3 else (0.5, 0.5)
            cap = cv2.VideoCapture(str(video))
            src_fps = cap.get(cv2.CAP_PROP_FPS) or fps
            frames = []
            try:
                while True:
                    ok, bgr = cap.read()
                    if not ok:
                        break
                    frames.append(bgr)
            finally:
                cap.release()
            t_end = len(frames) / src_fps if end is None else min(end, len(frames) / src_fps)
            t = start or 0.0
            while t < t_end:
                bgr = frames[min(int(t * src_fps), len(frames) - 1)]
                yield cv2.cvtColor(fit_to(bgr, size, align=align), cv2.COLOR_BGR2RGB)
                t += 1.0 / fps

    return write_clip(path, gen(), fps)


def side_by_side(*photos_rgb: np.ndarray, height: int = 300, gap: int = 40, colour=GREY) -> np.ndarray:
    """Several photos scaled to one height and placed next to each other on one canvas
    (a picture with several people in it)."""
    parts = []
    for p in photos_rgb:
        s = height / p.shape[0]
        parts.append(cv2.resize(p, (round(p.shape[1] * s), height), interpolation=cv2.INTER_AREA))
    w = sum(p.shape[1] for p in parts) + gap * (len(parts) + 1)
    out = np.empty((height + 2 * gap, w, 3), np.uint8)
    out[:] = colour
    x = gap
    for p in parts:
        out[gap:gap + height, x:x + p.shape[1]] = p
        x += p.shape[1] + gap
    return out
