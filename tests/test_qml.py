"""The QML module Kiosk (ui/): qmllint clean with the Python types it knows from ui/kiosk.qmltypes.

No window is opened: these run the Qt tools and read the classes' QMetaObjects.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_qmltypes_describe_the_python_controllers():
    r = subprocess.run([sys.executable, "-m", "kiosk.app.qmltypes", "--check"], cwd=ROOT, capture_output=True,
                       text=True, check=False)
    assert r.returncode == 0, r.stdout + r.stderr


def test_qmllint_is_clean():
    qmllint = Path(sys.executable).parent / "pyside6-qmllint"
    files = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "ui").glob("*.qml"))
    r = subprocess.run([str(qmllint), "--max-warnings", "0", *files], cwd=ROOT, capture_output=True, text=True,
                       check=False)
    assert r.returncode == 0, r.stdout + r.stderr


def test_the_module_lists_every_file_and_theme_is_its_singleton():
    qmldir = (ROOT / "ui" / "qmldir").read_text(encoding="utf-8").splitlines()
    assert qmldir[0] == "module Kiosk" and "typeinfo kiosk.qmltypes" in qmldir
    assert "singleton Theme 1.0 Theme.qml" in qmldir
    listed = {line.split()[-1] for line in qmldir if line.endswith(".qml")}
    assert listed == {p.name for p in (ROOT / "ui").glob("*.qml")}
    assert (ROOT / "ui" / "Theme.qml").read_text(encoding="utf-8").startswith("pragma Singleton")


def test_qml_holds_no_context_properties():
    """Screens reach the controllers only as the module's singletons (App, KioskFlow, IdEntry, Records,
    FaceCheck) and the Theme singleton: no `kiosk.`/`app.`/`check.`/`theme.` context objects."""
    import re

    bad = [f"{p.name}:{n}" for p in (ROOT / "ui").glob("*.qml")
           for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
           if re.search(r"(?<![\w.])(kiosk|app|check|theme|fontFamily)\.", line.split("//")[0])]
    assert bad == []
