"""二代证 (resident ID card) readers through their vendors' SDKs (issue 14, item 7).

Most desktop readers at village counters (华视 CVR-100 and the many compatible ones) come with
a shared library of one common shape, called through ctypes here:

    int InitComm(int port)      open the reader: USB ports 1001–1016, serial 1–16; 1 = success
    int Authenticate(void)      find a card on the reader (1 = a card is there)
    int Read_Content(int active) read it (active 1: text and photo); 1 = success. The SDK writes
                                 wz.txt (the text, UCS-2LE fixed fields) and zp.bmp (the decoded
                                 chip photo) into the current directory
    int CloseComm(void)

wz.txt's fields (UCS-2LE, characters): name 15, sex 1, nation 2, birth 8 (YYYYMMDD),
address 35, ID number 18, issuing authority 15, valid from 8, valid to 8 (256 bytes in all).

The library is chosen in kiosk.toml (`idcard_library`, `idcard_port`). Reading runs in a private
temporary folder (0700) made for that one read; both files are read into memory and the folder is
deleted before `read()` returns: the number goes to the ID entry, the chip photo stays in memory
for the optional one-time 人证比对 (`idcard_chip_match`, off by default) and is never stored.
Errors are `IdCardError` (a KioskError: code + what to do, words from the catalogue).
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Protocol

from kiosk.core.errors import KioskError
from kiosk.core.ids import InvalidIdNumber, normalize_id, valid_id_number

# (field, characters) in wz.txt, in order
WZ_FIELDS = (("name", 15), ("sex", 1), ("nation", 2), ("birth", 8), ("address", 35), ("id_number", 18),
             ("authority", 15), ("valid_from", 8), ("valid_to", 8))
SDK_FUNCTIONS = ("InitComm", "Authenticate", "Read_Content", "CloseComm")
_CWD_LOCK = threading.Lock()  # the SDK writes into the process's current directory: one read at a time


class IdCardError(KioskError):
    """code: no_library, bad_library, no_reader, no_card, read_failed, bad_card."""

    def __init__(self, code: str, **data: Any):
        from kiosk.texts import text

        self.data = data
        super().__init__(code, text(f"idcard_{code}", **data))


@dataclass(frozen=True)
class CardData:
    """What a card holds that the kiosk uses. `photo` (the chip photo, BMP bytes) is kept out of
    repr and to_json: it is never logged, printed or stored."""

    name: str
    id_number: str
    fields: dict[str, str] = field(default_factory=dict)
    photo: bytes = field(default=b"", repr=False)

    def to_json(self) -> dict:
        from kiosk.core.ids import mask_id, mask_name

        return {"id": mask_id(self.id_number), "name": mask_name(self.name), "photo_bytes": len(self.photo)}


class CardReader(Protocol):
    def read(self) -> CardData | None: ...
    def close(self) -> None: ...


def parse_wz(raw: bytes) -> dict[str, str]:
    """wz.txt (UCS-2LE fixed-width fields) → field name → text (trailing spaces stripped)."""
    text = raw.decode("utf-16-le", errors="replace")
    out, pos = {}, 0
    for name, width in WZ_FIELDS:
        out[name] = text[pos:pos + width].strip(" \x00")
        pos += width
    return out


class SdkReader:
    """A vendor SDK through ctypes. `read()` → CardData, or None when no card is on the reader.

    IdCardError: no_library / bad_library (the file is missing or lacks the four functions),
    no_reader (InitComm failed: unplugged, wrong port), read_failed, bad_card (the number on the
    card does not pass the GB 11643 check: a damaged read)."""

    def __init__(self, library: str | Path, port: int = 1001):
        path = Path(library)
        if not path.is_file():
            raise IdCardError("no_library", path=str(path))
        try:
            self.lib = ctypes.CDLL(str(path.resolve()))
            for name in SDK_FUNCTIONS:
                fn = getattr(self.lib, name)
                fn.restype = ctypes.c_int
            self.lib.InitComm.argtypes = [ctypes.c_int]
            self.lib.Read_Content.argtypes = [ctypes.c_int]
            self.lib.Authenticate.argtypes = []
            self.lib.CloseComm.argtypes = []
        except (OSError, AttributeError) as e:
            raise IdCardError("bad_library", path=str(path), detail=str(e)) from None
        self.port = port
        self._open = False

    def open(self) -> None:
        if not self._open:
            if self.lib.InitComm(self.port) != 1:
                raise IdCardError("no_reader", port=self.port)
            self._open = True

    def close(self) -> None:
        if self._open:
            self.lib.CloseComm()
            self._open = False

    def __enter__(self) -> "SdkReader":
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def read(self) -> CardData | None:
        self.open()
        if self.lib.Authenticate() != 1:
            return None
        with _private_cwd() as folder:
            if self.lib.Read_Content(1) != 1:
                raise IdCardError("read_failed")
            try:
                wz = (folder / "wz.txt").read_bytes()
            except OSError:
                raise IdCardError("read_failed") from None
            photo_path = folder / "zp.bmp"
            photo = photo_path.read_bytes() if photo_path.is_file() else b""
        fields = parse_wz(wz)
        try:
            number = normalize_id(fields["id_number"])
        except InvalidIdNumber:
            raise IdCardError("bad_card") from None
        if not valid_id_number(number):
            raise IdCardError("bad_card")
        return CardData(name=fields["name"], id_number=number, fields=fields, photo=photo)


@contextlib.contextmanager
def _private_cwd() -> Iterator[Path]:
    """A fresh 0700 folder as the current directory for one SDK call; deleted afterwards."""
    with _CWD_LOCK:
        folder = Path(tempfile.mkdtemp(prefix="kiosk-idcard-"))
        before = os.getcwd()
        try:
            os.chdir(folder)
            try:
                yield folder
            finally:
                os.chdir(before)
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def reader_from_settings(settings: Any) -> SdkReader | None:
    """The configured reader (kiosk.toml idcard_library / idcard_port), or None when none is set."""
    library = getattr(settings, "idcard_library", "")
    if not library:
        return None
    return SdkReader(library, int(getattr(settings, "idcard_port", 1001)))


def wait_for_card(reader: CardReader, *, timeout_s: float, poll_s: float = 0.3) -> CardData | None:
    """Poll until a card is read or `timeout_s` passes (the CLI; the app polls from a timer)."""
    import time

    deadline = time.monotonic() + timeout_s
    while True:
        card = reader.read()
        if card is not None or time.monotonic() >= deadline:
            return card
        time.sleep(poll_s)


class CardWatcher:
    """Polls a reader on its own thread and calls `on_card(card)` once for each card put on it (not
    again until it has been lifted). `on_error(IdCardError)` hears a failing reader once per kind of
    failure (the poll goes on: a reader plugged back in works again)."""

    def __init__(self, reader: CardReader, on_card: Any, on_error: Any = None, poll_s: float = 0.4):
        self.reader, self.on_card, self.on_error, self.poll_s = reader, on_card, on_error, poll_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.cards = 0

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="idcard", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self.reader.close()

    def _run(self) -> None:
        present = False
        last_error = ""
        while not self._stop.is_set():
            try:
                card = self.reader.read()
                last_error = ""
            except IdCardError as e:
                card = None
                if e.code != last_error and self.on_error is not None:
                    self.on_error(e)
                last_error = e.code
                if e.code == "no_reader":
                    self.reader.close()
            if card is not None and not present:
                self.cards += 1
                self.on_card(card)
            present = card is not None or (present and last_error == "read_failed")
            self._stop.wait(self.poll_s)


# ------------------------------------------------------------------ 人证比对: how good is a chip photo as a template?
CHIP_SIZE = (102, 126)  # (width, height) of the decoded chip photo
CHIP_FACE_SHARE = 0.62  # face width / photo width on an ID photo (head-and-shoulders, GA 461)


def chip_like(rgb: Any, box: tuple[int, int, int, int], jpeg_quality: int = 50) -> Any:
    """A photo turned into what a 二代证 chip holds: head-and-shoulders crop around the face box,
    102x126 pixels, lossy (the chip's wavelet image is ~1 KB; JPEG at `jpeg_quality` stands in)."""
    import cv2
    import numpy as np

    x0, y0, x1, y1 = box
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    w = (x1 - x0) / CHIP_FACE_SHARE
    h = w * CHIP_SIZE[1] / CHIP_SIZE[0]
    H, W = rgb.shape[:2]
    pad = int(max(w, h))
    padded = cv2.copyMakeBorder(rgb, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=(255, 255, 255))
    left, top = int(round(cx - w / 2)) + pad, int(round(cy - h * 0.48)) + pad
    crop = padded[top:top + int(round(h)), left:left + int(round(w))]
    small = cv2.resize(crop, CHIP_SIZE, interpolation=cv2.INTER_AREA)
    ok, enc = cv2.imencode(".jpg", cv2.cvtColor(small, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality])
    return cv2.cvtColor(cv2.imdecode(enc, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB).astype(np.uint8)


def measure_chip_templates(images: str | Path, groups_path: str | Path | None = None,
                           thresholds: tuple[float, ...] = (0.40, 0.43, 0.45, 0.47, 0.50, 0.55, 0.60),
                           progress: Any = None) -> dict:
    """One-time 人证比对 measured on a photo set (folders of one person each, as
    shared/data/faces/images): every photo as the live probe (full resolution) against every other
    photo made chip-like (`chip_like`) as the single-photo template. FNMR/FMR per group at each raw
    threshold, and the same for photo-vs-photo at full resolution (the difference is the chip's)."""
    import numpy as np

    from kiosk.calibrate import ALL, in_group, load_groups
    from kiosk.faces import PhotoEncoder
    from kiosk.frames import IMAGE_SUFFIXES, Frame, read_image

    root = Path(images)
    files = sorted(p for p in root.glob("*/*") if p.suffix.lower() in IMAGE_SUFFIXES)
    groups = load_groups(groups_path) if groups_path else {}
    enc = PhotoEncoder()
    full, chip, person = [], [], []
    it = progress(files) if progress else files
    for f in it:
        rgb = read_image(f)
        obs = enc.observer.observe(Frame(rgb, 0.0, 0))
        if obs.face is None or any((b[2] - b[0]) > 0.5 * (obs.face.box[2] - obs.face.box[0])
                                   for b in obs.face.other_boxes):
            continue
        small = chip_like(rgb, obs.face.box)
        sobs = enc.observer.observe(Frame(small, 0.0, 0))
        if sobs.face is None:
            continue  # (counted below: chip photos FaceMesh cannot read)
        full.append(enc.encoder.encode(rgb, obs.face))
        chip.append(enc.encoder.encode(small, sobs.face))
        person.append(f.parent.name)
    enc.close()
    fv, cv_, pa = np.array(full), np.array(chip), np.array(person)
    n = len(pa)
    same = pa[:, None] == pa[None, :]
    off = ~np.eye(n, dtype=bool)
    d_chip = np.linalg.norm(fv[:, None, :] - cv_[None, :, :], axis=2)  # probe i (full) vs template j (chip)
    d_full = np.linalg.norm(fv[:, None, :] - fv[None, :, :], axis=2)
    members = {ALL: np.ones(n, bool)}
    for g, pats in groups.items():
        members[g] = np.array([in_group(p, pats) for p in pa])

    def table(d: np.ndarray) -> list[dict]:
        rows = []
        for t in thresholds:
            row: dict[str, Any] = {"threshold": t}
            for g, m in members.items():
                both = m[:, None] & m[None, :] & off
                gen, imp = both & same, both & ~same
                row[g] = {"fnmr": float((d[gen] > t).mean()) if gen.any() else None,
                          "fmr": float((d[imp] <= t).mean()) if imp.any() else None,
                          "genuine": int(gen.sum()), "impostor": int(imp.sum())}
            rows.append(row)
        return rows

    return {"photos": len(files), "used": n, "chip_size": list(CHIP_SIZE), "chip": table(d_chip),
            "photo": table(d_full)}
