"""`kiosk calibrate`: false match / false non-match rates per group, and the operating point.

Input: a pairs CSV (`file_a,file_b,label` with label same/different, or `probe,template[,label]`;
paths relative to the CSV; without a label, two files are the same person when they sit in the
same folder) and optionally `groups.json` ({group: [folder shell patterns]}; a pair is inside a
group when both people are in it). Each photo is encoded once.

Methods:
- raw: fused distance <= threshold.
- snorm: cohort s-norm <= threshold (and raw distance <= the raw cap), the cohort being every
  encoded photo of the *other* people (never the two in the pair), as a terminal scores against
  its own roster.
- centred: cosine distance after subtracting the population mean (kiosk.matching.population), the
  mean being computed from the *other* people, as a county computes it from its roster.

`--loo` adds the multi-image template figures (leave-one-out: each photo against the person's
other photos; impostors: each photo against every other person's full template) for each
template fusion, and the roster cross-check (each attempt with every other person enrolled).
"""
from __future__ import annotations

import csv
import fnmatch
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kiosk.matching.scoring import (COHORT_K, FUSIONS, Matcher, _cohort_stats, template_distance)

ALL = "all"


@dataclass
class PairSet:
    files: list[Path]  # every photo named in the CSV (resolved)
    pairs: list[tuple[Path, Path, bool]]  # (a, b, same person)


def person_of(path: Path) -> str:
    return Path(path).parent.name


def read_pairs(path: str | Path) -> PairSet:
    p = Path(path)
    with p.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise ValueError("empty pairs file")
    cols = set(rows[0])
    if {"file_a", "file_b"} <= cols:
        ka, kb = "file_a", "file_b"
    elif {"probe", "template"} <= cols:
        ka, kb = "probe", "template"
    else:
        raise ValueError("pairs file needs columns file_a,file_b[,label] or probe,template[,label]")
    base = p.parent
    pairs = []
    for r in rows:
        a, b = (base / r[ka]).resolve(), (base / r[kb]).resolve()
        label = (r.get("label") or "").strip().lower()
        same = label in ("same", "1", "true", "genuine") if label else person_of(a) == person_of(b)
        pairs.append((a, b, same))
    files = sorted({x for a, b, _ in pairs for x in (a, b)})
    return PairSet(files, pairs)


def load_groups(path: str | Path | None) -> dict[str, list[str]]:
    if not path:
        return {}
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return {k: list(v) for k, v in data.items() if not k.startswith("_") and isinstance(v, list)}


def in_group(person: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatch(person, pat) for pat in patterns)


def encode_all(files: list[Path], photo_encoder, progress=None) -> tuple[dict[Path, np.ndarray], dict[Path, str]]:
    from kiosk.faces import PhotoError

    vecs, refused = {}, {}
    it = progress(files, len(files), "encode") if progress else files
    for f in it:
        try:
            vecs[f] = photo_encoder.encode_file(f)
        except PhotoError as e:
            refused[f] = e.code
    return vecs, refused


# ------------------------------------------------------------------ photo vs photo
@dataclass
class Scores:
    genuine: np.ndarray  # bool per pair
    raw: np.ndarray
    snorm: np.ndarray | None
    group: dict[str, np.ndarray]  # group -> bool per pair (both people inside); always has "all"
    centred: np.ndarray | None = None


class _PersonMeans:
    """Population means (mean of per-person means) leaving out one or two people, in O(1) each."""

    def __init__(self, x: np.ndarray, persons: np.ndarray):
        self.people = sorted(set(persons))
        self.means = {p: x[persons == p].mean(axis=0) for p in self.people}
        self.total = np.sum(list(self.means.values()), axis=0)

    def without(self, *people: str) -> np.ndarray:
        out = set(people)
        return (self.total - sum(self.means[p] for p in out)) / (len(self.people) - len(out))


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


