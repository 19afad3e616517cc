"""The app for tests/test_app_visits.py's keyboard-wedge test: run under Xvfb (QT_QPA_PLATFORM=xcb)
in its own process, on the 查询认证记录 ID screen, writing each screen change (and what the ID
field holds) as a JSON line to OUT, so the test can type with xdotool and see where it lands.

    python tests/wedge_app.py TMPDIR OUT
"""
from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

from kiosk.app.bootstrap import prepare_environment

READER = "11010519520711102X"


class FakeEncoder:
    name = "dlib-128"  # no face check here: only the backend's name (templates are per backend)


def main() -> int:
    home, out = Path(sys.argv[1]), Path(sys.argv[2])
    prepare_environment()
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QGuiApplication

    from kiosk.app.bootstrap import KioskApp, Options
    from kiosk.app.voice import VoicePlayer
    from kiosk.config import Settings
    from kiosk.core.clock import Clock
    from kiosk.store import Store

    qapp = QGuiApplication(sys.argv[:1])
    clock = Clock.fixed(date(2026, 6, 15))
    store = Store.open(home / "wedge.db", home / "wedge.key", clock=clock)
    store.upsert_resident(READER, "赵读卡", village="东村", categories=["pension"])
    k = KioskApp(Options(fullscreen=False, size=(1366, 768)), store=store, settings=Settings(),
                 encoder=FakeEncoder(), voice=VoicePlayer(enabled=False), clock=clock)

    def log() -> None:
        line = {"screen": k.flow.screen, "entry": k.entry.entry, "name": k.flow.maskedName}
        with out.open("a", encoding="utf-8") as f:
            f.write(json.dumps(line, ensure_ascii=False) + "\n")

    k.flow.changed.connect(log)
    k.window.show()
    QTimer.singleShot(300, lambda: k.flow.start("query"))
    code = qapp.exec()
    k.close()
    return code


if __name__ == "__main__":
    sys.exit(main())
