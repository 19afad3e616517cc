"""Templates that age with the person: which passes may add their probe to the template set.

After a *strong* pass — the matcher's decision "match" (so no roster ambiguity, every quality and
PAD gate met, never a fallback) with the score `margin` inside the threshold — the terminal adds
the session's fused probe to the person's template set: at most `bound` such embeddings are kept
(the oldest drops), the enrolled ones always stay, each addition is audited (kiosk.store.ageing).
Measured with leave-one-out on the shared photo set before shipping: `python -m
kiosk.matching.ageing_eval` (docs/matching.md, "Templates that age").
"""
from __future__ import annotations

from kiosk.matching.scoring import Matcher, MatchResult

DEFAULT_BOUND = 2  # auto-added embeddings kept per resident and backend
DEFAULT_MARGIN = 2.0  # s-norm units inside the threshold (raw/centred: margin / 40 in distance units)
RAW_PER_SNORM = 40.0  # ~0.025 raw distance per s-norm unit around the operating point


def is_strong(r: MatchResult | None, matcher: Matcher, margin: float = DEFAULT_MARGIN) -> bool:
    """A strong pass: matched and the score `margin` inside the threshold."""
    if r is None or r.decision != "match" or not r.match:
        return False
    if r.method == "snorm":
        return r.score is not None and r.score <= matcher.snorm_threshold - margin
    if r.method == "centred":
        return r.score is not None and r.score <= matcher.centred_threshold - margin / RAW_PER_SNORM
    return r.distance <= matcher.raw_threshold - margin / RAW_PER_SNORM