def pair_scores(vecs: dict[Path, np.ndarray], pairs: list[tuple[Path, Path, bool]], groups: dict[str, list[str]],
                with_snorm: bool = True, k: int = COHORT_K, with_centred: bool = False) -> Scores:
    keep = [(a, b, s) for a, b, s in pairs if a in vecs and b in vecs and a != b]
    names = sorted(vecs)
    index = {n: i for i, n in enumerate(names)}
    x = np.array([vecs[n] for n in names])
    persons = np.array([person_of(n) for n in names])
    ia = np.array([index[a] for a, _, _ in keep], dtype=int)
    ib = np.array([index[b] for _, b, _ in keep], dtype=int)
    raw = np.linalg.norm(x[ia] - x[ib], axis=1)
    sn = None
    if with_snorm:
        dist = np.linalg.norm(x[:, None, :] - x[None, :, :], axis=2)
        sn = np.empty(len(keep))
        cache: dict[tuple[int, str, str], tuple[float, float]] = {}

        def stats(i: int, pa: str, pb: str) -> tuple[float, float]:
            key = (i, *sorted((pa, pb)))
            if key not in cache:
                d = np.sort(dist[i, (persons != pa) & (persons != pb)])[:k]
                cache[key] = (float(d.mean()), float(max(d.std(), 1e-6)))
            return cache[key]

        for n, (i, j) in enumerate(zip(ia, ib)):
            ma, sa = stats(i, persons[i], persons[j])
            mb, sb = stats(j, persons[i], persons[j])
            sn[n] = (raw[n] - ma) / sa + (raw[n] - mb) / sb
    cen = None
    if with_centred:
        pm = _PersonMeans(x, persons)
        cen = np.empty(len(keep))
        for n, (i, j) in enumerate(zip(ia, ib)):
            mu = pm.without(persons[i], persons[j])
            cen[n] = 1.0 - float(_unit(x[i] - mu) @ _unit(x[j] - mu))
    grp = {ALL: np.ones(len(keep), bool)}
    for g, pats in groups.items():
        member = {p: in_group(p, pats) for p in set(persons)}
        grp[g] = np.array([member[persons[i]] and member[persons[j]] for i, j in zip(ia, ib)], dtype=bool)
    return Scores(np.array([s for _, _, s in keep], dtype=bool), raw, sn, grp, cen)


def rates(accept: np.ndarray, genuine: np.ndarray, group: dict[str, np.ndarray]) -> dict:
    out = {"fnmr": float(np.mean(~accept[genuine])) if genuine.any() else float("nan"), "fmr": {}}
    for g, m in group.items():
        imp = ~genuine & m
        out["fmr"][g] = float(np.mean(accept[imp])) if imp.any() else float("nan")
    return out


def accept_mask(scores: Scores, method: str, threshold: float, raw_cap: float) -> np.ndarray:
    if method == "raw":
        return scores.raw <= threshold
    if method == "centred":
        return scores.centred <= threshold
    return (scores.snorm <= threshold) & (scores.raw <= raw_cap)


def threshold_for_target(scores: Scores, method: str, target_fmr: float, group_fmr: float | None = None,
                         raw_cap: float = 9.0) -> float | None:
    """The most lenient threshold whose FMR is <= target overall and <= group_fmr (default: the same
    target) inside every group (halfway to the next impostor score). None without impostor pairs."""
    group_fmr = target_fmr if group_fmr is None else group_fmr
    s = {"raw": scores.raw, "snorm": scores.snorm, "centred": scores.centred}[method]
    imp = ~scores.genuine
    cands = np.unique(s[imp])
    best = None
    lo, hi = 0, len(cands) - 1
    # FMR grows monotonically with the threshold: binary search the last candidate that meets all targets.
    while lo <= hi:
        mid = (lo + hi) // 2
        r = rates(accept_mask(scores, method, cands[mid], raw_cap), scores.genuine, scores.group)["fmr"]
        ok = all((r[g] <= (target_fmr if g == ALL else group_fmr)) or np.isnan(r[g]) for g in r)
        if ok:
            best, lo = float(cands[mid]), mid + 1
        else:
            hi = mid - 1
    if len(cands) == 0:
        return None
    if best is None:  # not even one impostor may pass: just below the weakest impostor
        below = s[s < cands[0]]
        return float((cands[0] + below.max()) / 2) if len(below) else float(cands[0] - 1e-3)
    # Just below the next impostor score: every threshold up to there gives the same rates.
    nxt = cands[cands > best]
    return float((best + nxt[0]) / 2) if len(nxt) else best


