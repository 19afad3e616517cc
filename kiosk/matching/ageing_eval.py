"""Do templates that age with the person help? `python -m kiosk.matching.ageing_eval` measures it.

The idea (issue 12, item 5): after a *strong* pass (decision "match", the score well inside the
threshold), the terminal adds the session's probe to the person's template set; at most `bound`
auto-added embeddings are kept (the oldest drops), the enrolled ones always stay. It should lower
the false non-match rate (FNMR) as a face drifts from its enrolment photo, and must not raise the
false match rate (FMR) at the calibrated operating point.

The measurement, leave-one-out on a photo set (default: the shared `faces/images`, person = folder;
`groups.json` for the East-Asian and 60+ impostor groups), with the same matcher, thresholds,
s-norm cohort and roster cross-check the terminal uses (kiosk.matching.scoring.Matcher, the
configured operating point):
- every person with at least 3 photos is enrolled from each of their photos in turn (the enrolled
  template: that one photo); their other photos then arrive as certification attempts, in
  `orders` seeded random orders;
- each attempt is scored twice: against the enrolled template alone (static) and against the
  enrolled template plus what the ageing rule has added so far (ageing); a strong ageing pass then
  adds the probe (bounded);
- at every attempt, every photo of every other person is tried as an impostor against both
  template states (the impostor is not on the roster: the roster cross-check compares with the
  other enrolled people only, the worst case). FMR is per group (both people inside it);
- "impostor strong passes" counts the impostor attempts that would themselves have been added
  to the template (template poisoning), static/ageing.
Roster and s-norm cohort for a claim of person P: every other person's photos (as a terminal's
roster of enrolled residents).

The photo set is not longitudinal (no dates); the other photos of a person stand for later visits
(different years, light and pose). Prints a table; `--json` for the numbers.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from kiosk.arrays import Floats
from kiosk.matching.ageing import is_strong
from kiosk.matching.scoring import Matcher, cohort_from_templates

ALL = "all"


@dataclass(frozen=True)
class Rule:
    strong_margin: float  # s-norm units inside the threshold (raw: distance units when method is raw)
    bound: int  # at most this many auto-added embeddings (oldest dropped)


def _person(path: Path) -> str:
    return Path(path).parent.name


def evaluate(vecs: dict[Path, Floats], groups: dict[str, list[str]], matcher: Matcher, rules: list[Rule],
             orders: int = 3, seed: int = 1234,
             progress: Callable[[str, int, int], None] | None = None) -> dict[str, Any]:
    from kiosk.calibrate import in_group

    names = sorted(vecs)
    persons = sorted({_person(n) for n in names})
    by_person = {p: [n for n in names if _person(n) == p] for p in persons}
    roster = {p: [vecs[n] for n in by_person[p]] for p in persons}
    member = {g: {p for p in persons if in_group(p, pats)} for g, pats in groups.items()}
    group_names = [ALL, *groups]

    def in_grp(g: str, a: str, b: str) -> bool:
        return g == ALL or (a in member[g] and b in member[g])

    others_of = {p: {q: roster[q] for q in persons if q != p} for p in persons}
    cohort_of = {p: cohort_from_templates(others_of[p]) for p in persons}
    imp_others: dict[tuple[str, str], tuple[dict[str, list[Floats]], Floats]] = {}

    def impostor_ctx(p: str, q: str) -> tuple[dict[str, list[Floats]], Floats]:
        if (p, q) not in imp_others:
            o = {r: roster[r] for r in persons if r not in (p, q)}
            imp_others[(p, q)] = (o, cohort_from_templates(o))
        return imp_others[(p, q)]

    # Impostor batteries are many (every photo of every other person, at every template state):
    # scored in bulk with exactly the matcher's arithmetic (s-norm with the k nearest of the
    # cohort, raw cap, roster margin), checked against Matcher.compare on a sample below.
    x = np.array([vecs[n] for n in names])
    who = np.array([_person(n) for n in names])
    pidx = {p: i for i, p in enumerate(persons)}
    d_all = np.linalg.norm(x[:, None, :] - x[None, :, :], axis=2)
    mean_to = np.stack([d_all[:, who == p].mean(axis=1) for p in persons], axis=1)  # photo -> person template
    cohort_k = matcher.cohort_k
    probe_stats: dict[tuple[int, str], tuple[float, float]] = {}

    def cstats(dists: Floats) -> tuple[float, float]:
        d = np.sort(dists)[:cohort_k]
        return float(d.mean()), float(max(d.std(), 1e-6))

    def impostor_battery(p: str, template: list[Floats], rule: Rule) -> dict[str, list[int]]:
        """[accepts, strong accepts, attempts] per group for every other person's photos."""
        out = {g: [0, 0, 0] for g in group_names}
        t = np.asarray(template)
        centre = t.mean(axis=0)
        d_centre = np.linalg.norm(x - centre, axis=1)
        for q in persons:
            if q == p:
                continue
            keep = (who != p) & (who != q)
            mt, st = cstats(d_centre[keep])
            rows = np.flatnonzero(who == q)
            others = [pidx[r] for r in persons if r not in (p, q)]
            for i in rows:
                key = (int(i), p)
                if key not in probe_stats:
                    probe_stats[key] = cstats(d_all[i, keep])
                mp, sp = probe_stats[key]
                d = float(np.linalg.norm(t - x[i], axis=1).mean())
                score = (d - mp) / sp + (d - mt) / st
                ok = score <= matcher.snorm_threshold and d <= matcher.snorm_raw_cap
                nearest = float(mean_to[i, others].min()) if others else float("inf")
                match = bool(ok and nearest - d > matcher.roster_margin)
                strong = match and score <= matcher.snorm_threshold - rule.strong_margin
                for g in group_names:
                    if in_grp(g, p, q):
                        out[g][0] += match
                        out[g][1] += strong
                        out[g][2] += 1
        return out

    def check_bulk_scoring(samples: int = 3) -> None:
        """The bulk impostor scoring must count exactly what Matcher.compare decides."""
        rs = random.Random(seed + 1)
        for _ in range(samples):
            p = rs.choice(persons)
            template = [vecs[n] for n in rs.sample(by_person[p], min(len(by_person[p]), rs.randint(1, 3)))]
            want = 0
            for q in persons:
                if q != p:
                    o, coh = impostor_ctx(p, q)
                    want += sum(matcher.compare(vecs[n], template, cohort=coh, others=o).match for n in by_person[q])
            got = impostor_battery(p, template, Rule(0.0, 1))[ALL][0]
            if got != want:
                raise AssertionError(f"bulk impostor scoring counted {got} accepts, Matcher.compare {want} ({p})")

    if len(x) - 2 * max(len(v) for v in by_person.values()) >= 20:  # s-norm is what the matcher uses
        check_bulk_scoring()
    else:
        raise ValueError("too few photos for an s-norm cohort (the terminal's method)")

    subjects = [p for p in persons if len(by_person[p]) >= 3]
    rng = random.Random(seed)
    plans = []  # (person, enrolled photo, attempt order)
    for p in subjects:
        for e in by_person[p]:
            rest = [n for n in by_person[p] if n != e]
            for _ in range(orders):
                order = rest[:]
                rng.shuffle(order)
                plans.append((p, e, order))
    results = []
    for rule in rules:
        gen_static, gen_ageing, gen_after_add_static, gen_after_add_ageing = [], [], [], []
        added = 0
        imp = {"static": {g: [0, 0, 0] for g in group_names}, "ageing": {g: [0, 0, 0] for g in group_names}}
        cache: dict[tuple[Any, ...], dict[str, list[int]]] = {}
        for step, (p, e, order) in enumerate(plans):
            if progress:
                progress(f"rule {rule}", step + 1, len(plans))
            auto: list[Path] = []
            for probe in order:
                static_t = [vecs[e]]
                ageing_t = static_t + [vecs[a] for a in auto]
                rs = matcher.compare(vecs[probe], static_t, cohort=cohort_of[p], others=others_of[p])
                ra = matcher.compare(vecs[probe], ageing_t, cohort=cohort_of[p], others=others_of[p])
                gen_static.append(rs.match)
                gen_ageing.append(ra.match)
                if auto:
                    gen_after_add_static.append(rs.match)
                    gen_after_add_ageing.append(ra.match)
                for label, key, t in (("static", (p, e), static_t), ("ageing", (p, e, *auto), ageing_t)):
                    if key not in cache:
                        cache[key] = impostor_battery(p, t, rule)
                    for g in group_names:
                        for i in range(3):
                            imp[label][g][i] += cache[key][g][i]
                if is_strong(ra, matcher, rule.strong_margin):
                    auto = (auto + [probe])[-rule.bound:]
                    added += 1

        def rate(xs: list[bool]) -> float:
            return float(1.0 - np.mean(xs)) if xs else float("nan")

        results.append({
            "strong_margin": rule.strong_margin, "bound": rule.bound, "added": added,
            "genuine_attempts": len(gen_static), "attempts_after_an_addition": len(gen_after_add_static),
            "fnmr": {"static": rate(gen_static), "ageing": rate(gen_ageing)},
            "fnmr_after_an_addition": {"static": rate(gen_after_add_static), "ageing": rate(gen_after_add_ageing)},
            "fmr": {s: {g: (v[0] / v[2] if v[2] else float("nan")) for g, v in imp[s].items()} for s in imp},
            "impostor_accepts": {s: {g: v[0] for g, v in imp[s].items()} for s in imp},
            "impostor_strong_passes": {s: {g: v[1] for g, v in imp[s].items()} for s in imp},
            "impostor_attempts": {g: v[2] for g, v in imp["static"].items()},
        })
    return {"people": len(subjects), "photos": len(names), "plans": len(plans), "orders": orders, "seed": seed,
            "matcher": {"method": "snorm" if len(next(iter(cohort_of.values()))) >= 20 else "raw",
                        "snorm_threshold": matcher.snorm_threshold, "snorm_raw_cap": matcher.snorm_raw_cap,
                        "raw_threshold": matcher.raw_threshold, "roster_margin": matcher.roster_margin},
            "groups": group_names, "rules": results}


