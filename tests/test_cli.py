"""The `kiosk` command line: JSON contracts, batch modes, exit codes (in process, plus real processes)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import has_cjk
from kiosk.cli import main
from kiosk.core.ids import check_digit

ID_FIRST17 = "11010519491231002"
GOOD_ID = ID_FIRST17 + check_digit(ID_FIRST17)
BAD_ID = ID_FIRST17 + ("0" if check_digit(ID_FIRST17) != "0" else "1")


@pytest.fixture(autouse=True)
def kiosk_home(tmp_path, monkeypatch):
    """Never read or write the developer's own kiosk settings, database or key."""
    home = tmp_path / "kiosk_home"
    monkeypatch.setenv("KIOSK_HOME", str(home))
    monkeypatch.setenv("KIOSK_KEY_FILE", str(home / "template.key"))
    return home


def run_cli(capsys, *argv) -> tuple[int, list[dict], str]:
    """Run `kiosk ARGV` in process; returns (exit code, JSON lines of stdout, raw stdout)."""
    capsys.readouterr()
    code = main([str(a) for a in argv])
    out = capsys.readouterr().out
    lines = []
    for ln in out.splitlines():
        ln = ln.strip()
        if ln.startswith("{"):
            lines.append(json.loads(ln))
    return code, lines, out


def assert_error(code: int, lines: list[dict], expected: str, chinese: bool = True):
    assert code == 2, lines
    assert len(lines) == 1, lines
    assert set(lines[0]) == {"error", "message"}, lines[0]
    assert lines[0]["error"] == expected, lines[0]
    assert isinstance(lines[0]["message"], str) and lines[0]["message"]
    if chinese:
        assert has_cjk(lines[0]["message"]), lines[0]["message"]


@pytest.fixture(scope="module")
def grey_photo(tmp_path_factory) -> Path:
    import spoofs

    return spoofs.write_png(tmp_path_factory.mktemp("cli") / "grey.png", np.full((300, 300, 3), 128, np.uint8))


@pytest.fixture(scope="module")
def two_face_photo(tmp_path_factory, images_dir) -> Path:
    import spoofs
    from kiosk.frames import read_image

    canvas = spoofs.side_by_side(read_image(images_dir / "Jackie_Chan" / "1.jpg"),
                                 read_image(images_dir / "Tang_Jiaxuan" / "1.jpg"))
    return spoofs.write_png(tmp_path_factory.mktemp("cli") / "two_people.png", canvas)


# ------------------------------------------------------------------ verify
def test_verify_json(capsys, images_dir, embeddings):
    a, b, c = images_dir / "Jackie_Chan/1.jpg", images_dir / "Jackie_Chan/2.jpg", images_dir / "Tang_Jiaxuan/1.jpg"
    code, lines, _ = run_cli(capsys, "verify", a, b, "--json")
    assert code == 0 and len(lines) == 1
    out = lines[0]
    assert set(out) == {"match", "distance", "threshold"}
    assert isinstance(out["match"], bool) and isinstance(out["distance"], float) and isinstance(out["threshold"], float)
    assert out["match"] is True and out["threshold"] == 0.47
    assert out["distance"] == pytest.approx(float(np.linalg.norm(embeddings.get(a) - embeddings.get(b))), abs=1e-3)
    code, lines, _ = run_cli(capsys, "verify", a, c, "--json")
    assert code == 0 and lines[0]["match"] is False and lines[0]["distance"] > lines[0]["threshold"]
    # A folder of one person's photos is a template too.
    code, lines, _ = run_cli(capsys, "verify", a, images_dir / "Jackie_Chan", "--json")
    # (the distance is the mean over the folder's photos, so it is not 0 even with the probe inside)
    assert code == 0 and lines[0]["match"] is True and 0.0 < lines[0]["distance"] < lines[0]["threshold"]
    # Human output: one Chinese line.
    code, _, raw = run_cli(capsys, "verify", a, c)
    assert code == 0 and "不是同一人" in raw


