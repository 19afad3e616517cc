"""Coordinator: the village coordinator's tools in the staff app — the due list (提醒名单 / 公示) and
the figures (统计 with charts). QML singleton `Coordinator`; `openArea("due" | "stats")` shows the
screen (Staff's areaRequested is connected to it in bootstrap).

It decides nothing: the list is kiosk.due (kiosk.visits.visit_list underneath), the figures
kiosk.stats, the charts kiosk.charts (rendered off the UI thread), the PDF kiosk.due.write_pdf.
Full names, phones and addresses only while an operator is logged in (`current_operator`).

打印: the PDF goes to the system's default printer (Qt Print Support finds it; CUPS `lp` takes the
PDF as it is). With no printer (or no `lp`), the PDF is kept in `out_dir` and the screen says where.
"""
from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Property, QObject, QUrl, Signal, Slot
from PySide6.QtQml import QmlNamedElement, QmlSingleton

from kiosk.app import qml
from kiosk.texts import text

QML_IMPORT_NAME = "Kiosk"
QML_IMPORT_MAJOR_VERSION = 1

log = logging.getLogger(__name__)
AREAS = ("due", "stats")
DAY_CHOICES = (7, 30, 90)


def default_printer() -> str | None:
    """The system's default printer (Qt Print Support), or None when there is none."""
    from PySide6.QtPrintSupport import QPrinterInfo

    info = QPrinterInfo.defaultPrinter()
    return None if info.isNull() else info.printerName()


