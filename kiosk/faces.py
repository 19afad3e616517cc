"""Embeddings from still photos (enrolment, `kiosk verify`), with clear errors for bad photos."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from kiosk.frames import IMAGE_SUFFIXES, Frame, FrameSourceError, read_image
from kiosk.observe import FaceObserver
from kiosk.texts import text


class PhotoError(Exception):
    """A photo cannot give one usable face. `code`: no_face | multiple_faces | unreadable_file |
    image_too_large (the header says more than 40 MP: refused before decoding). `message` is the
    catalogue's `photo_<why or code>` filled with `data`, unless passed on from another error."""

    def __init__(self, code: str, message: str | None = None, path: str = "", *, why: str | None = None,
                 **data: Any):
        if message is None:
            message = text(f"photo_{why or code}", **data)
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.path, self.data = code, message, path, data


class PhotoEncoder:
    """Encodes photos: FaceMesh (static mode) finds the face, the embedding backend (dlib unless
    another `kiosk.matching.embedders.Embedder` is given) encodes it. Models load once; each file
    is encoded once per PhotoEncoder (results and refusals are cached by resolved path)."""

    def __init__(self, encoder=None):
        from kiosk.matching.encoder import DlibEncoder

        self.encoder = encoder or DlibEncoder()
        self.observer = FaceObserver(static=True)
        self._cache: dict[Path, np.ndarray] = {}
        self._refused: dict[Path, PhotoError] = {}  # a refused photo is refused once, not once per pair

    def close(self) -> None:
        self.observer.close()

    def encode_file(self, path: str | Path) -> np.ndarray:
        p = Path(path).resolve()
        if p in self._cache:
            return self._cache[p]
        if p in self._refused:
            e = self._refused[p]
            raise PhotoError(e.code, e.message, str(path))
        try:
            vec = self._encode(p, path)
        except PhotoError as e:
            if e.code != "unreadable_file":  # a missing file may appear later; a faceless photo will not
                self._refused[p] = e
            raise
        self._cache[p] = vec
        return vec

    def _encode(self, p: Path, path) -> np.ndarray:
        try:
            rgb = read_image(p)
        except FrameSourceError as e:
            code = e.code if e.code == "image_too_large" else "unreadable_file"
            raise PhotoError(code, e.message, str(path)) from e
        obs = self.observer.observe(Frame(rgb, 0.0, 0))
        if obs.face is None:
            raise PhotoError("no_face", path=str(path), name=p.name)
        if obs.num_faces > 1:
            # A small background face (a poster, a passer-by) is tolerated; two real faces are not.
            main_w = obs.face.box[2] - obs.face.box[0]
            if any((b[2] - b[0]) > 0.5 * main_w for b in obs.face.other_boxes):
                raise PhotoError("multiple_faces", path=str(path), name=p.name)
        return self.encoder.encode(rgb, obs.face)

    def encode_template(self, path: str | Path) -> list[np.ndarray]:
        """A template is one photo, or a folder of photos of the same person."""
        p = Path(path)
        if p.is_dir():
            files = sorted(f for f in p.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
            if not files:
                raise PhotoError("unreadable_file", path=str(path), why="folder_empty", folder=p)
            # One unusable photo (a second face, no face) does not spoil the folder: use the others.
            vecs, first_error = [], None
            for f in files:
                try:
                    vecs.append(self.encode_file(f))
                except PhotoError as e:
                    first_error = first_error or e
            if not vecs:
                assert first_error is not None  # every photo failed
                raise first_error
            return vecs
        return [self.encode_file(p)]
