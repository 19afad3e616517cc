"""Comparing a probe with a template, and what "the same person" means.

Two ways to decide, both calibrated with `kiosk calibrate` (see README):
- raw: Euclidean distance between dlib embeddings against a fixed threshold. The library
  default 0.6 accepts ~30% of East-Asian stranger pairs, so our default is far stricter.
- cohort-normalised (s-norm): the distance is compared with the distances of probe and
  template to the K nearest *other* enrolled people (the county's own roster), so a
  probe from a crowded part of face space (people who look alike to dlib, e.g. our
  users) must beat its own neighbours, not a global number. Needs a cohort.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEFAULT_RAW_THRESHOLD = 0.47
DEFAULT_SNORM_THRESHOLD = -4.5
COHORT_K = 20
MIN_COHORT = 20  # fewer other enrolled faces than this: fall back to the raw distance


@dataclass(frozen=True)
class MatchResult:
    match: bool
    distance: float  # smallest distance from the fused probe to the template's embeddings
    threshold: float
    method: str  # "raw" or "snorm"
    score: float | None = None  # s-norm score when method == "snorm" (lower = more alike)

    def to_json(self) -> dict:
        d = {"match": self.match, "distance": round(self.distance, 4), "threshold": self.threshold, "method": self.method}
        if self.score is not None:
            d["score"] = round(self.score, 3)
        return d


def fuse(embeddings: list[np.ndarray]) -> np.ndarray:
    """Several frames of the same face -> one embedding (the mean; averages out pose and blur noise)."""
    return np.mean(np.asarray(embeddings, dtype=np.float64), axis=0)


def template_distance(probe: np.ndarray, template: list[np.ndarray]) -> float:
    return float(min(np.linalg.norm(probe - t) for t in template))


def _cohort_stats(vec: np.ndarray, cohort: np.ndarray, k: int) -> tuple[float, float]:
    d = np.sort(np.linalg.norm(cohort - vec, axis=1))[:k]
    return float(d.mean()), float(max(d.std(), 1e-6))


def snorm_score(distance: float, probe: np.ndarray, template: list[np.ndarray], cohort: np.ndarray,
                k: int = COHORT_K) -> float:
    mp, sp = _cohort_stats(probe, cohort, k)
    mt, st = _cohort_stats(fuse(template), cohort, k)
    return (distance - mp) / sp + (distance - mt) / st


@dataclass(frozen=True)
class Matcher:
    raw_threshold: float = DEFAULT_RAW_THRESHOLD
    snorm_threshold: float = DEFAULT_SNORM_THRESHOLD
    cohort_k: int = COHORT_K

    def compare(self, probe: list[np.ndarray] | np.ndarray, template: list[np.ndarray],
                cohort: np.ndarray | None = None) -> MatchResult:
        """`cohort`: embeddings of other enrolled people (never the claimed person)."""
        p = fuse(probe) if isinstance(probe, list) else np.asarray(probe, dtype=np.float64)
        d = template_distance(p, template)
        if cohort is not None and len(cohort) >= MIN_COHORT:
            s = snorm_score(d, p, template, np.asarray(cohort), self.cohort_k)
            return MatchResult(s <= self.snorm_threshold, d, self.snorm_threshold, "snorm", s)
        return MatchResult(d <= self.raw_threshold, d, self.raw_threshold, "raw")
