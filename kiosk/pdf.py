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

CJK_FONT = "NotoSansSC"  # the name reportlab documents use for the shipped font
PDF_FONT_FILE = "NotoSansSC-Regular-TT.ttf"

__all__ = ["CJK_FONT", "PDF_FONT_FILE", "PdfError", "font_path", "register_cjk_font"]


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
        from kiosk.texts import text

        raise PdfError("font_missing", text("pdf_font_missing", path=path))
    pdfmetrics.registerFont(TTFont(CJK_FONT, str(path)))
    # One face: bold and italic requests (<b> in a Paragraph) fall back to the same file.
    from reportlab.lib.fonts import addMapping

    for bold in (0, 1):
        for italic in (0, 1):
            addMapping(CJK_FONT, bold, italic, CJK_FONT)
    return CJK_FONT