def test_verify_pairs_batch(capsys, images_dir, tmp_path, grey_photo):
    rel = lambda p: os.path.relpath(p, tmp_path)
    rows = [
        (rel(images_dir / "Jackie_Chan/1.jpg"), rel(images_dir / "Jackie_Chan/2.jpg")),
        (rel(images_dir / "Jackie_Chan/1.jpg"), rel(images_dir / "Tang_Jiaxuan/1.jpg")),
        ("missing/nobody.jpg", rel(images_dir / "Jackie_Chan/2.jpg")),  # bad row: the batch goes on
        (rel(grey_photo), rel(images_dir / "Jackie_Chan/2.jpg")),  # no face
        (rel(images_dir / "Jackie_Chan/3.jpg"), rel(images_dir / "Jackie_Chan")),  # folder template
    ]
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("probe,template\n" + "".join(f"{p},{t}\n" for p, t in rows), encoding="utf-8")
    code, lines, _ = run_cli(capsys, "verify", "--pairs", pairs, "--json")
    assert code == 0
    assert len(lines) == len(rows)
    for (p, t), out in zip(rows, lines):
        assert out["probe"] == p and out["template"] == t
    assert lines[0]["match"] is True and lines[1]["match"] is False and lines[4]["match"] is True
    for out in (lines[0], lines[1], lines[4]):
        assert set(out) == {"probe", "template", "match", "distance", "threshold"}
        assert isinstance(out["distance"], float)
    assert lines[2]["error"] == "unreadable_file" and has_cjk(lines[2]["message"])
    assert lines[3]["error"] == "no_face"
    for out in lines[2:4]:
        assert set(out) == {"probe", "template", "error", "message"}


@pytest.mark.slow
def test_verify_pairs_bad_files(capsys, tmp_path):
    assert_error(*run_cli(capsys, "verify", "--pairs", tmp_path / "nope.csv", "--json")[:2], "unreadable_file")
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\nx.jpg,y.jpg\n", encoding="utf-8")
    assert_error(*run_cli(capsys, "verify", "--pairs", bad, "--json")[:2], "bad_pairs_file")


def test_verify_errors_exit_2(capsys, images_dir, tmp_path, grey_photo, two_face_photo):
    ok = images_dir / "Jackie_Chan/1.jpg"
    assert_error(*run_cli(capsys, "verify", tmp_path / "missing.jpg", ok, "--json")[:2], "unreadable_file")
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"\xff\xd8 not really a jpeg")
    assert_error(*run_cli(capsys, "verify", junk, ok, "--json")[:2], "unreadable_file")
    assert_error(*run_cli(capsys, "verify", grey_photo, ok, "--json")[:2], "no_face")
    assert_error(*run_cli(capsys, "verify", ok, two_face_photo, "--json")[:2], "multiple_faces")
    # Without --json: one plain line, same exit code.
    code, lines, raw = run_cli(capsys, "verify", grey_photo, ok)
    assert code == 2 and not lines and raw.startswith("错误：")


# ------------------------------------------------------------------ analyze
def test_analyze_json(capsys, videos_dir, clips):
    video = videos_dir / "intel_headpose_female.mp4"
    code, lines, _ = run_cli(capsys, "analyze", video, "--json")
    assert code == 0 and len(lines) == 1
    out = lines[0]
    assert set(out) == {"frames", "face_frames", "duration_s", "processing_fps", "events"}
    assert isinstance(out["frames"], int) and isinstance(out["face_frames"], int)
    assert isinstance(out["duration_s"], float) and isinstance(out["processing_fps"], float)
    assert out["frames"] == 23 and out["duration_s"] == pytest.approx(1.92, abs=0.05)
    for e in out["events"]:
        assert set(e) == {"action", "start_s", "end_s"}
        assert isinstance(e["action"], str) and isinstance(e["start_s"], float) and isinstance(e["end_s"], float)
    # Same events as the library call.
    assert out["events"] == clips.get(video).analysis.to_json()["events"]
    assert {"turn_left", "turn_right"} <= {e["action"] for e in out["events"]}


def test_analyze_several_videos(capsys, videos_dir, tmp_path):
    videos = [str(videos_dir / "intel_headpose_female.mp4"), str(tmp_path / "missing.mp4"),
              str(videos_dir / "intel_headpose_male.mp4")]
    code, lines, _ = run_cli(capsys, "analyze", *videos, "--json")
    assert code == 0 and len(lines) == 3
    assert [ln["video"] for ln in lines] == videos
    assert set(lines[0]) == {"video", "frames", "face_frames", "duration_s", "processing_fps", "events"}
    assert lines[1]["error"] == "unreadable_file" and has_cjk(lines[1]["message"])
    assert lines[2]["events"] == [] or "blink" not in {e["action"] for e in lines[2]["events"]}


def test_analyze_missing_video_exit_2(capsys, tmp_path):
    assert_error(*run_cli(capsys, "analyze", tmp_path / "missing.mp4", "--json")[:2], "unreadable_file")


