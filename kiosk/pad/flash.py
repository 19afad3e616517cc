"""Colour-flash challenge: the screen lights the face with a random colour sequence.

The kiosk's screen faces the resident from ~50 cm. During the face check its border shows a
random sequence of 3-5 well-separated colours (`draw_flash_sequence`, drawn with `secrets`).
Skin is a diffuse reflector: the light the screen adds to the face changes the face's colour
with the sequence, a fraction of a second after it (camera latency). A phone or tablet held
in front of the camera emits its own picture and does not follow.

`FlashResponse` is fed every frame of the check (time since the sequence started, the RGB
frame, and the FaceMesh observation). It measures the chromaticity of a skin patch (forehead
and both cheeks from the landmarks; no eyes, brows, nostrils or mouth) relative to a background
patch beside the head (so the camera's auto white balance and exposure, which act on the whole
image, cancel) and relative to the first frames (the neutral lead-in). `result()` correlates the
observed shift with the expected one over camera latencies 0-300 ms and returns a `FlashResult`.

Report mode: until a county calibrates the thresholds on the kiosk's own camera
(`calibrate_flash`; the command is kiosk.pad.flash_calibrate.main_calibrate), `FlashThresholds.calibrated` is False and the result
only carries evidence (decided=False, live=None).

Timing (all the screen ever shows, see `FlashSequence.colour_at`):
  neutral lead-in (LEAD_S) | ramp | colour 1 held d1 | ramp | colour 2 held d2 | ... | ramp | neutral
Ramps are raised-cosine cross-fades of the sRGB components over RAMP_S (Qt's Easing.InOutSine
on a ColorAnimation is the same curve), each hold is >= MIN_HOLD_S, so colour changes start at
least RAMP_S + MIN_HOLD_S = 0.6 s apart: at most 2 changes (1 flash) in any second, below the
3 flashes per second of WCAG 2.3.1.

Physics assumed (docs/flash.md has the numbers): a camera pixel of skin is
albedo_c * (ambient_c + screen_c(t)), times the camera's global per-channel gains. In log
chromaticity the albedo and the gains drop out of the face/background difference; what is left
follows log(1 + screen_c / ambient_c), roughly linear in the screen's linear-light colour.
"""
from __future__ import annotations

import math
import secrets
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Iterable, Sequence, cast

import cv2
import numpy as np
import numpy.typing as npt

from kiosk.arrays import Image

# ---------------------------------------------------------------------------- the sequence

# Well-separated hues (0, 60, 120, 180, 240, 300 degrees), saturated but not at full drive:
# sRGB 0..255.
# Float64 arrays: times, mean colours, log-chromaticity series.
F64 = npt.NDArray[np.float64]

PALETTE: dict[str, tuple[int, int, int]] = {
    "red": (235, 40, 40),
    "yellow": (235, 215, 40),
    "green": (40, 210, 60),
    "cyan": (40, 205, 225),
    "blue": (40, 80, 245),
    "magenta": (215, 50, 215),
}
NEUTRAL_RGB: tuple[int, int, int] = (250, 247, 240)  # the app's background (Theme.bg)
LEAD_S = 0.6  # neutral lead-in: the "first frames" every shift is measured against
RAMP_S = 0.2  # raised-cosine cross-fade between two colours
MIN_HOLD_S = 0.4  # each colour is held at least this long (the brief's floor is 0.3 s)
HOLD_CHOICES_S = (0.4, 0.5, 0.6, 0.7, 0.8)  # drawn per colour: the timing is secret too
MIN_COLOURS, MAX_COLOURS = 3, 5
MAX_CHANGES_PER_S = 3  # WCAG 2.3.1 general threshold (we stay at 2)


def _ease(x: F64) -> F64:
    """Raised cosine 0 -> 1 on [0, 1] (Qt Easing.InOutSine)."""
    x = np.clip(x, 0.0, 1.0)
    out: F64 = 0.5 - 0.5 * np.cos(np.pi * x)
    return out


