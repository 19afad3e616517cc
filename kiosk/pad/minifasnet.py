"""MiniFASNet passive presentation-attack scores (Minivision, Apache-2.0) through OpenCV DNN.

Two 80x80 CNNs (assets/models/pad/, see NOTICE) look at the face at two zoom levels:
V2 at 2.7x the face box, V1SE at 4.0x. Each gives 3 logits; softmax each, average the two,
class 1 = real face (classes 0 and 2 are two kinds of attack).

Input convention of the original pipeline (Silent-Face-Anti-Spoofing, CropImage):
- a detector box [x, y, w, h] (theirs: RetinaFace), scale = min((H-1)/h, (W-1)/w, s);
- a box of w*scale x h*scale centred on the face centre, shifted back inside the frame
  where it crosses an edge, cropped inclusive of its right/bottom pixel, resized to 80x80;
- NCHW float32, BGR, 0-255, no mean subtraction, no division.

`detector_box` turns FaceMesh landmarks into that box. The FaceMesh landmark extent runs from
the upper forehead (landmark 10) to the chin and cheek to cheek; RetinaFace boxes on the same
faces are about as wide and run from mid-forehead to just below the chin. The crops were
checked by eye on live and attack clips (docs/pad.md).
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from kiosk.arrays import Floats, Image
from kiosk.core.paths import assets_dir

ASSET_DIR = assets_dir("models", "pad")
MODELS = (("2.7_80x80_MiniFASNetV2.onnx", 2.7), ("4_0_0_80x80_MiniFASNetV1SE.onnx", 4.0))
INPUT_SIZE = 80
LIVE_CLASS = 1

# FaceMesh landmarks used for the detector-style box.
_FOREHEAD, _CHIN, _LEFT, _RIGHT = 10, 152, 234, 454

# A face box [x, y, w, h] in pixels (a tuple, a list or a numpy row).
Box = Sequence[float] | Floats


def model_paths() -> list[Path]:
    return [ASSET_DIR / name for name, _ in MODELS]


def detector_box(landmarks: Floats) -> tuple[float, float, float, float]:
    """[x, y, w, h] in the face-detector convention from FaceMesh landmarks (pixels).

    Width: the landmark extent (cheek to cheek). Height: forehead landmark 10 to the chin,
    extended below the chin by 5% of that height (detector boxes end just under the chin).
    """
    p = landmarks[:, :2]
    x0, x1 = float(p[:, 0].min()), float(p[:, 0].max())
    top = float(min(p[_FOREHEAD, 1], p[:, 1].min()))
    chin = float(p[_CHIN, 1])
    bottom = chin + 0.05 * (chin - top)
    return x0, top, x1 - x0, bottom - top


def crop_box(src_w: int, src_h: int, box: Box, scale: float) -> tuple[int, int, int, int]:
    """The original pipeline's crop box (left, top, right, bottom), inclusive, for `scale`."""
    x, y, bw, bh = box
    bw, bh = max(float(bw), 1.0), max(float(bh), 1.0)
    scale = min((src_h - 1) / bh, (src_w - 1) / bw, scale)
    nw, nh = bw * scale, bh * scale
    cx, cy = x + bw / 2, y + bh / 2
    l, t, r, b = cx - nw / 2, cy - nh / 2, cx + nw / 2, cy + nh / 2
    if l < 0:
        r -= l
        l = 0
    if t < 0:
        b -= t
        t = 0
    if r > src_w - 1:
        l -= r - src_w + 1
        r = src_w - 1
    if b > src_h - 1:
        t -= b - src_h + 1
        b = src_h - 1
    return int(l), int(t), int(r), int(b)


def crop(bgr: Image, box: Box, scale: float, size: int = INPUT_SIZE) -> cv2.typing.MatLike:
    h, w = bgr.shape[:2]
    l, t, r, b = crop_box(w, h, box, scale)
    patch = bgr[max(t, 0):b + 1, max(l, 0):r + 1]
    return cv2.resize(patch, (size, size))


def _softmax(z: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    e = np.exp(z - z.max())
    out: npt.NDArray[np.float64] = e / e.sum()
    return out


class MiniFasNet:
    """Both models; `live_score(bgr, box)` -> probability of a real face (0..1).

    One instance per thread: cv2.dnn.Net is not safe to share between threads.
    """

    def __init__(self, asset_dir: Path | None = None) -> None:
        d = Path(asset_dir) if asset_dir else ASSET_DIR
        self.nets: list[tuple[cv2.dnn.Net, float]] = []
        for name, scale in MODELS:
            path = d / name
            if not path.is_file():
                raise FileNotFoundError(f"MiniFASNet model missing: {path}")
            net = cv2.dnn.readNetFromONNX(str(path))
            net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
            net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
            self.nets.append((net, scale))

    def probabilities(self, image: Image, box: Box, rgb: bool = False) -> npt.NDArray[np.float64]:
        """Averaged softmax over the 3 classes. `image` is BGR (or RGB with rgb=True)."""
        total = np.zeros(3, np.float64)
        for net, scale in self.nets:
            patch = crop(image, box, scale)
            if rgb:
                patch = patch[..., ::-1]  # the models were trained on BGR
            blob = patch.astype(np.float32).transpose(2, 0, 1)[None]  # BGR 0-255 NCHW
            net.setInput(np.ascontiguousarray(blob))
            total += _softmax(net.forward().reshape(-1).astype(np.float64))
        return total / len(self.nets)

    def live_score(self, image: Image, box: Box, rgb: bool = False) -> float:
        return float(self.probabilities(image, box, rgb)[LIVE_CLASS])
