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


def _code_only(src: str) -> str:
    """QML source without its comments (strings kept; `//` inside a string is not a comment)."""
    out, i, quote = [], 0, ""
    while i < len(src):
        c = src[i]
        if quote:
            out.append(c)
            if c == "\\":
                out.append(src[i + 1:i + 2])
                i += 1
            elif c == quote:
                quote = ""
        elif c in "\"'`":
            quote = c
            out.append(c)
        elif src.startswith("//", i):
            i = src.find("\n", i)
            i = len(src) if i < 0 else i
            continue
        elif src.startswith("/*", i):
            end = src.find("*/", i + 2)
            i = len(src) if end < 0 else end + 2
            continue
        else:
            out.append(c)
        i += 1
    return "".join(out)


def test_qml_holds_no_text_of_its_own():
    """Every word on a screen comes from the catalogue (kiosk/texts/zh_CN.py) through App.t / App.tf:
    no Chinese in ui/*.qml outside comments."""
    import re

    cjk = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
    bad = [f"{p.name}:{n}: {line.strip()}" for p in sorted((ROOT / "ui").glob("*.qml"))
           for n, line in enumerate(_code_only(p.read_text(encoding="utf-8")).splitlines(), 1) if cjk.search(line)]
    assert bad == [], "\n".join(bad)
    assert _code_only('text: "a//b" // 注释\n/* 说明 */x') == 'text: "a//b" \nx'


def test_every_text_code_the_qml_asks_for_is_in_the_catalogue():
    import re

    from kiosk.texts import has

    asked = {(p.name, m) for p in (ROOT / "ui").glob("*.qml")
             for m in re.findall(r'App\.tf?\(\s*"(\w+)"', p.read_text(encoding="utf-8"))}
    asked |= {(p.name, m) for p in (ROOT / "ui").glob("*.qml")
              for m in re.findall(r'"(ui_\w+)"', p.read_text(encoding="utf-8"))}
    assert [a for a in asked if not has(a[1])] == []
