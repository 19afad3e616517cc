"""kiosk.core.paths finds assets/ and ui/ installed, bundled (PyInstaller) or in the checkout."""
from __future__ import annotations

import sys
from pathlib import Path

from kiosk.core import paths

ROOT = Path(__file__).resolve().parents[1]


def test_in_the_source_checkout_the_top_level_folders_are_used():
    # (an editable install: the package has no assets/ of its own)
    assert paths.assets_dir() == ROOT / "assets"
    assert paths.ui_dir() == ROOT / "ui"
    assert paths.assets_dir("voice", "zh_CN") == ROOT / "assets" / "voice" / "zh_CN"
    assert (paths.ui_dir() / "Main.qml").is_file()


def test_the_installed_package_comes_first(tmp_path, monkeypatch):
    pkg = tmp_path / "site-packages" / "kiosk"
    (pkg / "assets" / "fonts").mkdir(parents=True)
    (pkg / "ui").mkdir()
    monkeypatch.setattr(paths, "files", lambda name: pkg)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path / "bundle"), raising=False)
    assert paths.assets_dir("fonts") == pkg / "assets" / "fonts"
    assert paths.ui_dir() == pkg / "ui"


def test_a_pyinstaller_bundle_finds_the_folders_its_spec_copies_to_the_top(tmp_path, monkeypatch):
    # packaging/kiosk.spec: datas (assets -> assets, ui -> ui) beside the frozen package
    bundle = tmp_path / "_internal"
    (bundle / "assets").mkdir(parents=True)
    (bundle / "ui").mkdir()
    frozen_pkg = tmp_path / "pyz" / "kiosk"  # what importlib.resources reports for a frozen package
    monkeypatch.setattr(paths, "files", lambda name: frozen_pkg)
    monkeypatch.setattr(sys, "_MEIPASS", str(bundle), raising=False)
    assert paths.assets_dir() == bundle / "assets"
    assert paths.ui_dir() == bundle / "ui"
