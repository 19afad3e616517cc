"""`kiosk calibrate` and `kiosk verify --pairs` on real photos; the rate/threshold logic; the config it writes."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from conftest import has_cjk
from kiosk.calibrate import (ALL, Scores, accept_mask, load_groups, rates, read_pairs, threshold_for_target)
from kiosk.config import Settings
from kiosk.matching.scoring import Matcher
from test_cli import kiosk_home, run_cli  # noqa: F401  (kiosk_home: autouse fixture)

PEOPLE = ["Jackie_Chan", "Tang_Jiaxuan", "Jiang_Zemin", "Li_Peng", "Bob_Hope", "Angelina_Jolie", "Yao_Ming"]


@pytest.fixture
def small_set(images_dir, tmp_path) -> tuple[Path, Path, list[str]]:
    """A pairs CSV (file_a,file_b,label; paths relative to it) over 7 real people, and groups.json."""
    files = [os.path.relpath(f, tmp_path) for p in PEOPLE for f in sorted((images_dir / p).glob("*.jpg"))]
    rows = []
    for i, a in enumerate(files):
        for b in files[i + 1:i + 4]:
            rows.append(f"{a},{b},{'same' if Path(a).parent.name == Path(b).parent.name else 'different'}")
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("file_a,file_b,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    groups = tmp_path / "groups.json"
    groups.write_text(json.dumps({"east_asian": ["Jackie_Chan", "Tang_*", "Jiang_Zemin", "Li_Peng", "Yao_Ming"],
                                  "elderly": ["Tang_Jiaxuan", "Jiang_Zemin", "Li_Peng", "Bob_Hope"],
                                  "_note": "test groups"}), encoding="utf-8")
    return pairs, groups, files


# ------------------------------------------------------------------ logic
def test_threshold_for_target_and_rates():
    genuine = np.array([True] * 4 + [False] * 6)
    raw = np.array([0.30, 0.35, 0.45, 0.55, 0.40, 0.50, 0.60, 0.70, 0.80, 0.90])
    grp = {ALL: np.ones(10, bool), "g": np.array([False] * 4 + [True, True, False, False, False, False])}
    sc = Scores(genuine, raw, None, grp)
    r = rates(accept_mask(sc, "raw", 0.47, 9.0), genuine, grp)
    assert r["fnmr"] == pytest.approx(0.25) and r["fmr"][ALL] == pytest.approx(1 / 6) and r["fmr"]["g"] == 0.5
    # No impostor accepted anywhere: just below the weakest impostor (0.40).
    t = threshold_for_target(sc, "raw", 0.0)
    assert 0.35 <= t < 0.40
    # 1/6 overall allowed but nothing inside group g (whose impostors are 0.40 and 0.50): still below 0.40.
    assert threshold_for_target(sc, "raw", 0.2, group_fmr=0.0) < 0.40
    # Group g may have half of its impostors accepted: up to below 0.50.
    assert 0.40 <= threshold_for_target(sc, "raw", 0.2, group_fmr=0.5) < 0.50
    # The s-norm decision also needs raw <= cap.
    sc2 = Scores(genuine, raw, -raw * 10, grp)
    assert accept_mask(sc2, "snorm", -1.0, 9.0).all()
    assert accept_mask(sc2, "snorm", -1.0, 0.33).tolist() == [True] + [False] * 9


def test_read_pairs_formats_and_groups(tmp_path):
    (tmp_path / "A").mkdir()
    (tmp_path / "B").mkdir()
    p1 = tmp_path / "labelled.csv"
    p1.write_text("file_a,file_b,label\nA/1.jpg,A/2.jpg,same\nA/1.jpg,B/1.jpg,different\n", encoding="utf-8")
    ps = read_pairs(p1)
    assert [s for _, _, s in ps.pairs] == [True, False] and len(ps.files) == 3
    p2 = tmp_path / "unlabelled.csv"
    p2.write_text("probe,template\nA/1.jpg,A/2.jpg\nB/1.jpg,A/2.jpg\n", encoding="utf-8")
    assert [s for _, _, s in read_pairs(p2).pairs] == [True, False]
    p3 = tmp_path / "bad.csv"
    p3.write_text("x,y\n1,2\n", encoding="utf-8")
    with pytest.raises(ValueError):
        read_pairs(p3)
    g = tmp_path / "g.json"
    g.write_text('{"ea": ["asian_*"], "_note": "x"}', encoding="utf-8")
    assert load_groups(g) == {"ea": ["asian_*"]}


def test_settings_round_trip_with_calibration(tmp_path):
    s = Settings(device_id='村口 "1"', calibration={"onnx-x-abc": {"raw_threshold": 0.8, "snorm_threshold": -3.5}},
                 onnx_bgr=True)
    path = s.save(tmp_path / "kiosk.toml")
    back = Settings.load(path)
    assert back == s
    assert back.matching("onnx-x-abc")["raw_threshold"] == 0.8
    assert back.matching("onnx-unknown") is None
    assert back.matching("dlib-128")["raw_threshold"] == s.raw_threshold


# ------------------------------------------------------------------ the command on real photos
def test_calibrate_command_json_and_write(capsys, small_set, kiosk_home):
    pairs, groups, files = small_set
    code, lines, _ = run_cli(capsys, "calibrate", "--pairs", pairs, "--groups", groups, "--all-pairs",
                             "--target-fmr", "0.005", "--group-fmr", "0.02", "--loo", "--json", "--write")
    assert code == 0 and len(lines) == 1
    rep = lines[0]
    assert rep["backend"] == "dlib-128" and rep["photos"] == len(files)
    assert rep["encoded"] + len(rep["refused"]) == len(files)
    n = rep["encoded"]
    assert rep["pairs"]["genuine"] + rep["pairs"]["impostor"]["all"] == n * (n - 1) // 2
    assert set(rep["pairs"]["impostor"]) == {"all", "east_asian", "elderly"}
    assert 0 < rep["pairs"]["impostor"]["elderly"] < rep["pairs"]["impostor"]["east_asian"] < rep["pairs"]["impostor"]["all"]
    for m in ("raw", "snorm"):
        table = rep["methods"][m]["table"]
        fnmr = [row["fnmr"] for row in table]
        fmr = [row["fmr"]["all"] for row in table]
        # Rows go from strict to lenient: fewer false rejects, more false accepts.
        assert fnmr == sorted(fnmr, reverse=True) and fmr == sorted(fmr)
        op = rep["methods"][m]["target_threshold"]
        assert op["fmr"]["all"] <= 0.005 and op["fmr"]["east_asian"] <= 0.02 and op["fmr"]["elderly"] <= 0.02
    loo = rep["leave_one_out"]
    assert set(loo["fusions"]) == {"mean", "nearest", "mean2", "centroid"} and loo["roster"]["raw"]
    # --write: the operating point is stored for this backend and read back by the matcher.
    written = rep["written"]
    assert written["backend"] == "dlib-128" and Path(written["path"]) == kiosk_home / "kiosk.toml"
    s = Settings.load()
    assert s.calibration["dlib-128"]["raw_threshold"] == pytest.approx(rep["methods"]["raw"]["target_threshold"]["threshold"])
    m = Matcher.from_settings(s, "dlib-128")
    assert m.raw_threshold == s.raw_threshold == s.calibration["dlib-128"]["raw_threshold"]
    assert m.snorm_threshold == pytest.approx(rep["methods"]["snorm"]["target_threshold"]["threshold"])
    assert "[calibration.\"dlib-128\"]" in (kiosk_home / "kiosk.toml").read_text(encoding="utf-8")


def test_calibrate_human_table_and_errors(capsys, small_set, tmp_path):
    pairs, groups, _ = small_set
    code, _, out = run_cli(capsys, "calibrate", "--pairs", pairs, "--groups", groups, "--method", "raw",
                           "--thresholds", "0.45,0.5,0.6")
    assert code == 0 and has_cjk(out)
    assert "| raw threshold | FNMR" in out and "| 0.5 |" in out and "FMR east_asian" in out and "(configured)" in out
    assert "snorm threshold" not in out
    code, lines, _ = run_cli(capsys, "calibrate", "--pairs", tmp_path / "nope.csv", "--json")
    assert code == 2 and lines[0]["error"] == "unreadable_file" and has_cjk(lines[0]["message"])
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n1,2\n", encoding="utf-8")
    code, lines, _ = run_cli(capsys, "calibrate", "--pairs", bad, "--json")
    assert code == 2 and lines[0]["error"] == "bad_pairs_file" and has_cjk(lines[0]["message"])


def test_verify_pairs_encodes_each_file_once(capsys, images_dir, tmp_path, monkeypatch):
    """`kiosk verify --pairs`: many pairs over few photos cost one encoding per photo (also for a
    refused photo and a folder template)."""
    from kiosk.faces import PhotoEncoder

    calls: list[Path] = []
    real = PhotoEncoder._encode

    def counting(self, p, path):
        calls.append(p)
        return real(self, p, path)

    monkeypatch.setattr(PhotoEncoder, "_encode", counting)
    photos = [images_dir / p / "1.jpg" for p in ("Jackie_Chan", "Tang_Jiaxuan", "Yao_Ming")] + \
             [images_dir / "Li_Peng" / f"{n}.jpg" for n in (1, 2, 3)]
    rel = [os.path.relpath(f, tmp_path) for f in photos]
    rows = [(a, b) for a in rel for b in rel if a != b]
    rows += [(rel[0], os.path.relpath(images_dir / "Jackie_Chan", tmp_path))] * 3
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("probe,template\n" + "".join(f"{a},{b}\n" for a, b in rows), encoding="utf-8")
    code, lines, _ = run_cli(capsys, "verify", "--pairs", pairs, "--json")
    assert code == 0 and len(lines) == len(rows)
    distinct = {p.resolve() for p in photos} | {f.resolve() for f in (images_dir / "Jackie_Chan").glob("*.jpg")}
    assert len(calls) == len(set(calls)) == len(distinct)
    # The Li_Peng photo with a second face is refused in every pair it appears in, encoded once.
    errors = [ln for ln in lines if "error" in ln]
    assert errors and all(ln["error"] == "multiple_faces" for ln in errors)
