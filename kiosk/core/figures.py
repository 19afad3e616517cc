"""The arithmetic of the coordinator's figures, shared by the terminal (kiosk.stats) and the county
hub (kiosk.county.figures) so both count the same way: failure reasons grouped as staff name them,
tries per pass, time-to-certify buckets, rates. Stdlib only; codes, no words."""
from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from typing import Any

# Verdict reasons (kiosk.session) as staff group them; labels: stats_reason_<group> (terminal
# catalogue) and the hub page's own table.
REASON_GROUPS = {
    "timeout": "actions", "slideshow": "liveness", "still_image": "liveness",
    "presentation_attack": "liveness", "face_changed": "liveness", "multiple_faces": "faces",
    "no_face": "faces", "no_match": "no_match", "roster_ambiguous": "needs_staff", "needs_staff": "needs_staff",
    "poor_quality": "quality", "poor_quality_dark": "quality", "poor_quality_blurry": "quality",
    "poor_quality_small": "quality", "poor_quality_not_frontal": "quality", "camera_lost": "interrupted",
    "source_failed": "interrupted", "no_camera": "interrupted", "cancelled": "abandoned",
    "idle_reset": "abandoned", "internal_error": "interrupted", "no_template": "no_template",
    "attempts_exceeded": "no_template",
}
REASON_GROUP_ORDER = ("actions", "liveness", "faces", "no_match", "needs_staff", "quality", "interrupted",
                      "abandoned", "no_template", "other")
TRY_BUCKETS = ("1", "2", "3", "4+")
DURATION_BUCKETS: tuple[tuple[float | None, str], ...] = ((30, "lt30"), (60, "lt60"), (120, "lt120"), (None, "ge120"))


def reason_group(reason: str | None) -> str:
    return REASON_GROUPS.get(reason or "", "other")


def rate(done: int, of: int) -> float | None:
    return round(done / of, 4) if of else None


def quantile(values: list[float], q: float) -> float:
    s = sorted(values)
    if len(s) == 1:
        return s[0]
    pos = q * (len(s) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def tries_per_pass(attempts: Iterable[tuple[str, str | None]]) -> dict[str, Any]:
    """`attempts`: (resident, verdict) in time order. Each pass counts the face checks since that
    resident's previous pass (in the sequence)."""
    counting: Counter[str] = Counter()
    exact: list[int] = []
    for who, verdict in attempts:
        counting[who] += 1
        if verdict == "pass":
            exact.append(counting.pop(who))
    tries = Counter("4+" if n >= 4 else str(n) for n in exact)
    return {"passes": len(exact), "buckets": {b: tries[b] for b in TRY_BUCKETS},
            "first_try_share": rate(tries["1"], len(exact)),
            "mean": round(statistics.fmean(exact), 2) if exact else None}


def time_to_certify(durations: list[float]) -> dict[str, Any]:
    """Seconds from the start of each passing check to its verdict → median, p90 and buckets."""
    buckets: Counter[str] = Counter()
    for s in durations:
        for limit, key in DURATION_BUCKETS:
            if limit is None or s < limit:
                buckets[key] += 1
                break
    return {"passes": len(durations),
            "median_s": round(statistics.median(durations), 1) if durations else None,
            "p90_s": round(quantile(durations, 0.9), 1) if durations else None,
            "buckets": {key: buckets[key] for _, key in DURATION_BUCKETS}}


def failure_reasons(reasons: Iterable[str | None]) -> list[dict[str, Any]]:
    """Failed checks' reasons → [{reason: group, count}], most frequent first."""
    groups = Counter(reason_group(r) for r in reasons)
    return [{"reason": g, "count": n} for g, n in sorted(groups.items(), key=lambda kv: (-kv[1], REASON_GROUP_ORDER.index(kv[0])))]
