"""Colours and sizes of ui/Theme.qml: every text/background pair >= 7:1 (WCAG AAA), disabled
states included; elder-mode text >= 36 px at 1080p. Parsed from the QML (no Qt needed)."""
from __future__ import annotations

import re
from itertools import product
from pathlib import Path

import pytest

THEME = Path(__file__).resolve().parents[1] / "ui" / "Theme.qml"

# (text colour, background colour) of every pair the screens draw, by Theme property name.
PAIRS = [
    ("text", "bg"), ("text", "panel"), ("textSoft", "bg"), ("textSoft", "panel"),
    ("primaryText", "primary"), ("primaryText", "primaryPressed"),  # primary buttons
    ("text", "pressed"), ("text", "selected"), ("textSoft", "selected"), ("textSoft", "pressed"),
    ("disabledText", "disabled"),  # the greyed 下一步 / 查询
    ("good", "panel"), ("bad", "panel"), ("good", "bg"), ("bad", "bg"),  # result titles and records
    ("primaryText", "good"), ("primaryText", "bad"),  # ✓ and ! in their circles
    ("primaryText", "header"), ("primaryText", "demo"),
]
MIN_RATIO = 7.0


def theme_colours() -> dict[str, list[str]]:
    """name -> every value it can take (both sides of an `elder ? a : b`)."""
    out = {}
    for m in re.finditer(r"property color (\w+):\s*([^\n/]+)", THEME.read_text(encoding="utf-8")):
        out[m.group(1)] = re.findall(r'"(#[0-9A-Fa-f]{6})"', m.group(2))
    return out


def luminance(hex_colour: str) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_contrast_formula():
    assert contrast("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert contrast("#767676", "#FFFFFF") == pytest.approx(4.54, abs=0.01)


def test_every_declared_pair_is_at_least_7_to_1():
    colours = theme_colours()
    low = []
    for fg, bg in PAIRS:
        assert colours.get(fg) and colours.get(bg), (fg, bg)
        for a, b in product(colours[fg], colours[bg]):
            r = contrast(a, b)
            if r < MIN_RATIO:
                low.append(f"{fg} {a} on {bg} {b}: {r:.1f}:1")
    assert low == []


def test_buttons_take_their_colours_from_the_theme_and_stay_opaque_when_disabled():
    src = (THEME.parent / "BigButton.qml").read_text(encoding="utf-8")
    assert "Theme.disabledText" in src and "Theme.disabled " in src  # the singleton Theme (ui/qmldir)
    assert not re.search(r'"#[0-9A-Fa-f]{6}"', src)
    assert not re.search(r"opacity:\s*enabled2\s*\?", src)


def test_elder_text_sizes_at_1080p():
    src = THEME.read_text(encoding="utf-8")
    sizes = {m.group(1): (int(m.group(2)), int(m.group(3)))
             for m in re.finditer(r"property int (\w+): Math\.round\(\(elder \? (\d+) : (\d+)\) \* f\)", src)}
    assert {"body", "small", "title"} <= set(sizes)
    assert all(elder >= 36 for elder, _ in sizes.values()), sizes
    assert all(elder > normal for elder, normal in sizes.values()), sizes