# ------------------------------------------------------------------ certify
def test_certify_json(capsys, videos_dir, clip_frame_png):
    video = videos_dir / "liveportrait_d3.mp4"
    code, lines, _ = run_cli(capsys, "certify", "--video", video, "--template", clip_frame_png(video, 5),
                             "--actions", "blink,turn_left", "--json")
    assert code == 0 and len(lines) == 1
    out = lines[0]
    assert set(out) == {"verdict", "reason", "message", "steps", "pad"}  # pad: the PAD evidence
    assert (out["verdict"], out["reason"]) == ("pass", "ok") and out["pad"]["attack"] is False
    assert isinstance(out["message"], str) and has_cjk(out["message"])
    assert [s["action"] for s in out["steps"]] == ["blink", "turn_left"]
    for s in out["steps"]:
        assert set(s) == {"action", "passed", "at_s"}
        assert s["passed"] is True and isinstance(s["at_s"], float)
    assert out["steps"][0]["at_s"] < out["steps"][1]["at_s"]


def test_certify_batch(capsys, videos_dir, clip_frame_png, tmp_path):
    rel = lambda p: os.path.relpath(p, tmp_path)
    d3, d9 = videos_dir / "liveportrait_d3.mp4", videos_dir / "liveportrait_d9.mp4"
    jobs = [
        {"video": rel(d3), "template": rel(clip_frame_png(d3, 5)), "actions": ["blink", "turn_left"]},
        {"video": rel(d9), "template": rel(clip_frame_png(d3, 5)), "actions": ["blink", "turn_left"]},
        {"video": rel(d3), "template": rel(clip_frame_png(d3, 5)), "actions": ["turn_left", "nod"]},
        {"video": "missing.mp4", "template": rel(clip_frame_png(d3, 5)), "actions": ["blink"]},
    ]
    path = tmp_path / "jobs.jsonl"
    path.write_text("".join(json.dumps(j) + "\n" for j in jobs) + "this is not json\n", encoding="utf-8")
    code, lines, _ = run_cli(capsys, "certify", "--batch", path, "--json")
    assert code == 0 and len(lines) == len(jobs) + 1
    for job, out in zip(jobs, lines):
        assert out["video"] == job["video"] and out["actions"] == job["actions"]
    assert (lines[0]["verdict"], lines[0]["reason"]) == ("pass", "ok")
    assert set(lines[0]) == {"video", "actions", "verdict", "reason", "message", "steps", "pad"}
    for out in lines[:2]:  # the PAD evidence (kiosk.pad): a live clip, not an attack
        pad = out["pad"]
        assert pad["enabled"] and pad["attack"] is False and pad["cue"] == "live", pad
        assert 0.0 <= pad["live_score"] <= 1.0 and pad["frames_scored"] > 0
        assert pad["flash"]["mode"] == "report" and pad["flash"]["shown"] is False  # no screen on a file
    assert (lines[1]["verdict"], lines[1]["reason"]) == ("fail", "no_match")
    assert lines[2]["error"] == "bad_actions"
    assert lines[3]["error"] == "unreadable_file"
    assert lines[4]["error"] == "bad_job" and lines[4]["line"] == len(jobs) + 1


@pytest.mark.parametrize("actions", ["turn_left,nod", "blink,jump", "turn_right"])
def test_certify_bad_actions_exit_2(capsys, videos_dir, clip_frame_png, actions):
    video = videos_dir / "liveportrait_d3.mp4"
    code, lines, _ = run_cli(capsys, "certify", "--video", video, "--template", clip_frame_png(video, 5),
                             "--actions", actions, "--json")
    # The message is the ValueError text of validate_actions (English, for county IT).
    assert_error(code, lines, "bad_actions", chinese=False)


def test_certify_bad_inputs_exit_2(capsys, videos_dir, clip_frame_png, tmp_path, grey_photo, two_face_photo):
    video = videos_dir / "liveportrait_d3.mp4"
    tpl = clip_frame_png(video, 5)
    assert_error(*run_cli(capsys, "certify", "--video", tmp_path / "none.mp4", "--template", tpl,
                          "--actions", "blink", "--json")[:2], "unreadable_file")
    assert_error(*run_cli(capsys, "certify", "--video", video, "--template", grey_photo,
                          "--actions", "blink", "--json")[:2], "no_face")
    assert_error(*run_cli(capsys, "certify", "--video", video, "--template", two_face_photo,
                          "--actions", "blink", "--json")[:2], "multiple_faces")


