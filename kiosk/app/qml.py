"""The QML module `Kiosk`: ui/ (screens, components, the Theme singleton; ui/qmldir) and the
Python controllers registered into it, the Qt for Python way (QmlElement / QmlSingleton).

Every controller is a singleton of the module, one instance per window: the app builds the
instances with their dependencies and `provide()`s them before the QML engine loads; the
engine asks `instance()` (the classes' static `create(engine)`) the first time a screen uses
one. Files in ui/ belong to the module (ui/qmldir says `module Kiosk`), so they see these
types, and the Theme singleton, without an import line.

QML names: App (AppController), KioskFlow (FlowController), IdEntry (IdentityEntry), Records
(RecordsController), FaceCheck (CheckController), Staff (kiosk.app.staff.StaffController), Enrol
and Review (kiosk.app.enrol), Visits (kiosk.app.visits) and Fallback (kiosk.app.fallback); CameraView
and EnrolFrame are creatable items.

Tooling: `python -m kiosk.app.qmltypes` writes ui/kiosk.qmltypes from these classes (what
qmllint knows of them); `pyside6-qmllint --max-warnings 0 ui/*.qml` is then clean.
"""
from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtQml import QQmlEngine

QML_IMPORT_NAME = "Kiosk"
QML_IMPORT_MAJOR_VERSION = 1

_instances: dict[str, QObject] = {}


def provide(**controllers: QObject) -> None:
    """The instances the next QML engine gets, by QML name (App=…, KioskFlow=…)."""
    _instances.update(controllers)


def instance(name: str) -> QObject:
    """The provided instance (owned by Python: the engine must not delete it)."""
    try:
        obj = _instances[name]
    except KeyError:
        raise RuntimeError(f"no {name} controller provided before the QML engine loaded") from None
    QQmlEngine.setObjectOwnership(obj, QQmlEngine.ObjectOwnership.CppOwnership)
    return obj


def forget() -> None:
    _instances.clear()
