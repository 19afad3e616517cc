"""dlib 128-d face embeddings computed from the FaceMesh landmarks.

dlib's HOG detector costs ~150 ms a frame; FaceMesh already tells us where the face
is. We turn the landmarks into the box dlib's shape predictor was trained on (HOG
box geometry, fitted once on public face photos relative to the eye centre), let the
5-point predictor align the face, and run dlib's ResNet (~20 ms through OpenCV's DNN, see
dlib_dnn.py; ~100 ms in dlib-bin itself, which also holds the GIL). Never call this per
frame: the certification session encodes a few chosen frames off the caller's thread.
"""
from __future__ import annotations

import threading
import warnings
from typing import Any

import numpy as np

from kiosk.arrays import Floats, Image
from kiosk.observe import FaceObservation

BACKEND_NAME = "dlib-128"
# dlib HOG box relative to the eye centre, in units of (interocular + eye-to-mouth)/2.
_BOX_LEFT, _BOX_TOP, _BOX_RIGHT, _BOX_BOTTOM = -1.02, -0.60, 0.95, 1.34


def dlib_box(face: FaceObservation) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the box dlib's predictor expects, from FaceMesh landmarks."""
    p = face.landmarks
    eyes = (p[33, :2] + p[263, :2] + p[133, :2] + p[362, :2]) / 4.0
    mouth = (p[13, :2] + p[14, :2]) / 2.0
    scale = (np.linalg.norm(p[33, :2] - p[263, :2]) + np.linalg.norm(mouth - eyes)) / 2.0
    return (int(eyes[0] + _BOX_LEFT * scale), int(eyes[1] + _BOX_TOP * scale),
            int(eyes[0] + _BOX_RIGHT * scale), int(eyes[1] + _BOX_BOTTOM * scale))


class DlibEncoder:
    """Thread-safe wrapper around face_recognition's dlib models (loaded once per process)."""

    name = BACKEND_NAME
    dim = 128

    def __init__(self, jitters: int = 1):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # face_recognition_models warns about pkg_resources
            import dlib
            import face_recognition_models as frm
        self._dlib = dlib
        self._predictor = dlib.shape_predictor(frm.pose_predictor_five_point_model_location())
        if jitters == 1:
            # The same ResNet and weights, run by OpenCV's DNN (kiosk/matching/dlib_dnn.py):
            # ~10x faster than dlib-bin (built without BLAS) and it releases the GIL;
            # embeddings equal dlib's to ~1e-6.
            from kiosk.matching.dlib_dnn import DlibDnnRecognizer

            self._net = DlibDnnRecognizer()
        else:  # test-time jitter only exists in dlib's own implementation
            self._net = dlib.face_recognition_model_v1(frm.face_recognition_model_location())
        self.jitters = jitters
        self._lock = threading.Lock()  # dlib models are not documented as re-entrant

    def crop_and_shape(self, rgb: Image, face: FaceObservation) -> tuple[Image, Any]:
        """The face region and dlib's 5-point shape in it (what the ResNet's chip is cut from)."""
        left, top, right, bottom = dlib_box(face)
        # Hand dlib only the face and a margin: converting a whole frame costs more than the net.
        m = (right - left) // 2
        h, w = rgb.shape[:2]
        x0, y0 = max(0, left - m), max(0, top - m)
        x1, y1 = min(w, right + m), min(h, bottom + m)
        img = np.ascontiguousarray(rgb[y0:y1, x0:x1])
        rect = self._dlib.rectangle(left - x0, top - y0, right - x0, bottom - y0)
        with self._lock:
            return img, self._predictor(img, rect)

    def encode(self, rgb: Image, face: FaceObservation) -> Floats:
        img, shape = self.crop_and_shape(rgb, face)
        with self._lock:
            vec = self._net.compute_face_descriptor(img, shape, self.jitters)
        return np.asarray(vec, dtype=np.float64)
