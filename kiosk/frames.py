"""Frame sources: live camera, video file, image folder, single image.

Every source yields `Frame`s (RGB uint8, timestamp in seconds from the start of the
source) through the same iterator interface, so tests and demos run the real
pipeline on recorded frames. Machines in the field often have no camera at all.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Protocol

import cv2
import numpy as np
from cv2.typing import MatLike

from kiosk.arrays import Image
from kiosk.texts import text

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
MAX_IMAGE_PIXELS = 40_000_000  # 40 MP: any camera photo fits; a 20000x20000 image would take 2.6 GB to decode
VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".gif"}


class FrameSourceError(Exception):
    """A frame source could not be opened or stopped delivering frames.

    `code` is a stable machine-readable reason; `message` is plain Chinese for the user: the
    catalogue's `frame_<why or code>` filled with `data` (kiosk.texts); `detail` is for logs.
    """

    def __init__(self, code: str, message: str | None = None, detail: str = "", *, why: str | None = None,
                 **data: Any):
        if message is None:
            message = text(f"frame_{why or code}", **data)
        super().__init__(f"{code}: {message} {detail}".strip())
        self.code = code
        self.message = message
        self.detail = detail
        self.data = data


class CameraLost(FrameSourceError):
    """The camera disappeared in the middle of a session (unplugged, driver crash)."""

    def __init__(self, detail: str = ""):
        super().__init__("camera_lost", detail=detail)


@dataclass(frozen=True)
class Frame:
    rgb: Image  # H x W x 3, uint8, RGB
    t: float  # seconds since the source started
    index: int

    @property
    def size(self) -> tuple[int, int]:
        h, w = self.rgb.shape[:2]
        return w, h


class FrameSource(Protocol):
    def __iter__(self) -> Iterator[Frame]: ...
    def close(self) -> None: ...


def _bgr_to_rgb(img: MatLike) -> Image:
    if img.ndim == 2:
        return _u8(cv2.cvtColor(img, cv2.COLOR_GRAY2RGB))
    if img.shape[2] == 4:
        return _u8(cv2.cvtColor(img, cv2.COLOR_BGRA2RGB))
    return _u8(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))


def _u8(img: MatLike) -> Image:
    """OpenCV's result typed as what it is here: 8-bit (no copy)."""
    return np.asarray(img, dtype=np.uint8)


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from the image header alone (nothing decoded), or None if unknown."""
    import io
    import warnings

    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PIL's own "possible decompression bomb" warning
            with Image.open(io.BytesIO(data)) as im:  # lazy: reads the header only
                return im.size
    except Image.DecompressionBombError:  # > 2x PIL's own limit (~179 MP): far above ours anyway
        return (MAX_IMAGE_PIXELS + 1, 1)
    except Exception:  # not an image PIL knows: cv2 decides
        return None


def check_image_size(data: bytes, name: str = "") -> None:
    """FrameSourceError('image_too_large') when the header says more than MAX_IMAGE_PIXELS."""
    size = image_size(data)
    if size and size[0] * size[1] > MAX_IMAGE_PIXELS:
        w, h = size
        dims = text("frame_image_dims", w=w, h=h) if h > 1 else ""
        raise FrameSourceError("image_too_large", detail=f"{w}x{h}", name=name, dims=dims,
                               mp=MAX_IMAGE_PIXELS // 1_000_000)


def read_image(path: str | Path) -> Image:
    """Read an image file as RGB; raises FrameSourceError('unreadable_file') if it cannot."""
    p = Path(path)
    if not p.is_file():
        raise FrameSourceError("unreadable_file", detail=str(p), why="file_missing", path=p)
    # imdecode from bytes handles non-ASCII (Chinese) paths, which cv2.imread does not on Windows.
    data = np.fromfile(str(p), dtype=np.uint8)
    check_image_size(data.tobytes(), p.name)  # before decoding: a forged header must not exhaust memory
    img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if img is None:
        raise FrameSourceError("unreadable_file", detail=str(p), why="image_unreadable", name=p.name)
    if img.dtype != np.uint8:
        img = cv2.convertScaleAbs(img, alpha=255.0 / max(1, int(img.max())))
    return _bgr_to_rgb(img)


class ImageSource:
    """One still image, repeated `repeat` times at `fps` (a still turned into a clip)."""

    def __init__(self, path: str | Path, repeat: int = 1, fps: float = 25.0):
        self.rgb = read_image(path)
        self.repeat = repeat
        self.fps = fps

    def __iter__(self) -> Iterator[Frame]:
        for i in range(self.repeat):
            yield Frame(self.rgb, i / self.fps, i)

    def close(self) -> None:
        pass


class ImageFolderSource:
    """An image sequence: every image in a folder, in name order, at a nominal `fps`."""

    def __init__(self, folder: str | Path, fps: float = 25.0):
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise FrameSourceError("unreadable_file", detail=str(self.folder), why="folder_missing", path=self.folder)
        self.paths = sorted(p for p in self.folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self.paths:
            raise FrameSourceError("unreadable_file", detail=str(self.folder), why="folder_empty", path=self.folder)
        self.fps = fps

    def __iter__(self) -> Iterator[Frame]:
        for i, p in enumerate(self.paths):
            yield Frame(read_image(p), i / self.fps, i)

    def close(self) -> None:
        pass


class VideoFileSource:
    """A recorded clip; timestamps come from the container (or frame index / fps)."""

    def __init__(self, path: str | Path, max_side: int | None = None):
        self.path = Path(path)
        if not self.path.is_file():
            raise FrameSourceError("unreadable_file", detail=str(self.path), why="video_missing", path=self.path)
        self.cap = cv2.VideoCapture(str(self.path))
        ok, first = self.cap.read() if self.cap.isOpened() else (False, None)
        if not ok or first is None:
            self.cap.release()
            raise FrameSourceError("unreadable_file", detail=str(self.path), why="video_unreadable", name=self.path.name)
        self._first = first
        fps = self.cap.get(cv2.CAP_PROP_FPS)
        self.fps = fps if fps and 1.0 <= fps <= 240.0 else 25.0
        count = self.cap.get(cv2.CAP_PROP_FRAME_COUNT)
        self.frame_count = int(count) if count and count > 0 else None
        self.max_side = max_side

    def _prepare(self, bgr: MatLike) -> Image:
        if self.max_side and max(bgr.shape[:2]) > self.max_side:
            s = self.max_side / max(bgr.shape[:2])
            bgr = cv2.resize(bgr, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
        return _bgr_to_rgb(bgr)

    def __iter__(self) -> Iterator[Frame]:
        i = 0
        bgr = self._first
        while bgr is not None:
            yield Frame(self._prepare(bgr), i / self.fps, i)
            i += 1
            ok, bgr = self.cap.read()
            if not ok:
                break
        self.cap.release()

    def close(self) -> None:
        self.cap.release()


class CameraSource:
    """A live camera through OpenCV. Raises CameraLost when frames stop arriving."""

    def __init__(self, index: int = 0, width: int = 640, height: int = 480,
                 fps: float = 30.0, lost_after_s: float = 2.0):
        self.index = index
        self.cap = cv2.VideoCapture(index)
        if not self.cap.isOpened():
            self.cap.release()
            raise FrameSourceError("no_camera", detail=f"camera index {index}")
        self.cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        self.cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        self.cap.set(cv2.CAP_PROP_FPS, fps)
        self.lost_after_s = lost_after_s
        self._closed = False

    def __iter__(self) -> Iterator[Frame]:
        t0 = time.monotonic()
        last_ok = t0
        i = 0
        while not self._closed:
            ok, bgr = self.cap.read()
            now = time.monotonic()
            if not ok or bgr is None:
                # A USB camera pulled out makes read() fail (or block briefly) forever after.
                if now - last_ok > self.lost_after_s:
                    self.cap.release()
                    raise CameraLost(f"camera index {self.index}: no frame for {now - last_ok:.1f} s")
                time.sleep(0.02)
                continue
            last_ok = now
            yield Frame(_bgr_to_rgb(bgr), now - t0, i)
            i += 1

    def close(self) -> None:
        self._closed = True
        self.cap.release()


def open_source(spec: str | int | Path, *, still_frames: int = 1, fps: float = 25.0) -> FrameSource:
    """Open a camera index ("0"), a video file, an image folder or a single image."""
    if isinstance(spec, int) or (isinstance(spec, str) and spec.isdigit()):
        return CameraSource(int(spec))
    p = Path(spec)
    if p.is_dir():
        return ImageFolderSource(p, fps=fps)
    if p.suffix.lower() in IMAGE_SUFFIXES:
        return ImageSource(p, repeat=still_frames, fps=fps)
    return VideoFileSource(p)
