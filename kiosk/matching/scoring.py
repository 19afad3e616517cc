"""Comparing a probe with a template, and what "the same person" means.

A template is several embeddings of one person (several enrolment photos or good
frames); the probe (one or several frames, fused by their mean) is compared with each
and the distances are averaged (`template_distance`, fusion "mean"). Measured with
leave-one-out on the shared photo set (docs/matching.md), the mean of the distances beat the
nearest photo, the mean of the 2 nearest and the distance to the (normalised) mean
embedding, and it keeps the scale of a single photo-to-photo distance, so one set of
thresholds serves one-photo and many-photo templates alike.

Two ways to decide, both calibrated with `kiosk calibrate` (see docs/matching.md):
- raw: the fused Euclidean distance against a fixed threshold. The library default 0.6
  accepts ~30% of East-Asian stranger pairs, so our default is far stricter.
- cohort-normalised (s-norm): the distance is compared with the distances of probe and
  template to the K nearest *other* enrolled people (the terminal's own roster,
  `cohort_from_templates`), so a probe from a crowded part of face space (people who
  look alike to dlib, e.g. our users) must beat its own neighbours, not a global
  number. A raw cap still applies: s-norm never accepts a far pair from a sparse region.

- centred: without a usable roster cohort but with the county's population statistics
  (`kiosk.matching.population`, the mean of its roster's templates), the cosine distance
  between probe and template after subtracting the population mean.

Roster cross-check: when the templates of the other residents are given (`others`) and
the probe passes for the claimed person but is about as close (within `roster_margin`,
raw distance) to another resident, the decision is "roster_ambiguous": staff decide.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from kiosk.arrays import Floats

if TYPE_CHECKING:
    from kiosk.config import Settings
    from kiosk.matching.population import PopulationStats

DEFAULT_RAW_THRESHOLD = 0.47
DEFAULT_SNORM_THRESHOLD = -4.0
DEFAULT_SNORM_RAW_CAP = 0.55
DEFAULT_ROSTER_MARGIN = 0.02
DEFAULT_CENTRED_THRESHOLD = 0.42
COHORT_K = 20
MIN_COHORT = 20  # fewer other enrolled faces than this: fall back to the raw distance
FUSIONS = ("mean", "nearest", "mean2", "centroid")
DECISIONS = ("match", "no_match", "roster_ambiguous")


@dataclass(frozen=True)
class MatchResult:
    match: bool  # True only when decision == "match"
    distance: float  # fused distance from the probe to the claimed person's template
    threshold: float
    method: str  # "raw", "snorm" or "centred"
    score: float | None = None  # s-norm score / centred cosine distance (lower = more alike)
    decision: str = ""  # match | no_match | roster_ambiguous ("" -> derived from `match`)
    nearest_other: str | None = None  # masked id of the closest other resident (never in clear)
    nearest_other_distance: float | None = None
    nearest_other_score: float | None = None  # that resident's score, when method != "raw"
    margin: float | None = None  # nearest_other_distance - distance (raw distance units)
    roster_margin: float | None = None  # the margin the decision used
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if not self.decision:
            object.__setattr__(self, "decision", "match" if self.match else "no_match")
        if self.decision not in DECISIONS:
            raise ValueError(f"unknown decision {self.decision!r}")
        if self.match != (self.decision == "match"):
            raise ValueError("match must be True exactly when decision == 'match'")

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"match": self.match, "distance": round(self.distance, 4), "threshold": self.threshold, "method": self.method}
        if self.score is not None:
            d["score"] = round(self.score, 3)
        if self.nearest_other_distance is not None:
            d.update(decision=self.decision, nearest_other=self.nearest_other,
                     nearest_other_distance=round(self.nearest_other_distance, 4),
                     margin=None if self.margin is None else round(self.margin, 4), roster_margin=self.roster_margin)
            if self.nearest_other_score is not None:
                d["nearest_other_score"] = round(self.nearest_other_score, 3)
        return d


def fuse(embeddings: list[Floats]) -> Floats:
    """Several frames of the same face -> one embedding (the mean; averages out pose and blur noise)."""
    fused: Floats = np.mean(np.asarray(embeddings, dtype=np.float64), axis=0)
    return fused


def template_distance(probe: Floats, template: list[Floats], fusion: str = "mean") -> float:
    """Distance from one (fused) probe embedding to a multi-embedding template.

    mean: mean of the distances to each template embedding (default, best measured);
    nearest: the smallest; mean2: mean of the 2 smallest; centroid: to the mean embedding.
    """
    t = np.asarray(template, dtype=np.float64).reshape(len(template), -1)
    if len(t) == 0:
        raise ValueError("empty template")
    p = np.asarray(probe, dtype=np.float64)
    if fusion == "centroid":
        return float(np.linalg.norm(p - t.mean(axis=0)))
    d = np.sort(np.linalg.norm(t - p, axis=1))
    if fusion == "mean":
        return float(d.mean())
    if fusion == "nearest":
        return float(d[0])
    if fusion == "mean2":
        return float(d[:2].mean())
    raise ValueError(f"unknown fusion {fusion!r}")


def cohort_from_templates(templates: dict[str, list[Floats]], exclude: str | set[str] | None = None) -> Floats:
    """The cohort array (one row per template embedding) from a roster dict such as
    `Store.all_templates(backend)`, without the claimed person (`exclude`)."""
    skip = {exclude} if isinstance(exclude, str) else set(exclude or ())
    rows = [np.asarray(v, dtype=np.float64) for rid, vecs in templates.items() if rid not in skip for v in vecs]
    if not rows:
        return np.empty((0, 0))
    return np.vstack(rows)


def _cohort_stats(vec: Floats, cohort: Floats, k: int) -> tuple[float, float]:
    d = np.sort(np.linalg.norm(cohort - vec, axis=1))[:k]
    return float(d.mean()), float(max(d.std(), 1e-6))


def snorm_score(distance: float, probe: Floats, template: list[Floats], cohort: Floats,
                k: int = COHORT_K) -> float:
    mp, sp = _cohort_stats(probe, cohort, k)
    mt, st = _cohort_stats(fuse(template), cohort, k)
    return (distance - mp) / sp + (distance - mt) / st


def _mask(rid: str) -> str:
    try:
        from kiosk.core.ids import mask_id

        return mask_id(rid)
    except Exception:  # not an ID number (tests, simulations): hide all but the last 2 characters
        return "*" * max(0, len(rid) - 2) + rid[-2:]


@dataclass(frozen=True)
class Matcher:
    raw_threshold: float = DEFAULT_RAW_THRESHOLD
    snorm_threshold: float = DEFAULT_SNORM_THRESHOLD
    cohort_k: int = COHORT_K
    snorm_raw_cap: float = DEFAULT_SNORM_RAW_CAP
    roster_margin: float = DEFAULT_ROSTER_MARGIN
    fusion: str = "mean"
    centred_threshold: float = DEFAULT_CENTRED_THRESHOLD
    population: PopulationStats | None = field(default=None, compare=False)

    @classmethod
    def from_settings(cls, settings: Settings, backend: str) -> "Matcher":
        """The calibrated operating point of `backend` (kiosk.config.Settings.matching)."""
        params = settings.matching(backend)
        if params is None:
            from kiosk.matching.embedders import EmbedderError

            raise EmbedderError("not_calibrated", backend=backend)
        population = None
        if getattr(settings, "population_stats_path", ""):
            from kiosk.matching.population import load

            population = load(settings.population_stats_path, backend)
        return cls(raw_threshold=float(params["raw_threshold"]), snorm_threshold=float(params["snorm_threshold"]),
                   snorm_raw_cap=float(params.get("snorm_raw_cap", DEFAULT_SNORM_RAW_CAP)),
                   roster_margin=float(params.get("roster_margin", DEFAULT_ROSTER_MARGIN)),
                   centred_threshold=float(params.get("centred_threshold", DEFAULT_CENTRED_THRESHOLD)),
                   population=population)

    def _method(self, cohort: Floats | None) -> str:
        if cohort is not None and len(cohort) >= MIN_COHORT:
            return "snorm"
        return "centred" if self.population is not None else "raw"

    def _score(self, method: str, p: Floats, template: list[Floats], cohort: Floats | None) -> tuple[float, float | None, bool]:
        d = template_distance(p, template, self.fusion)
        if method == "snorm":
            assert cohort is not None, "snorm is chosen only with a cohort"
            s = snorm_score(d, p, template, cohort, self.cohort_k)
            return d, s, (s <= self.snorm_threshold and d <= self.snorm_raw_cap)
        if method == "centred":
            from kiosk.matching.population import centred_template_distance

            assert self.population is not None, "centred is chosen only with population statistics"
            s = centred_template_distance(p, template, self.population)
            return d, s, s <= self.centred_threshold
        return d, None, d <= self.raw_threshold

    def compare(self, probe: list[Floats] | Floats, template: list[Floats],
                cohort: Floats | None = None, others: dict[str, list[Floats]] | None = None) -> MatchResult:
        """`cohort`: embeddings of other enrolled people (never the claimed person); when None and
        `others` is given, the cohort is built from `others`. `others`: templates of the other
        enrolled residents (claimed excluded) for the roster cross-check."""
        p = fuse(probe) if isinstance(probe, list) else np.asarray(probe, dtype=np.float64)
        others = {k: v for k, v in (others or {}).items() if len(v)}
        if cohort is None and others:
            cohort = cohort_from_templates(others)
        cohort = np.asarray(cohort, dtype=np.float64) if cohort is not None else None
        method = self._method(cohort)
        d, s, ok = self._score(method, p, template, cohort)
        threshold = {"snorm": self.snorm_threshold, "centred": self.centred_threshold}.get(method, self.raw_threshold)
        if not others:
            return MatchResult(bool(ok), d, threshold, method, s)
        dist = {rid: template_distance(p, vecs, self.fusion) for rid, vecs in others.items()}
        nearest = min(dist, key=dist.__getitem__)
        d_o = dist[nearest]
        s_o = self._score(method, p, others[nearest], cohort)[1]
        margin = d_o - d
        if not ok:
            decision = "no_match"
        elif margin <= self.roster_margin:
            decision = "roster_ambiguous"
        else:
            decision = "match"
        return MatchResult(decision == "match", d, threshold, method, s, decision, _mask(nearest), d_o, s_o,
                           margin, self.roster_margin)