def send_to_printer(pdf: Path, printer: str) -> bool:
    """Hand the PDF to CUPS for `printer`; False when CUPS is not there or refuses it."""
    lp = shutil.which("lp")
    if lp is None:
        return False
    try:
        subprocess.run([lp, "-d", printer, "-o", "media=A4", str(pdf)], check=True, capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as e:
        log.warning("printing to %s failed: %s", printer, e)
        return False
    return True


@QmlNamedElement("Coordinator")
@QmlSingleton
class CoordinatorController(QObject):
    changed = Signal()
    chartsChanged = Signal()
    _chartsReady = Signal(int, "QVariantList")  # from the rendering thread (generation, charts)

    def __init__(self, store, settings, clock, flow, current_operator: Callable[[], object | None] = lambda: None,
                 out_dir: Path | None = None, printer: Callable[[], str | None] = default_printer,
                 print_pdf: Callable[[Path, str], bool] = send_to_printer, parent: QObject | None = None):
        super().__init__(parent)
        self.store, self.settings, self.clock, self.flow = store, settings, clock, flow
        self.current_operator = current_operator
        self.out_dir = out_dir
        self._printer, self._print_pdf = printer, print_pdf
        self._charts_dir = Path(tempfile.mkdtemp(prefix="kiosk-charts-"))
        self._area = ""
        self._village = ""
        self._days = 30
        self._due = None
        self._rows: list[dict] = []
        self._counts: list[dict] = []
        self._summary = ""
        self._message = ""
        self._charts: list[dict] = []
        self._rendering = False
        self._generation = 0
        self._figures = None
        self._chartsReady.connect(self._on_charts)

    @staticmethod
    def create(engine) -> QObject:
        return qml.instance("Coordinator")

    # ------------------------------------------------------------------ areas
    @Slot(str)
    def openArea(self, name: str) -> None:
        if name not in AREAS:
            return
        self._area = name
        self._message = ""
        self.refresh()
        self.flow.show(name)

    @Slot()
    def refresh(self) -> None:
        if self._area == "stats":
            self._load_stats()
        else:
            self._load_due()
        self.changed.emit()

    @Slot(str)
    def setVillage(self, village: str) -> None:
        self._village = village
        self._message = ""
        self.refresh()

    @Slot(int)
    def setDays(self, days: int) -> None:
        if days in DAY_CHOICES:
            self._days = days
            self.refresh()

    def forget(self) -> None:
        """Idle reset: drop what was shown (names, contacts)."""
        self._due, self._rows, self._counts, self._figures = None, [], [], None
        self._message = ""
        self.changed.emit()

    def close(self) -> None:
        """The app is closing: remove the rendered charts."""
        shutil.rmtree(self._charts_dir, ignore_errors=True)

    def _rule(self):
        from kiosk.service import cycle_rule

        return cycle_rule(self.store, self.settings)

    def _operator(self):
        try:
            return self.current_operator()
        except Exception:  # a staff session that cannot answer counts as nobody logged in
            log.exception("current_operator failed")
            return None

    # ------------------------------------------------------------------ due list
    def _load_due(self) -> None:
        from kiosk.due import due_list

        op = self._operator()
        self._due = due_list(self.store, self.clock, self._rule(), village=self._village or None, days=self._days,
                             contacts=op is not None)
        if op is not None:
            self.store.audit(getattr(op, "name", str(op)), "due_list_viewed",
                             {"village": self._village or None, "days": self._days, "count": len(self._due.entries),
                              "output": "screen"})
        self._rows = []
        for r in self._due.rows():
            extra = "  ".join(x for x in (r.get("phone"), r.get("address"), r.get("contact")) if x)
            self._rows.append({"n": r["n"], "name": r["name"], "id": r["id"], "village": r["village"] or "",
                               "urgency": r["urgency"], "label": r["urgency_label"], "date": r["date_label"],
                               "extra": extra})
        self._counts = [{"urgency": u, "label": text(f"visit_urgency_{u}"), "n": n}
                        for u, n in self._due.counts.items()]
        self._summary = text("ui_due_summary", n=len(self._rows), date=self._due.today, days=self._days)

    @Slot()
    def printList(self) -> None:
        self._print(public=False)

    @Slot()
    def printPublic(self) -> None:
        self._print(public=True)

    def _print(self, *, public: bool) -> None:
        from kiosk.core.errors import KioskError
        from kiosk.due import write_pdf

        if self._due is None:
            self._load_due()
        assert self._due is not None
        kind = "public" if public else "reminder"
        place = self._village or "all"
        name = f"{kind}-{place}-{self._due.today.isoformat()}.pdf"
        folder = self._out_dir()
        path = folder / name
        try:
            folder.mkdir(parents=True, exist_ok=True)
            write_pdf(self._due, path, public=public)
        except (KioskError, OSError) as e:
            self._message = getattr(e, "message", str(e))
            self.changed.emit()
            return
        printer = self._printer()
        if printer and self._print_pdf(path, printer):
            self._message = text("due_printed", printer=printer)
        else:
            self._message = text("due_saved_no_printer", path=path)
        self.changed.emit()

    def _out_dir(self) -> Path:
        if self.out_dir is not None:
            return self.out_dir
        from kiosk.config import home_dir

        return home_dir() / "prints"

    # ------------------------------------------------------------------ figures
    def _load_stats(self) -> None:
        from kiosk.stats import figures

        end = self.clock.today()
        from datetime import timedelta

        self._figures = figures(self.store, self.clock, self._rule(), village=self._village or None,
                                start=end - timedelta(days=self._days - 1), end=end)
        t = self._figures.totals
        rate = "—" if t["rate"] is None else f"{100 * t['rate']:.0f}%"
        self._summary = text("ui_stats_summary", rate=rate, certified=t["certified"], must=t["must_certify"],
                             attempts=t["attempts"], passes=t["passes"], days=self._days)
        self._start_charts()

    def _start_charts(self) -> None:
        self._generation += 1
        gen, fig = self._generation, self._figures
        folder = self._charts_dir / str(gen)
        self._rendering = True
        self.chartsChanged.emit()

        def work() -> None:
            from kiosk.charts import CHARTS, render_all

            try:
                paths = render_all(fig, folder, "png", scale=1.5)
                out = [{"name": n, "source": QUrl.fromLocalFile(str(paths[n])).toString(),
                        "title": text(f"chart_{n}")} for n in CHARTS]
            except Exception:
                log.exception("charts failed")
                out = []
            self._chartsReady.emit(gen, out)

        threading.Thread(target=work, name="charts", daemon=True).start()

    @Slot(int, "QVariantList")
    def _on_charts(self, gen: int, charts: list) -> None:
        if gen != self._generation:
            return  # an older request
        self._charts = list(charts)
        self._rendering = False
        self.chartsChanged.emit()

    def wait_for_charts(self, timeout_s: float = 60.0) -> bool:
        """For tests and the screenshot renderer: process events until the charts are in."""
        import time

        from PySide6.QtCore import QCoreApplication

        deadline = time.monotonic() + timeout_s
        while self._rendering and time.monotonic() < deadline:
            QCoreApplication.processEvents()
            time.sleep(0.02)
        return not self._rendering

    @Slot()
    def exportXlsx(self) -> None:
        from kiosk.core.errors import KioskError
        from kiosk.stats import write_xlsx

        if self._figures is None:
            self._load_stats()
        folder = self._out_dir()
        path = folder / f"stats-{self._village or 'all'}-{self.clock.today().isoformat()}.xlsx"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            write_xlsx(self._figures, path)
            self._message = text("stats_written", path=path)
        except (KioskError, OSError) as e:
            self._message = getattr(e, "message", str(e))
        self.changed.emit()

    # ------------------------------------------------------------------ properties
    def _villages(self) -> list[dict]:
        from kiosk.due import villages

        return [{"value": "", "label": text("ui_due_all")}] + [{"value": v, "label": v} for v in villages(self.store)]

    area = Property(str, lambda s: s._area, notify=changed)
    village = Property(str, lambda s: s._village, notify=changed)
    villages = Property("QVariantList", _villages, notify=changed)
    days = Property(int, lambda s: s._days, notify=changed)
    dayChoices = Property("QVariantList", lambda s: list(DAY_CHOICES), constant=True)
    rows = Property("QVariantList", lambda s: s._rows, notify=changed)
    counts = Property("QVariantList", lambda s: s._counts, notify=changed)
    summary = Property(str, lambda s: s._summary, notify=changed)
    message = Property(str, lambda s: s._message, notify=changed)
    contacts = Property(bool, lambda s: bool(s._due and s._due.contacts), notify=changed)
    charts = Property("QVariantList", lambda s: s._charts, notify=chartsChanged)
    rendering = Property(bool, lambda s: s._rendering, notify=chartsChanged)