def srgb_to_linear(v: npt.ArrayLike) -> F64:
    """sRGB 0..255 -> linear light 0..1 (the IEC 61966-2-1 curve)."""
    c = np.asarray(v, np.float64) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(v: npt.ArrayLike) -> F64:
    """Linear light 0..1 -> sRGB 0..255 (float)."""
    c = np.clip(np.asarray(v, np.float64), 0.0, 1.0)
    return 255.0 * np.where(c <= 0.0031308, c * 12.92, 1.055 * np.power(c, 1 / 2.4) - 0.055)


def hex_colour(rgb: Sequence[float]) -> str:
    return "#" + "".join(f"{int(round(float(c))):02x}" for c in rgb)


@dataclass(frozen=True)
class FlashSequence:
    """What the screen shows: a neutral lead-in, then each colour held for its duration.

    `colours` are sRGB triples 0..255, `durations` the hold of each in seconds (ramps not
    included). t is seconds since the sequence started (the lead-in's first instant).
    """

    colours: tuple[tuple[int, int, int], ...]
    durations: tuple[float, ...]
    names: tuple[str, ...] = ()
    lead_s: float = LEAD_S
    ramp_s: float = RAMP_S
    neutral: tuple[int, int, int] = NEUTRAL_RGB

    def __post_init__(self) -> None:
        if len(self.colours) != len(self.durations) or not self.colours:
            raise ValueError("one duration per colour, at least one colour")
        if min(self.durations) < 0.3:
            raise ValueError("every colour is held at least 0.3 s")
        if self.ramp_s <= 0 or self.lead_s < 0:
            raise ValueError("ramp must be positive, lead-in not negative")

    # -- timeline
    def _knots(self) -> list[tuple[float, tuple[int, int, int], tuple[int, int, int]]]:
        """(start of ramp, from colour, to colour) for every change, in order."""
        out: list[tuple[float, tuple[int, int, int], tuple[int, int, int]]] = []
        t = self.lead_s
        prev = self.neutral
        for c, d in zip(self.colours, self.durations):
            out.append((t, prev, c))
            t += self.ramp_s + d
            prev = c
        out.append((t, prev, self.neutral))
        return out

    @property
    def duration(self) -> float:
        """Seconds from the start to the end of the last ramp back to neutral."""
        return self.lead_s + sum(self.ramp_s + d for d in self.durations) + self.ramp_s

    def change_times(self) -> list[float]:
        """When each colour change starts (n colours: n + 1 changes, the last back to neutral)."""
        return [k[0] for k in self._knots()]

    def max_changes_per_second(self) -> int:
        """The most colour changes that start within any 1-second window."""
        ts = self.change_times()
        return max(sum(1 for u in ts if s <= u < s + 1.0) for s in ts)

    def colour_at(self, t: float) -> tuple[float, float, float]:
        """sRGB (0..255, float) the screen shows at t seconds since the start."""
        return cast("tuple[float, float, float]", tuple(float(v) for v in self.colours_at(np.array([t], np.float64))[0]))

    def colours_at(self, ts: npt.ArrayLike) -> F64:
        """Vectorised `colour_at`: (N,) times -> (N, 3) sRGB floats."""
        ts = np.asarray(ts, np.float64)
        out: F64 = np.empty((len(ts), 3))
        out[:] = self.neutral
        for start, a, b in self._knots():
            w = _ease((ts - start) / self.ramp_s)[:, None]
            after = (ts >= start)[:, None]
            out = np.where(after, (1 - w) * np.array(a, np.float64) + w * np.array(b, np.float64), out)
        return out

    def linear_at(self, ts: npt.ArrayLike) -> F64:
        """(N, 3) linear-light screen colour at times ts."""
        return srgb_to_linear(self.colours_at(ts))

    def to_qml(self) -> dict[str, Any]:
        """The properties of ui/FlashBorder.qml that show exactly this sequence."""
        return {
            "colours": [hex_colour(c) for c in self.colours],
            "durations": [float(d) for d in self.durations],
            "neutral": hex_colour(self.neutral),
            "leadIn": float(self.lead_s),
            "ramp": float(self.ramp_s),
        }

    def describe(self) -> dict[str, Any]:
        """For the session evidence (the colours drawn are not secret once the check is over)."""
        return {"colours": [hex_colour(c) for c in self.colours], "names": list(self.names),
                "durations": [float(d) for d in self.durations], "lead_s": self.lead_s,
                "ramp_s": self.ramp_s, "duration_s": round(self.duration, 3)}


