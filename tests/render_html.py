"""Render an HTML page (the hub's) to PDF with Qt WebEngine, offscreen, for the docs' screenshots:

    uv run python tests/render_html.py PAGE.html OUT WIDTH HEIGHT   # writes OUT.pdf
    pdftoppm -png -singlefile -r 96 OUT.pdf OUT                     # then a PNG

An offscreen WebEngine view cannot be grabbed (no GPU), so Chromium prints the page (one page of
WIDTH x HEIGHT CSS pixels). The shipped CJK font is offered through a private fontconfig file
(these machines often have no CJK font).
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str]) -> int:
    src, out, w, h = argv[0], argv[1], int(argv[2]), int(argv[3])
    tmp = Path(tempfile.mkdtemp(prefix="render-html-"))
    conf = tmp / "fonts.conf"
    conf.write_text(f'''<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>
<include ignore_missing="yes">/etc/fonts/fonts.conf</include><dir>{ROOT}/assets/fonts</dir>
<cachedir>{tmp}/fc-cache</cachedir>
<alias><family>sans-serif</family><prefer><family>Noto Sans CJK SC</family></prefer></alias></fontconfig>''')
    os.environ["FONTCONFIG_FILE"] = str(conf)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = "--no-sandbox --disable-gpu --single-process"
    os.environ["QTWEBENGINE_DISABLE_SANDBOX"] = "1"
    from PySide6.QtCore import QMarginsF, QSizeF, Qt, QTimer, QUrl
    from PySide6.QtGui import QPageLayout, QPageSize
    from PySide6.QtWebEngineWidgets import QWebEngineView
    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv[:1])
    view = QWebEngineView()
    view.resize(w, h)
    view.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    view.show()
    result = {"ok": False}

    def loaded(_ok: bool) -> None:
        layout = QPageLayout(QPageSize(QSizeF(w * 0.75, h * 0.75), QPageSize.Unit.Point),
                             QPageLayout.Orientation.Portrait, QMarginsF(0, 0, 0, 0))
        view.page().printToPdf(out + ".pdf", layout)

    def printed(path: str, ok: bool) -> None:
        result["ok"] = ok
        print("pdf", path, ok)
        app.quit()

    view.loadFinished.connect(loaded)
    view.page().pdfPrintingFinished.connect(printed)
    view.setHtml(Path(src).read_text(encoding="utf-8"), QUrl("http://localhost/"))
    QTimer.singleShot(60000, app.quit)
    app.exec()
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
