"""Benchmark of the duplicate-face check at enrolment (kiosk.dupface): a village store of N residents.

    uv run python -m kiosk.dupface_bench [--residents 5000] [--per 5] [--repeat 5] [--json]

Builds a real store in a temporary folder (sealed templates, PER embeddings per resident), then
times (1) opening every other resident's templates from the store (kiosk.store.gallery: decrypt,
aged and pending sets) and (2) the 1:N comparison of a new 8-frame enrolment
(kiosk.matching.duplicates with the shipped dlib operating point: s-norm with the roster as cohort).

The embeddings are made up, not faces: 128-d vectors of dlib's length (~0.95) in random directions
(strangers ~1.3 apart; dlib's real strangers are nearer, 0.5-0.9, so in a real village a few more
residents reach the per-candidate s-norm step, a few ms each), and one resident has the new face (so the s-norm path
runs for it, as for a real duplicate). Speed does not depend on whose faces they are; what the
check finds on real faces is measured in tests/test_dupface.py on the shared face data.
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from kiosk.core.ids import check_digit

BACKEND = "dlib-128"
DIM = 128


def _id(i: int) -> str:
    birth = date(1930, 1, 1) + timedelta(days=i // 900)
    body = f"130630{birth:%Y%m%d}{i % 900 + 100:03d}"
    return body + check_digit(body)


def _face(rng: np.random.Generator, centre: np.ndarray | None = None, n: int = 5) -> list[np.ndarray]:
    """n embeddings of one made-up face: a point on the sphere (or `centre`), frames ~0.2-0.3 apart."""
    if centre is None:
        centre = rng.normal(size=DIM)
        centre /= np.linalg.norm(centre)
    out = []
    for _ in range(n):
        v = centre + rng.normal(scale=0.2 / np.sqrt(DIM), size=DIM)
        out.append((v / np.linalg.norm(v) * 0.95).astype(np.float64))
    return out


def build_store(folder: Path, residents: int, per: int, seed: int = 0):
    from kiosk.store import Store

    rng = np.random.default_rng(seed)
    store = Store.open(folder / "kiosk.db", folder / "template.key")
    probe_face = rng.normal(size=DIM)
    probe_face /= np.linalg.norm(probe_face)
    with store.transaction():
        for i in range(residents):
            rid = _id(i)
            store.upsert_resident(rid, f"resident {i}", village="village 1", categories=["pension"])
            centre = probe_face if i == 0 else None  # one resident has the new enrolment's face
            for v in _face(rng, centre, per):
                store.add_template(rid, v, BACKEND, source="county")
    newcomer = _id(residents)
    store.upsert_resident(newcomer, "newcomer", village="village 1", categories=["pension"])
    return store, newcomer, _face(rng, probe_face, 8)


def run(residents: int, per: int, repeat: int) -> dict:
    from kiosk.config import Settings
    from kiosk.matching.duplicates import Gallery, resembling
    from kiosk.matching.scoring import Matcher
    from kiosk.store.gallery import other_sets

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        store, newcomer, vectors = build_store(Path(tmp), residents, per)
        built = time.perf_counter() - t0
        matcher = Matcher.from_settings(Settings(), BACKEND)
        load, match = [], []
        hits = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            gallery = Gallery(other_sets(store, BACKEND, exclude=newcomer))
            t1 = time.perf_counter()
            hits = resembling(vectors, gallery, matcher)
            t2 = time.perf_counter()
            load.append(t1 - t0)
            match.append(t2 - t1)
        store.close()
    return {"residents": residents, "embeddings_per_resident": per, "gallery_rows": residents * per,
            "store_build_s": round(built, 2), "load_median_s": round(statistics.median(load), 3),
            "match_median_s": round(statistics.median(match), 4),
            "total_median_s": round(statistics.median(a + b for a, b in zip(load, match)), 3),
            "method": hits[0].method if hits else None, "flagged": sum(h.within for h in hits)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m kiosk.dupface_bench", description=__doc__.splitlines()[0])
    p.add_argument("--residents", type=int, default=5000)
    p.add_argument("--per", type=int, default=5, help="embeddings per resident's template")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--json", action="store_true")
    a = p.parse_args(argv)
    out = run(a.residents, a.per, a.repeat)
    if a.json:
        print(json.dumps(out, ensure_ascii=False))
    else:
        print(f"{out['residents']} residents x {out['embeddings_per_resident']} embeddings: open the store's templates "
              f"{out['load_median_s']} s + 1:N {out['match_median_s']} s = {out['total_median_s']} s per enrolment "
              f"(median of {a.repeat}; {out['method']}, {out['flagged']} flagged: the one with the same face)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