def default_grid(method: str) -> list[float]:
    if method == "raw":
        return [0.40, 0.42, 0.44, 0.45, 0.46, 0.47, 0.48, 0.50, 0.55, 0.60]
    if method == "centred":
        return [0.34, 0.36, 0.38, 0.40, 0.42, 0.44, 0.46, 0.50]
    return [-6.0, -5.5, -5.0, -4.5, -4.25, -4.0, -3.75, -3.5, -3.0]


# ------------------------------------------------------------------ leave-one-out templates, roster
def leave_one_out(vecs: dict[Path, np.ndarray], groups: dict[str, list[str]], matcher: Matcher,
                  margins: tuple[float, ...] = (0.0, 0.01, 0.02, 0.03, 0.04, 0.06, 0.08, 0.10)) -> dict:
    """Multi-image templates: every fusion with raw and s-norm decisions, and the roster cross-check
    (with the matcher's fusion) at several margins. Roster: every other person enrolled, the probe's
    own person enrolled with the other photos only (never the probe photo itself)."""
    names = sorted(vecs)
    persons = sorted({person_of(n) for n in names})
    by_person = {p: [n for n in names if person_of(n) == p] for p in persons}
    member = {g: {p for p in persons if in_group(p, pats)} for g, pats in groups.items()}
    cohort_all = {p: np.array([vecs[n] for n in by_person[p]]) for p in persons}
    attempts = []  # (probe name, claimed person, genuine)
    for n in names:
        for c in persons:
            tmpl = [m for m in by_person[c] if m != n]
            if tmpl:
                attempts.append((n, c, person_of(n) == c))
    gen = np.array([a[2] for a in attempts])
    grp = {ALL: np.ones(len(attempts), bool)}
    for g in groups:
        grp[g] = np.array([person_of(n) in member[g] and c in member[g] for n, c, _ in attempts])
    result = {"attempts": {"genuine": int(gen.sum()), "impostor": {g: int((~gen & m).sum()) for g, m in grp.items()}},
              "fusions": {}}
    # cohort stats per (vector key, excluded persons) are shared by all fusions
    stat_cache: dict = {}

    def cstats(key, vec, excl: tuple[str, ...]):
        ck = (key, excl)
        if ck not in stat_cache:
            coh = np.vstack([cohort_all[p] for p in persons if p not in excl])
            stat_cache[ck] = _cohort_stats(vec, coh, matcher.cohort_k)
        return stat_cache[ck]

    per_fusion_raw = {}
    pm = _PersonMeans(np.array([vecs[n] for n in names]), np.array([person_of(n) for n in names]))
    centred_result = None
    for fusion in FUSIONS:
        raw, sn = np.empty(len(attempts)), np.empty(len(attempts))
        for i, (n, c, _) in enumerate(attempts):
            tmpl_names = [m for m in by_person[c] if m != n]
            tmpl = [vecs[m] for m in tmpl_names]
            d = template_distance(vecs[n], tmpl, fusion)
            excl = tuple(sorted({person_of(n), c}))
            mp, sp = cstats(n, vecs[n], excl)
            mt, st = cstats(("T", c, tuple(tmpl_names)), np.mean(tmpl, axis=0), excl)
            raw[i], sn[i] = d, (d - mp) / sp + (d - mt) / st
        per_fusion_raw[fusion] = raw
        if fusion == "mean":
            cen = np.empty(len(attempts))
            for i, (n, c, _) in enumerate(attempts):
                mu = pm.without(*{person_of(n), c})
                t = _unit(np.array([vecs[m] for m in by_person[c] if m != n]) - mu)
                cen[i] = float(np.mean(1.0 - t @ _unit(vecs[n] - mu)))
            acc_cen = cen <= matcher.centred_threshold
            centred_result = {"threshold": matcher.centred_threshold, **rates(acc_cen, gen, grp)}
        acc_raw = raw <= matcher.raw_threshold
        acc_sn = (sn <= matcher.snorm_threshold) & (raw <= matcher.snorm_raw_cap)
        result["fusions"][fusion] = {
            "raw": {"threshold": matcher.raw_threshold, **rates(acc_raw, gen, grp)},
            "snorm": {"threshold": matcher.snorm_threshold, "raw_cap": matcher.snorm_raw_cap, **rates(acc_sn, gen, grp)},
        }
        if fusion == matcher.fusion:
            accepted = {"raw": acc_raw, "snorm": acc_sn}
    # Roster cross-check with the matcher's fusion: nearest other enrolled person (not the claimed one).
    raw = per_fusion_raw[matcher.fusion]
    nearest_other = np.empty(len(attempts))
    for i, (n, c, _) in enumerate(attempts):
        best = np.inf
        for p in persons:
            if p == c:
                continue
            tmpl = [vecs[m] for m in by_person[p] if m != n]
            if tmpl:
                best = min(best, template_distance(vecs[n], tmpl, matcher.fusion))
        nearest_other[i] = best
    roster = {}
    for method, acc in accepted.items():
        rows = []
        for mg in margins:
            ambiguous = acc & (nearest_other - raw <= mg)
            rows.append({"margin": mg,
                         "genuine_to_staff": float(np.mean(ambiguous[gen])),
                         "genuine_accepted": float(np.mean((acc & ~ambiguous)[gen])),
                         "impostor_accepts_before": int((acc & ~gen).sum()),
                         "impostor_accepts_caught": int((ambiguous & ~gen).sum()),
                         "fmr_after": {g: float(np.mean((acc & ~ambiguous)[~gen & m])) for g, m in grp.items()}})
        roster[method] = rows
    result["roster"] = roster
    result["centred"] = centred_result  # mean fusion, population mean from the other people
    return result


