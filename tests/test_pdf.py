"""The shipped font in PDFs: registered with reportlab, embedded, and read back by pdftotext."""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from kiosk import pdf

# CI installs poppler-utils (.ci/run): there the PDF checks must run, not skip.
needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None and os.environ.get("CI") != "true",
                                   reason="poppler-utils not installed (pdftotext)")


def test_font_is_truetype_converted_from_the_shipped_subset():
    from fontTools.ttLib import TTFont

    from kiosk.core.paths import assets_dir

    ttf = TTFont(str(pdf.font_path()))
    otf = TTFont(str(assets_dir("fonts", "NotoSansSC-Subset.otf")))
    assert "glyf" in ttf and "CFF " not in ttf
    assert set(ttf.getBestCmap()) == set(otf.getBestCmap())  # the same characters as the screens


@needs_poppler
def test_registered_font_embeds_and_extracts(tmp_path):
    from reportlab.pdfgen import canvas

    name = pdf.register_cjk_font()
    assert pdf.register_cjk_font() == name  # once
    out = tmp_path / "t.pdf"
    c = canvas.Canvas(str(out))
    c.setFont(name, 16)
    c.drawString(72, 700, "东村 提醒名单 王* 110105********002X")
    c.save()
    fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True, check=True).stdout
    assert "NotoSansCJKsc-Regular" in fonts and "TrueType" in fonts
    line = [x for x in fonts.splitlines() if "NotoSans" in x][0].split()
    assert line[-5:-2] == ["yes", "yes", "yes"]  # embedded, subset, ToUnicode
    got = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert "东村 提醒名单 王* 110105********002X" in got


def test_a_missing_font_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setattr(pdf, "CJK_FONT", "NotoSansSC-test-missing")
    monkeypatch.setattr(pdf, "font_path", lambda: tmp_path / "gone.ttf")
    with pytest.raises(pdf.PdfError) as e:
        pdf.register_cjk_font()
    assert e.value.code == "font_missing" and "gone.ttf" in e.value.message and "重新安装" in e.value.message
