"""1:N at enrolment: does a new template set's face already belong to another resident?

A new enrolment's vectors are treated as a certification probe (fused, `scoring.fuse`) that claims
each other resident in turn, and judged with the *same* operating point and decision as 1:1
matching (`scoring.Matcher`: raw threshold, s-norm against the other residents as cohort with its
raw cap, or the centred distance with the county's population statistics). Nothing here is a
library default: the Matcher comes from the calibrated settings of the backend.

The gallery is every other resident's template sets of one backend (`GallerySet`: what counts for
matching, aged embeddings included, and each pending enrolment as a set of its own); a resident's
result is their best (smallest distance) set. Vectorised: one distance per gallery embedding
(a few thousand residents x a few embeddings: one matrix operation), the per-set mean by
`np.bincount`; only the few sets that can pass (raw distance within the method's reach) go through
`Matcher._score` one by one (s-norm needs each candidate's own cohort without them).

Known limit (s-norm's, as in 1:1): a face already enrolled under two or more other residents sits
in the cohort of each claim and can hide them from each other (measured: leaving such look-alikes
out of the cohort multiplied false flags on the shared data's crowded East-Asian faces by ~4, so
the 1:1 logic is kept). The second of those enrolments was flagged when it was made.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from kiosk.arrays import Floats
from kiosk.matching.scoring import MIN_COHORT, Matcher, fuse

NEAREST_KEPT = 3  # the nearest others are reported even when none is within the threshold


@dataclass(frozen=True)
class GallerySet:
    """One template set of another resident: `source` "enrolled" (counted templates + aged ones) or
    "pending" (an enrolment waiting for review)."""

    resident: str
    vectors: list[Floats]
    source: str = "enrolled"


@dataclass(frozen=True)
class Resemblance:
    """Another resident the new face resembles: `within` is the 1:1 decision (a certification of
    this face claiming that resident would pass). `score`: s-norm score or centred distance."""

    resident: str
    distance: float
    within: bool
    method: str
    threshold: float
    score: float | None = None
    source: str = "enrolled"

    def to_json(self) -> dict[str, Any]:
        return {"resident": self.resident, "distance": round(self.distance, 4), "within": self.within,
                "method": self.method, "threshold": self.threshold,
                "score": None if self.score is None else round(self.score, 3), "source": self.source}


class Gallery:
    """The other residents' template sets as one matrix (built once, searched per enrolment)."""

    def __init__(self, sets: list[GallerySet]):
        sets = [s for s in sets if len(s.vectors)]
        self.sets = sets
        self.residents = sorted({s.resident for s in sets})
        index = {r: i for i, r in enumerate(self.residents)}
        self.set_owner = np.array([index[s.resident] for s in sets], dtype=np.int64)
        counts = [len(s.vectors) for s in sets]
        self.set_count = np.array(counts, dtype=np.float64)
        self.row_set = np.repeat(np.arange(len(sets), dtype=np.int64), counts)
        self.row_owner = self.set_owner[self.row_set] if len(sets) else np.empty(0, dtype=np.int64)
        rows = [np.asarray(v, dtype=np.float64).ravel() for s in sets for v in s.vectors]
        self.matrix = np.vstack(rows) if rows else np.empty((0, 0))
        self.sq = np.einsum("ij,ij->i", self.matrix, self.matrix) if rows else np.empty(0)  # squared norms

    def distances(self, probe: Floats) -> Floats:
        """Euclidean distance from `probe` to every gallery embedding: |g|^2 - 2 g.p + |p|^2, one
        matrix-vector product (no M x dim temporary)."""
        p = np.asarray(probe, dtype=np.float64)
        d2 = self.sq - 2.0 * (self.matrix @ p) + float(p @ p)
        out: Floats = np.sqrt(np.maximum(d2, 0.0))
        return out

    def __len__(self) -> int:
        return len(self.residents)

    def cohort_without(self, owners: Floats) -> Floats:
        """Every gallery embedding but these residents': the cohort of a 1:1 claim of one of them."""
        return self.matrix[~np.isin(self.row_owner, owners)]


def resembling(vectors: list[Floats], gallery: Gallery, matcher: Matcher,
               keep_nearest: int = NEAREST_KEPT) -> list[Resemblance]:
    """The residents of `gallery` the face of `vectors` resembles, nearest first: every one within
    the matcher's decision, and the `keep_nearest` nearest in any case."""
    if not len(gallery) or not vectors:
        return []
    probe = fuse(vectors)
    d_rows = gallery.distances(probe)
    n_sets = len(gallery.sets)
    if matcher.fusion == "mean":
        d_sets = np.bincount(gallery.row_set, weights=d_rows, minlength=n_sets) / gallery.set_count
    else:  # the other fusions are for calibration studies; same result, one set at a time
        from kiosk.matching.scoring import template_distance

        d_sets = np.array([template_distance(probe, s.vectors, matcher.fusion) for s in gallery.sets])
    best = np.full(len(gallery), np.inf)
    np.minimum.at(best, gallery.set_owner, d_sets)
    # the best set of each resident (ties: the first)
    best_set = np.full(len(gallery), -1, dtype=np.int64)
    for i in np.flatnonzero(d_sets <= best[gallery.set_owner]):
        o = gallery.set_owner[i]
        if best_set[o] < 0:
            best_set[o] = i
    method = matcher._method(gallery.matrix)  # as 1:1 with the roster as cohort (per claim: below)
    if method == "snorm":
        reach = np.flatnonzero(best <= matcher.snorm_raw_cap)  # s-norm never accepts beyond the raw cap
    elif method == "raw":
        reach = np.flatnonzero(best <= matcher.raw_threshold)
    else:  # centred: no raw cap, every resident is scored
        reach = np.arange(len(gallery))
    order = np.argsort(best, kind="stable")
    candidates = list(dict.fromkeys([int(i) for i in reach] + [int(i) for i in order[:keep_nearest]]))
    threshold = {"snorm": matcher.snorm_threshold, "centred": matcher.centred_threshold}.get(method,
                                                                                            matcher.raw_threshold)
    out: list[Resemblance] = []
    in_reach = set(int(i) for i in reach)
    for o in candidates:
        s = gallery.sets[int(best_set[o])]
        if o not in in_reach:  # beyond the method's reach: cannot pass; reported with its distance only
            out.append(Resemblance(gallery.residents[o], float(best[o]), False, method, threshold, None, s.source))
            continue
        cohort = gallery.cohort_without(np.array([o])) if method == "snorm" else None  # as 1:1: all but the claimed
        if method == "snorm" and len(cohort) < MIN_COHORT:  # type: ignore[arg-type]
            d, score, ok = matcher._score("raw", probe, s.vectors, None)
            m, t = "raw", matcher.raw_threshold
        else:
            d, score, ok = matcher._score(method, probe, s.vectors, cohort)
            m, t = method, threshold
        out.append(Resemblance(gallery.residents[o], d, bool(ok), m, t, score, s.source))
    out.sort(key=lambda r: (not r.within, r.distance))
    within = [r for r in out if r.within]
    return within + [r for r in out if not r.within][:max(0, keep_nearest - len(within))]