# ------------------------------------------------------------------ the command
def run(pairs_path: str, groups_path: str | None, target_fmr: float, group_fmr: float | None, method: str,
        all_pairs: bool, loo: bool, photo_encoder, matcher: Matcher, progress=None,
        thresholds: list[float] | None = None) -> dict:
    ps = read_pairs(pairs_path)
    groups = load_groups(groups_path)
    vecs, refused = encode_all(ps.files, photo_encoder, progress)
    pairs = ps.pairs
    if all_pairs:
        names = sorted(vecs)
        pairs = [(a, b, person_of(a) == person_of(b)) for i, a in enumerate(names) for b in names[i + 1:]]
    methods = ["raw", "snorm", "centred"] if method == "all" else [method]
    scores = pair_scores(vecs, pairs, groups, with_snorm="snorm" in methods, k=matcher.cohort_k,
                         with_centred="centred" in methods)
    out = {"backend": getattr(photo_encoder.encoder, "name", "?"), "photos": len(ps.files), "encoded": len(vecs),
           "refused": {str(k.relative_to(Path(pairs_path).resolve().parent)) if k.is_relative_to(Path(pairs_path).resolve().parent) else str(k): v
                       for k, v in refused.items()},
           "pairs": {"genuine": int(scores.genuine.sum()),
                     "impostor": {g: int((~scores.genuine & m).sum()) for g, m in scores.group.items()}},
           "target_fmr": target_fmr, "group_fmr": group_fmr if group_fmr is not None else target_fmr,
           "methods": {}}
    for m in methods:
        grid = thresholds if thresholds else default_grid(m)
        table = [{"threshold": t, **rates(accept_mask(scores, m, t, matcher.snorm_raw_cap), scores.genuine, scores.group)}
                 for t in grid]
        thr = threshold_for_target(scores, m, target_fmr, group_fmr, matcher.snorm_raw_cap)
        op = None
        if thr is not None:
            op = {"threshold": round(thr, 4), **rates(accept_mask(scores, m, thr, matcher.snorm_raw_cap), scores.genuine,
                                                      scores.group)}
        shipped = {"raw": matcher.raw_threshold, "snorm": matcher.snorm_threshold, "centred": matcher.centred_threshold}[m]
        out["methods"][m] = {"table": table, "target_threshold": op,
                             "configured": {"threshold": shipped, **rates(accept_mask(scores, m, shipped, matcher.snorm_raw_cap),
                                                                          scores.genuine, scores.group)}}
        if m == "snorm":
            out["methods"][m]["raw_cap"] = matcher.snorm_raw_cap
    if loo:
        out["leave_one_out"] = leave_one_out(vecs, groups, matcher)
    return out


def _pct(x: float, digits: int = 2) -> str:
    return "—" if x != x else f"{100 * x:.{digits}f}%"