def _pct(x: float) -> str:
    return "—" if x != x else f"{100 * x:.2f}%"


def format_table(rep: dict[str, Any]) -> str:
    gs = rep["groups"]
    m = rep["matcher"]
    lines = [f"Templates that age: {rep['people']} people with >= 3 photos, {rep['photos']} photos, "
             f"{rep['plans']} enrolment x order plans ({rep['orders']} orders, seed {rep['seed']}); "
             f"matcher {m['method']} <= {m['snorm_threshold']} (raw cap {m['snorm_raw_cap']}), roster margin {m['roster_margin']}",
             "",
             "| strong margin | bound | added | FNMR static → ageing | FNMR after an addition | "
             + " | ".join(f"FMR {g} static → ageing" for g in gs) + " | impostor strong passes (all) |",
             "|" + "---|" * (6 + len(gs))]
    for r in rep["rules"]:
        lines.append(
            f"| {r['strong_margin']} | {r['bound']} | {r['added']} | {_pct(r['fnmr']['static'])} → {_pct(r['fnmr']['ageing'])}"
            f" ({r['genuine_attempts']}) | {_pct(r['fnmr_after_an_addition']['static'])} → "
            f"{_pct(r['fnmr_after_an_addition']['ageing'])} ({r['attempts_after_an_addition']}) | "
            + " | ".join(f"{_pct(r['fmr']['static'][g])} → {_pct(r['fmr']['ageing'][g])}"
                         f" ({r['impostor_accepts']['static'][g]}→{r['impostor_accepts']['ageing'][g]}"
                         f"/{r['impostor_attempts'][g]})" for g in gs)
            + f" | {r['impostor_strong_passes']['static'][ALL]} → {r['impostor_strong_passes']['ageing'][ALL]} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m kiosk.matching.ageing_eval", description=__doc__.splitlines()[0])
    ap.add_argument("--photos", help="photo folder (one sub-folder per person; default $KIOSK_TEST_DATA/faces/images)")
    ap.add_argument("--groups", help="groups.json (default: the one in the photo folder)")
    ap.add_argument("--orders", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--margins", default="0,1,2", help="strong-pass margins inside the s-norm threshold")
    ap.add_argument("--bounds", default="2,4", help="how many auto-added embeddings are kept")
    ap.add_argument("--cache", help="an .npz file keeping the photo embeddings between runs")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    import os

    from kiosk.calibrate import encode_all, load_groups
    from kiosk.config import Settings
    from kiosk.faces import PhotoEncoder
    from kiosk.matching.embedders import make_embedder

    folder = Path(args.photos or Path(os.environ.get("KIOSK_TEST_DATA", "../shared/data")) / "faces" / "images")
    files = sorted(p.resolve() for p in folder.glob("*/*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    if not files:
        print(f"no photos under {folder}", file=sys.stderr)
        return 2
    groups_path = args.groups or (folder / "groups.json" if (folder / "groups.json").is_file() else None)
    settings = Settings.load()
    enc = PhotoEncoder(make_embedder(settings))  # type: ignore[no-untyped-call]
    matcher = Matcher.from_settings(settings, enc.encoder.name)
    cache = Path(args.cache) if args.cache else None
    refused: dict[Path, str] = {}
    if cache is not None and cache.is_file():
        with np.load(cache) as z:
            vecs = {Path(k): z[k] for k in z.files}
    else:
        vecs, refused = encode_all(files, enc)
        if cache is not None:
            np.savez(cache, **{str(k): v for k, v in vecs.items()})
    rules = [Rule(float(m), int(b)) for m in args.margins.split(",") for b in args.bounds.split(",")]
    rep = evaluate(vecs, load_groups(groups_path), matcher, rules, orders=args.orders, seed=args.seed)
    rep["backend"] = enc.encoder.name
    rep["refused"] = len(refused)
    print(json.dumps(rep, ensure_ascii=False) if args.json else format_table(rep), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
