"""PDF output with the shipped Chinese font (reportlab; no Qt).

`register_cjk_font()` is the one place reportlab learns the font: the shipped Noto Sans CJK SC
subset, converted to TrueType outlines at asset-build time (`packaging/build_assets.py pdffont`:
reportlab's TTFont cannot read CFF OpenType). reportlab embeds the glyphs it uses as a subset with
a ToUnicode map, so `pdftotext` reads the Chinese back. Printed lists (kiosk.due) and receipts use it.
"""
from __future__ import annotations

from pathlib import Path

from kiosk.core.errors import KioskError
from kiosk.core.paths import assets_dir
from kiosk.texts import text

CJK_FONT = "NotoSansSC"  # the name reportlab documents use for the shipped font
PDF_FONT_FILE = "NotoSansSC-Regular-TT.ttf"

__all__ = ["CJK_FONT", "PDF_FONT_FILE", "ListDocument", "PdfError", "font_path", "register_cjk_font"]


class PdfError(KioskError):
    """A PDF that cannot be written (missing font, unwritable file)."""


def font_path() -> Path:
    return assets_dir("fonts", PDF_FONT_FILE)


def register_cjk_font() -> str:
    """Register the shipped CJK font with reportlab once; returns its name for setFont/ParagraphStyle."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if CJK_FONT in pdfmetrics.getRegisteredFontNames():
        return CJK_FONT
    path = font_path()
    if not path.is_file():
        raise PdfError("font_missing", text("pdf_font_missing", path=path))
    pdfmetrics.registerFont(TTFont(CJK_FONT, str(path)))
    # One face: bold and italic requests (<b> in a Paragraph) fall back to the same file.
    from reportlab.lib.fonts import addMapping

    for bold in (0, 1):
        for italic in (0, 1):
            addMapping(CJK_FONT, bold, italic, CJK_FONT)
    return CJK_FONT


BODY_PT = 14  # printed lists: large type for older coordinators and a list posted on a wall
TITLE_PT = 20
SMALL_PT = 12


class ListDocument:
    """An A4 list: title and subtitle lines at the top of every page, a table whose header row
    repeats on each page, a footer line and "page n of N" at the bottom. Text in the shipped font."""

    def __init__(self, *, title: str, subtitle: list[str], footer: str, page_label, landscape: bool = False):
        self.title, self.subtitle, self.footer = title, subtitle, footer
        self.page_label = page_label  # (n, total) -> str
        self.landscape = landscape

    def _page_size(self):
        from reportlab.lib.pagesizes import A4, landscape

        return landscape(A4) if self.landscape else A4

    def write(self, path: Path, header: list[str], weights: list[float], rows: list[list[str]], *,
              empty: str = "", nowrap: tuple[int, ...] = ()) -> int:
        """Write the PDF (atomically: a temporary file renamed into place); returns the page count.
        Columns in `nowrap` (ID numbers, numbers) are as wide as their widest cell; the others
        share the rest of the width by `weights` and wrap."""
        from reportlab.lib import colors
        from reportlab.lib.styles import ParagraphStyle
        from reportlab.lib.units import mm
        from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer
        from reportlab.platypus.tables import TableStyle

        from reportlab.pdfbase.pdfmetrics import stringWidth

        font = register_cjk_font()
        width, height = self._page_size()
        margin = 15 * mm
        usable = width - 2 * margin
        subtitle = [part for line in self.subtitle for part in wrap(line, font, BODY_PT, usable)]
        footer = wrap(self.footer, font, SMALL_PT, usable)
        top = margin + TITLE_PT * 1.5 + len(subtitle) * BODY_PT * 1.35 + 4 * mm
        bottom = margin + (len(footer) + 1) * SMALL_PT * 1.3 + 2 * mm
        body = ParagraphStyle("body", fontName=font, fontSize=BODY_PT, leading=BODY_PT * 1.3,
                              wordWrap="CJK")
        head = ParagraphStyle("head", parent=body, textColor=colors.white)
        pad = 6
        fixed = {i: max(stringWidth(str(r[i]), font, BODY_PT) for r in [header, *rows]) + 2 * pad + 2
                 for i in nowrap}
        flexible = len(weights) - len(fixed)
        room = flexible * (4 * BODY_PT + 2 * pad)  # at least four characters a line per wrapping column
        if flexible and usable - sum(fixed.values()) < room:
            # Too wide to keep whole: the fixed columns shrink (and wrap) to leave that room.
            k = (usable - room) / sum(fixed.values())
            fixed = {i: w * k for i, w in fixed.items()}
        rest = usable - sum(fixed.values())
        total = sum(w for i, w in enumerate(weights) if i not in fixed) or 1.0
        col_widths = [fixed[i] if i in fixed else rest * w / total for i, w in enumerate(weights)]
        data = [[Paragraph(_esc(h), head) for h in header]]
        data += [[Paragraph(_esc(c), body) for c in r] for r in rows]
        table = LongTable(data, colWidths=col_widths, repeatRows=1)
        table.setStyle(TableStyle([
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#1f4e79")),
            ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#eef3f8")]),
            ("GRID", (0, 0), (-1, -1), 0.6, colors.HexColor("#555555")),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("TOPPADDING", (0, 0), (-1, -1), 4),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
            ("LEFTPADDING", (0, 0), (-1, -1), pad),
            ("RIGHTPADDING", (0, 0), (-1, -1), pad),
        ]))
        story = [table] if rows else [Spacer(1, 6 * mm), Paragraph(_esc(empty), body)]

        pages: list[int] = []

        def decorate(canvas, doc) -> None:
            canvas.saveState()
            canvas.setFont(font, TITLE_PT)
            y = height - margin - TITLE_PT
            canvas.drawString(margin, y, self.title)
            canvas.setFont(font, BODY_PT)
            for line in subtitle:
                y -= BODY_PT * 1.35
                canvas.drawString(margin, y, line)
            canvas.setFont(font, SMALL_PT)
            y = margin + len(footer) * SMALL_PT * 1.3
            for line in footer:
                canvas.drawString(margin, y, line)
                y -= SMALL_PT * 1.3
            canvas.restoreState()
            pages.append(doc.page)

        tmp = path.with_name(path.name + ".tmp")

        def build() -> None:
            numbered = _numbered_canvas(font, self.page_label, margin)
            doc = SimpleDocTemplate(str(tmp), pagesize=(width, height), leftMargin=margin, rightMargin=margin,
                                    topMargin=top, bottomMargin=bottom, title=self.title,
                                    author=text("ui_app_name"), creator=text("ui_app_name") + " kiosk.pdf")
            doc.build(list(story), onFirstPage=decorate, onLaterPages=decorate, canvasmaker=numbered)

        build()
        try:
            tmp.replace(path)
        except OSError:
            tmp.unlink(missing_ok=True)
            raise
        return max(pages) if pages else 1


def _numbered_canvas(font: str, page_label, margin: float):
    """A canvas that holds its pages until the end, then writes "page n of N" on each."""
    from reportlab.pdfgen.canvas import Canvas

    class Numbered(Canvas):
        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            self._saved: list[dict] = []

        def showPage(self):
            self._saved.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._saved)
            for state in self._saved:
                self.__dict__.update(state)
                width = self._pagesize[0]
                self.setFont(font, SMALL_PT)
                self.drawRightString(width - margin, margin, page_label(self._pageNumber, total))
                super().showPage()
            super().save()

    return Numbered


def wrap(line: str, font: str, size: float, width: float) -> list[str]:
    """Break a line of Chinese (no spaces to break at) into lines no wider than `width`."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    out, cur = [], ""
    for ch in line:
        if cur and stringWidth(cur + ch, font, size) > width:
            out.append(cur)
            cur = ch.lstrip()
        else:
            cur += ch
    return [*out, cur] if cur or not out else out


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