def draw_flash_sequence(n: int | None = None) -> FlashSequence:
    """3-5 distinct palette colours in a random order with random holds (all with `secrets`)."""
    rng = secrets.SystemRandom()
    if n is None:
        n = MIN_COLOURS + secrets.randbelow(MAX_COLOURS - MIN_COLOURS + 1)
    if not MIN_COLOURS <= n <= min(MAX_COLOURS, len(PALETTE)):
        raise ValueError(f"a flash sequence has {MIN_COLOURS}-{MAX_COLOURS} colours, not {n}")
    names = rng.sample(list(PALETTE), n)  # distinct, so no two consecutive are equal
    holds = tuple(float(rng.choice(HOLD_CHOICES_S)) for _ in names)
    return FlashSequence(tuple(PALETTE[k] for k in names), holds, tuple(names))


# ---------------------------------------------------------------------------- thresholds

@dataclass(frozen=True)
class FlashThresholds:
    """The operating point. Not calibrated: report mode (the result never decides)."""

    min_score: float = 0.6  # correlation of the observed with the expected shift
    min_amplitude: float = 0.05  # log-chroma response per unit of linear screen chroma
    min_lag_s: float = 0.0  # camera + display latency searched
    max_lag_s: float = 0.3
    lag_step_s: float = 0.01
    min_frames: int = 12
    min_coverage: float = 0.7  # fraction of the sequence's duration the face frames must span
    calibrated: bool = False

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "FlashThresholds":
        known = {f.name for f in fields(cls)}
        return replace(cls(), **{k: v for k, v in d.items() if k in known})

    def to_toml(self) -> str:
        lines = ["[flash]"]
        for k, v in asdict(self).items():
            lines.append(f"{k} = {'true' if v is True else 'false' if v is False else repr(v)}")
        return "\n".join(lines) + "\n"


FLASH_TOML = "flash.toml"


def thresholds_path() -> Path:
    from kiosk.config import home_dir

    return home_dir() / FLASH_TOML


def load_thresholds(path: Path | None = None) -> FlashThresholds:
    """KIOSK_HOME/flash.toml's [flash] table, or the uncalibrated defaults."""
    import tomllib

    path = path or thresholds_path()
    if not path.is_file():
        return FlashThresholds()
    with path.open("rb") as f:
        return FlashThresholds.from_dict(tomllib.load(f).get("flash", {}))


def save_thresholds(th: FlashThresholds, path: Path | None = None) -> Path:
    path = path or thresholds_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# colour-flash thresholds, written by `kiosk pad calibrate`\n" + th.to_toml(),
                    encoding="utf-8")
    return path


# ---------------------------------------------------------------------------- measuring

# Skin patches (FaceMesh canonical indices), image-left = the person's right.
SKIN_PATCHES: dict[str, list[int]] = {
    "forehead": [109, 10, 338, 337, 336, 9, 107, 108],
    "cheek_image_left": [117, 118, 101, 36, 205, 187, 147, 123],
    "cheek_image_right": [346, 347, 330, 266, 425, 411, 376, 352],
}
SATURATED = 250  # pixels at or above (any channel) are left out: clipping breaks the model
DARK = 8
CHANNELS = ("r", "g", "b")


@dataclass(frozen=True)
class FlashResult:
    score: float  # best correlation (-1..1) of observed vs expected chromaticity shift
    lag_s: float  # the latency at which it was best
    correlation: dict[str, float]  # per channel at that lag: {"r": .., "g": .., "b": ..}
    frames: int  # frames with a measurable face
    decided: bool  # False in report mode, or when too little was seen
    live: bool | None
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _landmarks_of(obs: object) -> npt.NDArray[Any] | None:
    """(N, 2) landmarks from a FrameObservation, a FaceObservation or a bare array."""
    if obs is None:
        return None
    if isinstance(obs, np.ndarray):
        return obs[:, :2]
    face = getattr(obs, "face", obs)
    if face is None:
        return None
    lm = getattr(face, "landmarks", None)
    return None if lm is None else np.asarray(lm)[:, :2]