# ------------------------------------------------------------------ roster
def test_residents_lists_masked(capsys, tmp_path):
    """`kiosk residents --json` shows only masked numbers and names (roster written with the Store API)."""
    from kiosk.policy import Category
    from kiosk.store import Store

    db, key = tmp_path / "k.db", tmp_path / "k.key"
    with Store.open(db, key) as store:
        with store.transaction():
            store.upsert_resident(GOOD_ID, "欧阳小明", village="前进村", categories=[Category.parse("pension")])
    code, lines, _ = run_cli(capsys, "residents", "--db", db, "--key", key, "--json")
    assert code == 0 and len(lines) == 1
    r = lines[0]
    assert r["id"] == GOOD_ID[:6] + "********" + GOOD_ID[-4:] and r["name"] == "欧**明"
    assert r["village"] == "前进村" and isinstance(r["categories"], list)
    assert GOOD_ID not in json.dumps(r, ensure_ascii=False) and "小明" not in r["name"]


def test_enroll_and_list_residents(capsys, images_dir, tmp_path):
    db, key = tmp_path / "k.db", tmp_path / "k.key"
    code, lines, _ = run_cli(capsys, "enroll", GOOD_ID, "张三丰", images_dir / "Jackie_Chan/1.jpg",
                             images_dir / "Jackie_Chan/2.jpg", "--village", "前进村", "--db", db, "--key", key, "--json")
    assert code == 0, lines
    assert lines == [{"resident": GOOD_ID[:6] + "********" + GOOD_ID[-4:], "name": "张*丰", "templates": 2}]
    assert key.is_file() and db.is_file()
    code, lines, _ = run_cli(capsys, "residents", "--db", db, "--key", key, "--json")
    assert code == 0 and len(lines) == 1
    r = lines[0]
    assert r["id"] == GOOD_ID[:6] + "********" + GOOD_ID[-4:] and r["name"] == "张*丰"
    assert r["village"] == "前进村"
    assert GOOD_ID not in json.dumps(r, ensure_ascii=False)
    assert "张三丰" not in json.dumps(r, ensure_ascii=False)
    code, lines, _ = run_cli(capsys, "status", GOOD_ID, "--db", db, "--key", key, "--today", "2026-03-05", "--json")
    assert code == 0 and lines[0]["id"] == r["id"] and lines[0]["name"] == "张*丰"
    assert {"status", "message", "valid_until", "due_by"} <= set(lines[0])


def test_enroll_errors_exit_2(capsys, images_dir, tmp_path, grey_photo):
    db, key = tmp_path / "k.db", tmp_path / "k.key"
    assert_error(*run_cli(capsys, "enroll", BAD_ID, "李四", images_dir / "Jackie_Chan/1.jpg",
                          "--db", db, "--key", key, "--json")[:2], "bad_id_number")
    assert_error(*run_cli(capsys, "enroll", GOOD_ID, "李四", grey_photo, "--db", db, "--key", key, "--json")[:2],
                 "no_face")
    assert_error(*run_cli(capsys, "status", BAD_ID, "--db", db, "--key", key, "--json")[:2], "bad_id_number")
    code, lines, _ = run_cli(capsys, "residents", "--db", db, "--key", key, "--json")
    assert code == 0 and lines == []  # nothing was enrolled by the failed attempts


# ------------------------------------------------------------------ real processes
def _env(home: Path) -> dict:
    env = dict(os.environ, KIOSK_HOME=str(home), KIOSK_KEY_FILE=str(home / "template.key"))
    env.setdefault("GLOG_minloglevel", "2")
    return env


def test_console_script_entry_point(images_dir, kiosk_home):
    exe = Path(sys.executable).parent / ("kiosk.exe" if os.name == "nt" else "kiosk")
    assert exe.is_file(), f"console script not installed next to {sys.executable}"
    p = subprocess.run([str(exe), "verify", str(images_dir / "Jackie_Chan/1.jpg"),
                        str(images_dir / "Jackie_Chan/2.jpg"), "--json"],
                       capture_output=True, text=True, encoding="utf-8", env=_env(kiosk_home), timeout=180)
    assert p.returncode == 0, p.stderr[-2000:]
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert set(out) == {"match", "distance", "threshold"} and out["match"] is True


def test_module_entry_point_exit_2(grey_photo, images_dir, kiosk_home):
    p = subprocess.run([sys.executable, "-m", "kiosk.cli", "verify", str(grey_photo),
                        str(images_dir / "Jackie_Chan/1.jpg"), "--json"],
                       capture_output=True, text=True, encoding="utf-8", env=_env(kiosk_home), timeout=180)
    assert p.returncode == 2, p.stderr[-2000:]
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert out["error"] == "no_face" and has_cjk(out["message"])