def format_report(rep: dict) -> str:
    groups = list(rep["pairs"]["impostor"])
    from kiosk.texts import text

    lines = [text("calib_photos", backend=rep["backend"], encoded=rep["encoded"], photos=rep["photos"])
             + (text("calib_refused", n=len(rep["refused"])) if rep["refused"] else ""),
             text("calib_pairs", genuine=rep["pairs"]["genuine"], impostor=text("calib_sep").join(
                 f"{g} {n}" for g, n in rep["pairs"]["impostor"].items()))]
    for m, r in rep["methods"].items():
        head = f"| {m} threshold | FNMR ({rep['pairs']['genuine']} genuine) | " + " | ".join(
            f"FMR {g} ({rep['pairs']['impostor'][g]})" for g in groups) + " |"
        lines += ["", head, "|" + "---|" * (2 + len(groups))]
        rows = [(f"{row['threshold']}", row) for row in r["table"]]
        rows.append((f"**{r['configured']['threshold']} (configured)**", r["configured"]))
        if r["target_threshold"]:
            rows.append((f"**{r['target_threshold']['threshold']} (target)**", r["target_threshold"]))
        for label, row in rows:
            lines.append(f"| {label} | {_pct(row['fnmr'], 1)} | " + " | ".join(_pct(row["fmr"][g]) for g in groups) + " |")
        if m == "snorm":
            lines.append(f"(s-norm also requires raw distance <= {r['raw_cap']})")
        if not r["target_threshold"]:
            lines.append(f"{m}: no threshold meets the target FMR in every group")
    loo = rep.get("leave_one_out")
    if loo:
        a = loo["attempts"]
        lines += ["", f"Leave-one-out templates: {a['genuine']} genuine attempts; impostor attempts "
                  + ", ".join(f"{g} {n}" for g, n in a["impostor"].items()),
                  "| fusion | method | FNMR | " + " | ".join(f"FMR {g}" for g in groups) + " |", "|" + "---|" * (3 + len(groups))]
        for f, r in loo["fusions"].items():
            for m in ("raw", "snorm"):
                x = r[m]
                lines.append(f"| {f} | {m} ≤ {x['threshold']} | {_pct(x['fnmr'], 1)} | "
                             + " | ".join(_pct(x["fmr"][g]) for g in groups) + " |")
            if f == "mean" and loo.get("centred"):
                x = loo["centred"]
                lines.append(f"| {f} | centred ≤ {x['threshold']} | {_pct(x['fnmr'], 1)} | "
                             + " | ".join(_pct(x["fmr"][g]) for g in groups) + " |")
        for m, rows in loo["roster"].items():
            lines += ["", f"Roster cross-check ({m}): every other person enrolled",
                      "| margin | genuine sent to staff | genuine accepted | impostor accepts caught | "
                      + " | ".join(f"FMR {g} after" for g in groups) + " |", "|" + "---|" * (4 + len(groups))]
            for r in rows:
                lines.append(f"| {r['margin']} | {_pct(r['genuine_to_staff'], 1)} | {_pct(r['genuine_accepted'], 1)} | "
                             f"{r['impostor_accepts_caught']}/{r['impostor_accepts_before']} | "
                             + " | ".join(_pct(r["fmr_after"][g]) for g in groups) + " |")
    return "\n".join(lines)


def write_operating_point(settings, backend: str, raw_threshold: float | None, snorm_threshold: float | None,
                          path: Path | None = None, centred_threshold: float | None = None) -> Path:
    """Store the chosen thresholds for one backend (`[calibration."<backend>"]`; for dlib also the
    top-level keys the rest of the kiosk reads)."""
    from dataclasses import replace

    own = dict(settings.calibration.get(backend, {}))
    if raw_threshold is not None:
        own["raw_threshold"] = round(float(raw_threshold), 4)
    if snorm_threshold is not None:
        own["snorm_threshold"] = round(float(snorm_threshold), 4)
    if centred_threshold is not None:
        own["centred_threshold"] = round(float(centred_threshold), 4)
    base = settings.matching(backend) or {}
    for k in ("raw_threshold", "snorm_threshold", "snorm_raw_cap", "roster_margin", "centred_threshold"):
        own.setdefault(k, base.get(k, getattr(settings, k)))
    cal = {**settings.calibration, backend: own}
    changes = {"calibration": cal}
    if backend.startswith("dlib"):
        changes.update(raw_threshold=own["raw_threshold"], snorm_threshold=own["snorm_threshold"],
                       centred_threshold=own["centred_threshold"])
    new = replace(settings, **changes)
    return new.save(path)