def _masked_mean(rgb: Image, box: tuple[int, int, int, int], polys: list[npt.NDArray[Any]] | None,
                 step: int = 1) -> tuple[F64, int]:
    """Mean sRGB over the polygons (or the whole box, every `step`-th pixel) inside box,
    pixels with no channel clipped only."""
    x0, y0, x1, y1 = box
    roi = rgb[y0:y1:step, x0:x1:step] if polys is None else rgb[y0:y1, x0:x1]
    if roi.size == 0:
        return np.full(3, np.nan), 0
    # cv2 takes scalar bounds and colours; its stubs only list arrays and Sequence[float].
    ok = cv2.inRange(roi, (DARK + 1,) * 3, (SATURATED - 1,) * 3)  # type: ignore[call-overload]  # 255 where no channel clips
    if polys is not None:
        m = np.zeros(roi.shape[:2], np.uint8)
        cv2.fillPoly(m, [np.round(p - [x0, y0]).astype(np.int32) for p in polys], 255)  # type: ignore[call-overload]
        cv2.bitwise_and(ok, m, dst=ok)
    n = int(cv2.countNonZero(ok))
    if n == 0:
        return np.full(3, np.nan), 0
    return np.array(cv2.mean(roi, mask=ok)[:3]), n


def _clip_box(x0: float, y0: float, x1: float, y1: float, w: int, h: int) -> tuple[int, int, int, int] | None:
    x0, y0 = int(max(0, math.floor(x0))), int(max(0, math.floor(y0)))
    x1, y1 = int(min(w, math.ceil(x1))), int(min(h, math.ceil(y1)))
    return (x0, y0, x1, y1) if x1 - x0 >= 2 and y1 - y0 >= 2 else None


def measure_patches(rgb: Image, landmarks: npt.NDArray[Any]) -> tuple[F64, int, F64, int]:
    """(skin mean sRGB, skin pixels, background mean sRGB, background pixels) of one frame.

    Background: two strips beside the head at eye-to-nose height, from 0.3 to 0.9 face widths
    outside the cheek edges (wall behind the resident, not the shoulders).
    """
    h, w = rgb.shape[:2]
    p = landmarks[:, :2]
    polys = [p[idx] for idx in SKIN_PATCHES.values()]
    allp = np.vstack(polys)
    # mypy cannot count star-unpacked arrays (2 + 2 coordinates, then w, h).
    skin_box = _clip_box(*allp.min(axis=0), *(allp.max(axis=0) + 1), w, h)  # type: ignore[call-arg]
    skin, n_skin = (_masked_mean(rgb, skin_box, polys) if skin_box else (np.full(3, np.nan), 0))
    fw = float(np.linalg.norm(p[454] - p[234]))
    left, right = float(p[:, 0].min()), float(p[:, 0].max())
    top = float(p[[105, 334], 1].mean()) - 0.2 * fw  # above the brows
    bottom = float(p[1, 1])
    sums, count = np.zeros(3), 0
    for x0, x1 in ((left - 0.9 * fw, left - 0.3 * fw), (right + 0.3 * fw, right + 0.9 * fw)):
        b = _clip_box(x0, top, x1, bottom, w, h)
        if b is None:
            continue
        m, n = _masked_mean(rgb, b, None, step=2)
        if n:
            sums += m * n
            count += n
    bg = sums / count if count else np.full(3, np.nan)
    return skin, n_skin, bg, count


def _log_chroma(srgb: F64) -> F64:
    """(N, 3) mean sRGB -> log chromaticity (log linear light minus its mean over channels)."""
    lg = np.log(np.maximum(srgb_to_linear(srgb), 1e-4))
    out: F64 = lg - lg.mean(axis=1, keepdims=True)
    return out


