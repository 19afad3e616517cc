"""ui/kiosk.qmltypes: what QML tooling (qmllint, qmlls) knows of the Python types in the module Kiosk.

    uv run python -m kiosk.app.qmltypes          # regenerate after changing a controller's properties/slots
    uv run python -m kiosk.app.qmltypes --check  # exit 1 if ui/kiosk.qmltypes is out of date (CI, a test)
    uv run pyside6-qmllint --max-warnings 0 ui/*.qml    # then clean: ui/qmldir lists the typeinfo

`pyside6-project` makes this file with `pyside6-metaobjectdump` (which parses the sources
and cannot read properties with lambda getters); here it is written from the classes' own
QMetaObjects, so it always describes what the running app registers.
"""
from __future__ import annotations

import argparse
import sys

from kiosk.app.bootstrap import UI_DIR

OUTPUT = UI_DIR / "kiosk.qmltypes"
URI = "Kiosk"


def _types():
    """(class, QML name, singleton?) for every Python type in the module."""
    from kiosk.app.check import CheckController
    from kiosk.app.enrol import EnrolController, EnrolFrame, ReviewController
    from kiosk.app.controllers import AppController, FlowController
    from kiosk.app.coordinator import CoordinatorController
    from kiosk.app.entry import IdentityEntry
    from kiosk.app.fallback import FallbackController
    from kiosk.app.preview import CameraView
    from kiosk.app.receipt import QrCode, ReceiptController
    from kiosk.app.records import RecordsController
    from kiosk.app.staff import StaffController
    from kiosk.app.visits import VisitsController

    types = [(ReceiptController, "Receipt", True), (QrCode, "QrCode", False),
             (AppController, "App", True), (FlowController, "KioskFlow", True), (IdentityEntry, "IdEntry", True),
             (RecordsController, "Records", True), (CheckController, "FaceCheck", True),
             (CameraView, "CameraView", False),
             (StaffController, "Staff", True), (EnrolController, "Enrol", True), (ReviewController, "Review", True),
             (EnrolFrame, "EnrolFrame", False),
             (VisitsController, "Visits", True), (FallbackController, "Fallback", True),
             (CoordinatorController, "Coordinator", True)]
    from kiosk.app.admin import AdminController, KioskState  # the unattended kiosk (issue 14)

    types += [(KioskState, "KioskState", True), (AdminController, "Admin", True)]
    from kiosk.app.keyboard import KeyboardController  # the on-screen keyboard's place (Main.qml)

    types += [(KeyboardController, "Keyboard", True)]
    return types


def _type(name: str) -> tuple[str, bool]:
    """A meta type name as qmltypes spells it: (type, is pointer)."""
    name = name.decode() if isinstance(name, (bytes, bytearray)) else str(name)
    if name.endswith("*"):
        return name[:-1], True
    return {"PyObject": "QVariant"}.get(name, name), False


def _component(cls, qml_name: str, singleton: bool) -> list[str]:
    mo = cls.staticMetaObject
    out = ["    Component {", f'        name: "{mo.className()}"', '        accessSemantics: "reference"',
           f'        prototype: "{mo.superClass().className()}"', f'        exports: ["{URI}/{qml_name} 1.0"]',
           f"        isCreatable: {'false' if singleton else 'true'}"]
    if singleton:
        out.append("        isSingleton: true")
    out.append("        exportMetaObjectRevisions: [256]")
    for i in range(mo.propertyOffset(), mo.propertyCount()):
        p = mo.property(i)
        t, ptr = _type(p.typeName())
        out += ["        Property {", f'            name: "{p.name()}"', f'            type: "{t}"']
        if ptr:
            out.append("            isPointer: true")
        if not p.isWritable():
            out.append("            isReadonly: true")
        if p.isConstant():
            out.append("            isConstant: true")
        if p.hasNotifySignal():
            out.append(f'            notify: "{bytes(p.notifySignal().name()).decode()}"')
        out.append("        }")
    for i in range(mo.methodOffset(), mo.methodCount()):
        m = mo.method(i)
        name = bytes(m.name()).decode()
        if name.startswith("_"):
            continue  # private slots: connected from Python, never called from QML
        kind = {m.MethodType.Signal: "Signal", m.MethodType.Slot: "Method"}.get(m.methodType())
        if kind is None:
            continue
        params = [(bytes(n).decode() or f"a{k}", _type(t)) for k, (n, t) in
                  enumerate(zip(m.parameterNames(), m.parameterTypes()))]
        ret = _type(m.typeName())[0]
        typed = f'; type: "{ret}"' if ret not in ("void", "") else ""
        if not params:
            out.append(f'        {kind} {{ name: "{name}"{typed} }}')
            continue
        out += [f"        {kind} {{", f'            name: "{name}"']
        if typed:
            out.append(f'            type: "{ret}"')
        for pname, (ptype, pptr) in params:
            out.append(f'            Parameter {{ name: "{pname}"; type: "{ptype}"'
                       + ("; isPointer: true" if pptr else "") + " }")
        out.append("        }")
    out.append("    }")
    return out


def generate() -> str:
    lines = ["import QtQuick.tooling 1.2", "",
             "// The Python types of the QML module Kiosk (kiosk/app), for QML tooling only.",
             "// Generated by `python -m kiosk.app.qmltypes` from their QMetaObjects: do not edit.", "",
             "Module {"]
    for cls, name, singleton in _types():
        lines += _component(cls, name, singleton)
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="fail if ui/kiosk.qmltypes is out of date")
    args = ap.parse_args(argv)
    text = generate()
    if args.check:
        if not OUTPUT.exists() or OUTPUT.read_text(encoding="utf-8") != text:
            print(f"{OUTPUT} is out of date: run `uv run python -m kiosk.app.qmltypes`",
                  file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
