"""The wheel stands on its own: built, installed in a fresh venv, it runs the demo engine outside
the checkout and finds its voice, fonts, QML and models inside site-packages.

Offline: the dependencies come from uv's cache, pinned by uv.lock (`uv sync --frozen` into the new venv; the lock's
overrides keep dlib, the non-headless OpenCV and jax out). About a minute; marked slow.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900),
              pytest.mark.skipif(shutil.which("uv") is None, reason="needs uv")]

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import json, kiosk
from kiosk.core.paths import assets_dir, ui_dir
from kiosk.app import bootstrap, voice
from kiosk.demo import virtual_camera
from kiosk.pad import minifasnet
print(json.dumps({
    "package": kiosk.__file__,
    "assets": str(assets_dir()), "ui": str(ui_dir()),
    "voice": str(voice.ASSET_DIR), "fonts": str(bootstrap.FONT_DIR), "qml": str(bootstrap.UI_DIR),
    "portrait": str(virtual_camera.FACE_IMAGE), "pad_models": [str(p) for p in minifasnet.model_paths()],
}))
"""


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, check=False, **kw)


def _ok(p: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert p.returncode == 0, f"{p.args}\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}"
    return p


def test_the_wheel_installs_in_a_fresh_venv_and_runs_the_demo_engine(tmp_path):
    dist, venv, home, elsewhere = (tmp_path / d for d in ("dist", "venv", "home", "elsewhere"))
    elsewhere.mkdir()
    _ok(_run(["uv", "build", "--wheel", "--out-dir", str(dist)], cwd=ROOT))
    (wheel,) = dist.glob("*.whl")
    _ok(_run(["uv", "venv", "-q", "--python", f"{sys.version_info.major}.{sys.version_info.minor}", str(venv)]))
    python = venv / "bin" / "python"
    # The dependencies exactly as uv.lock pins them (its file URLs, so from uv's wheel cache with no index
    # pages needed: a fresh machine's cache holds only what `uv sync` fetched), then the wheel alone.
    sync_env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"} | {"UV_PROJECT_ENVIRONMENT": str(venv)}
    _ok(_run(["uv", "sync", "-q", "--frozen", "--no-dev", "--no-install-project", "--offline"], cwd=ROOT,
             env=sync_env))
    _ok(_run(["uv", "pip", "install", "-q", "--offline", "--python", str(python), "--no-deps", str(wheel)]))

    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "KIOSK_HOME")}
    env["KIOSK_HOME"] = str(home)
    site = venv / "lib"

    # The resources resolve inside site-packages, never in the checkout.
    found = json.loads(_ok(_run([str(python), "-c", PROBE], cwd=elsewhere, env=env)).stdout)
    for key in ("package", "assets", "ui", "voice", "fonts", "qml", "portrait"):
        assert Path(found[key]).is_relative_to(site), (key, found[key])
    assert Path(found["portrait"]).is_file()
    assert all(Path(p).is_file() and Path(p).is_relative_to(site) for p in found["pad_models"])
    assert (Path(found["qml"]) / "Main.qml").is_file() and (Path(found["qml"]) / "qmldir").is_file()
    assert sorted(p.name for p in Path(found["fonts"]).glob("*.otf")) == \
        sorted(p.name for p in (ROOT / "assets" / "fonts").glob("*.otf"))
    assert sorted(p.name for p in Path(found["voice"]).glob("*.wav")) == \
        sorted(p.name for p in (ROOT / "assets" / "voice" / "zh_CN").glob("*.wav"))

    # The demo engine (virtual camera -> FaceMesh -> liveness -> dlib match) from the installed command.
    demo = _ok(_run([str(venv / "bin" / "kiosk"), "demo", "--fast"], cwd=elsewhere, env=env, timeout=600))
    assert "结果：认证成功" in demo.stdout, demo.stdout[-2000:]