def _detrend(y: F64, t: F64) -> F64:
    """Residual of y (N, k) after a least-squares fit of a + b t (slow AWB / exposure drift)."""
    A = np.column_stack([np.ones_like(t), t - t.mean()])
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    out: F64 = y - A @ coef
    return out


def _correlate(obs: F64, exp: F64) -> tuple[float, F64, F64]:
    """(weighted score, per-channel r, per-channel gain) of detrended obs vs exp (N, 3)."""
    so, se = obs.std(axis=0), exp.std(axis=0)
    cov = (obs * exp).mean(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where((so > 1e-9) & (se > 1e-9), cov / (so * se), 0.0)
        gain = np.where(se > 1e-9, cov / (se * se), 0.0)
    w = se
    score = float((w * r).sum() / w.sum()) if w.sum() > 1e-9 else 0.0
    return score, r, gain


class FlashResponse:
    """Measures one session's face against the flash sequence shown.

        resp = FlashResponse(seq)                      # thresholds: load_thresholds() default
        for frame, obs in ...:                         # every frame of the face check
            resp.add(t_since_sequence_start, frame.rgb, obs)   # obs: FrameObservation
        result = resp.result()

    Cost per frame: masked means over the skin patches and the background strips (~0.5 ms at 640x480).
    """

    def __init__(self, sequence: FlashSequence, thresholds: FlashThresholds | None = None) -> None:
        self.sequence = sequence
        self.thresholds = thresholds or FlashThresholds()
        self._t: list[float] = []
        self._skin: list[F64] = []
        self._bg: list[F64] = []
        self._n_skin: list[int] = []
        self.frames_seen = 0

    def add(self, t: float, rgb: Image, obs: object) -> bool:
        """Feed one frame; t is seconds since the sequence started. True if it was measured."""
        self.frames_seen += 1
        lm = _landmarks_of(obs)
        if lm is None or len(lm) < 468:
            return False
        if t < -0.5 or t > self.sequence.duration + self.thresholds.max_lag_s + 0.5:
            return False
        skin, n_skin, bg, n_bg = measure_patches(rgb, lm)
        if n_skin < 30:
            return False
        self._t.append(float(t))
        self._skin.append(skin)
        self._bg.append(bg if n_bg >= 50 else np.full(3, np.nan))
        self._n_skin.append(n_skin)
        return True

    # -- analysis
    def _series(self) -> tuple[F64, F64, bool]:
        t = np.array(self._t)
        skin = np.array(self._skin)
        bg = np.array(self._bg)
        face_c = _log_chroma(skin)
        use_bg = bool(np.isfinite(bg).all(axis=1).mean() >= 0.8)
        if use_bg:
            bg_ok = np.isfinite(bg).all(axis=1)
            bg_f = bg.copy()
            for c in range(3):  # fill the few frames without a background by interpolation
                bg_f[~bg_ok, c] = np.interp(t[~bg_ok], t[bg_ok], bg[bg_ok, c])
            obs = face_c - _log_chroma(bg_f)
        else:
            obs = face_c
        lead = t < self.sequence.lead_s
        ref = obs[lead].mean(axis=0) if lead.sum() >= 3 else obs[: max(3, len(obs) // 10)].mean(axis=0)
        return t, obs - ref, use_bg

    def _expected(self, t: F64) -> F64:
        lin = self.sequence.linear_at(t)
        out: F64 = lin - lin.mean(axis=1, keepdims=True)
        return out

    def scan(self, lags: Iterable[float] | None = None) -> list[tuple[float, float]]:
        """(lag, score) over the lags given (default: the thresholds' latency range)."""
        t, obs, _ = self._series()
        ob = _detrend(obs, t)
        th = self.thresholds
        if lags is None:
            lags = np.arange(th.min_lag_s, th.max_lag_s + 1e-9, th.lag_step_s)
        return [(float(lag), _correlate(ob, _detrend(self._expected(t - lag), t))[0]) for lag in lags]

    def result(self) -> FlashResult:
        th = self.thresholds
        n = len(self._t)
        seq_info = self.sequence.describe()
        base = {"sequence": seq_info, "frames_seen": self.frames_seen, "calibrated": th.calibrated,
                "mode": "decide" if th.calibrated else "report"}
        span = (max(self._t) - min(self._t)) if n else 0.0
        coverage = span / self.sequence.duration
        if n < th.min_frames or coverage < th.min_coverage:
            return FlashResult(0.0, 0.0, {c: 0.0 for c in CHANNELS}, n, False, None,
                               {**base, "reason": "too_few_frames", "coverage": round(coverage, 3)})
        t, obs, use_bg = self._series()
        ob = _detrend(obs, t)
        best: tuple[float, float, F64, F64, F64] | None = None
        for lag in np.arange(th.min_lag_s, th.max_lag_s + 1e-9, th.lag_step_s):
            ex = _detrend(self._expected(t - lag), t)
            score, r, gain = _correlate(ob, ex)
            if best is None or score > best[1]:
                best = (float(lag), score, r, gain, ex)
        assert best is not None, "empty lag range (min_lag_s > max_lag_s)"
        lag, score, r, gain, ex = best
        se = ex.std(axis=0)
        amplitude = float((se * gain).sum() / se.sum()) if se.sum() > 1e-9 else 0.0
        # The background alone (how much the wall follows): a face must follow more.
        evidence = {
            **base,
            "coverage": round(coverage, 3),
            "background_used": use_bg,
            "amplitude": round(amplitude, 4),
            "gain": {c: round(float(g), 4) for c, g in zip(CHANNELS, gain)},
            "shift_std": {c: round(float(s), 5) for c, s in zip(CHANNELS, ob.std(axis=0))},
            "skin_pixels_median": int(np.median(self._n_skin)),
        }
        if use_bg:
            bg = np.array(self._bg)
            ok = np.isfinite(bg).all(axis=1)
            if ok.sum() >= th.min_frames:
                bgc = _log_chroma(bg[ok])
                evidence["background_score"] = round(
                    _correlate(_detrend(bgc, t[ok]), _detrend(self._expected(t[ok] - lag), t[ok]))[0], 4)
        decided = th.calibrated
        live = None
        if decided:
            live = bool(score >= th.min_score and amplitude >= th.min_amplitude)
            evidence["thresholds"] = {"min_score": th.min_score, "min_amplitude": th.min_amplitude}
        return FlashResult(round(float(score), 4), round(lag, 3),
                           {c: round(float(x), 4) for c, x in zip(CHANNELS, r)},
                           n, decided, live, evidence)


# ---------------------------------------------------------------------------- calibration

def calibrate_flash(results: list[FlashResult], margin: float = 0.15, amplitude_fraction: float = 0.5,
                    min_sessions: int = 3) -> FlashThresholds:
    """Thresholds from live sessions of the operator on the kiosk's own camera.

    min_score = lowest live score - margin (never below 0.3); min_amplitude = amplitude_fraction
    of the lowest live amplitude; the latency window = the live lags +/- 0.1 s (within 0-0.6 s).
    """
    usable = [r for r in results if r.evidence.get("reason") is None and r.frames > 0]
    if len(usable) < min_sessions:
        raise ValueError(f"need at least {min_sessions} measured live sessions, got {len(usable)}")
    scores = [r.score for r in usable]
    amps = [float(r.evidence.get("amplitude", 0.0)) for r in usable]
    lags = [r.lag_s for r in usable]
    if min(scores) < 0.3:
        raise ValueError(f"a live session scored {min(scores):.2f}: the flash does not reach the face "
                         "(too far, too much ambient light, or the border too small)")
    return FlashThresholds(
        min_score=round(max(0.3, min(scores) - margin), 3),
        min_amplitude=round(amplitude_fraction * min(amps), 4),
        min_lag_s=round(max(0.0, min(lags) - 0.1), 3),
        max_lag_s=round(min(0.6, max(lags) + 0.1), 3),
        calibrated=True,
    )
