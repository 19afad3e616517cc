"""Build the committed binary assets of the kiosk (run from a developer checkout).

    uv run python packaging/build_assets.py            # everything
    uv run python packaging/build_assets.py face       # assets/demo/ only
    uv run python packaging/build_assets.py font       # assets/fonts/ only (subsets, then the PDF font)
    uv run python packaging/build_assets.py pdffont    # assets/fonts/NotoSansSC-Regular-TT.ttf only

`face` (build_demo_face): copies the public-domain NASA astronaut portrait that ships
inside scikit-image (`skimage.data.astronaut()`, Eileen Collins) into
assets/demo/astronaut.png and stores its 478 refined FaceMesh landmarks in
assets/demo/astronaut_landmarks.npy, so the demo virtual camera needs neither
scikit-image nor a FaceMesh pass at run time.

`font` (build_font): subsets Noto Sans CJK SC (SIL OFL 1.1) from Debian's
`fonts-noto-cjk` package (`apt-get install -y fonts-noto-cjk`) to ASCII, Latin-1,
common punctuation, CJK punctuation, full-width forms, every GB2312 character (all
6763 level-1 and level-2 hanzi) plus a few common given-name characters outside
GB2312, plus every non-ASCII character used in ui/*.qml, the string literals of
kiosk/**/*.py and assets/voice/*.txt. Hinting and vertical-layout tables are dropped.
Re-run it whenever new UI text may contain a character outside that set.

`pdffont` (build_pdf_font): reportlab (the printed A4 lists, kiosk/pdf.py) reads only
TrueType outlines, and the shipped subsets are CFF OpenType. This converts the shipped
Regular subset (not the system font: the PDF shows exactly the glyphs the screens show)
to quadratic TrueType outlines with fontTools' cu2qu (max error 1 unit of 1000) and writes
assets/fonts/NotoSansSC-Regular-TT.ttf, same licence (OFL 1.1, a modified version under a
reserved-name-free file name; the family name is kept as the OFL allows for unmodified
glyph design). Run after `font`.

All outputs are deterministic for a given input (no timestamps are rewritten).
"""
from __future__ import annotations

import argparse
import io
import sys
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO_DIR = ROOT / "assets" / "demo"
FONT_DIR = ROOT / "assets" / "fonts"

FACE_PNG = DEMO_DIR / "astronaut.png"
FACE_LANDMARKS = DEMO_DIR / "astronaut_landmarks.npy"

NOTO_DIR = Path("/usr/share/fonts/opentype/noto")
NOTO_COPYRIGHT = Path("/usr/share/doc/fonts-noto-cjk/copyright")
SC_FAMILY = "Noto Sans CJK SC"
FONT_OUTPUTS = {
    "Regular": FONT_DIR / "NotoSansSC-Subset.otf",
    "Bold": FONT_DIR / "NotoSansSC-Bold-Subset.otf",
}
MAX_FILE_BYTES = 3 * 1024 * 1024
MAX_TOTAL_BYTES = 5 * 1024 * 1024

# Given-name characters in everyday use (通用规范汉字表 additions and frequent name
# characters) that GB2312 lacks. Characters the font does not have are skipped.
EXTRA_NAME_CHARS = (
    "堃喆珺玥昇赟犇骉垚頔祎昳旻彧翀瑄璟婳芃镕堉旸烜燚珅璠晞沄洺浛淏湉濛炘焜琇瑀瑢"
    "玙珣琤萩啰凃曈禛堉琬瑗珮琦璘瑨玭珧珵琫昉晧晅暐曜炅炤烔烺煐熤燊瑒玹珉琀琎"
    "婍媞嫚姞妡娪婼嬿芷荭菂葳蘅蔻苾茆莛菡萁菁浥浵滢漪澔潆澂瀞沇泷洹淇淦渼湦"
    "镠钖铱锜錡镛铧锟钶钤镒锦骐骢骥喾甦竑笙筱箐篪翎翊翃翙翚颋颎飏馥鹍鹓鹞"
    "闫邝郄郗郜郦乜亓亢仉佴俣偲僖傅冮凇刭劼勍卲厍叕吖呙哿喆嘏圻坜垕埙埝堇堉"
)


# --------------------------------------------------------------------------- face

def build_demo_face() -> None:
    """Write assets/demo/astronaut.png and assets/demo/astronaut_landmarks.npy."""
    import cv2
    import numpy as np

    try:
        from skimage import data as skdata
    except ImportError as exc:  # scikit-image is a dev dependency only
        raise SystemExit("scikit-image is needed to build the demo face: uv sync --group dev") from exc

    rgb = skdata.astronaut()
    assert rgb.dtype == np.uint8 and rgb.ndim == 3 and rgb.shape[2] == 3, rgb.shape
    DEMO_DIR.mkdir(parents=True, exist_ok=True)
    ok, png = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    if not ok:
        raise SystemExit("PNG encoding failed")
    FACE_PNG.write_bytes(png.tobytes())

    # Import lazily from the app so the landmark convention lives in one place.
    sys.path.insert(0, str(ROOT))
    from kiosk.demo.virtual_camera import detect_landmarks

    landmarks = detect_landmarks(rgb)
    np.save(FACE_LANDMARKS, landmarks.astype(np.float32))
    face_w = landmarks[454, 0] - landmarks[234, 0]
    print(f"wrote {FACE_PNG.relative_to(ROOT)} ({FACE_PNG.stat().st_size} bytes, {rgb.shape[1]}x{rgb.shape[0]})")
    print(f"wrote {FACE_LANDMARKS.relative_to(ROOT)} ({landmarks.shape[0]} landmarks, face width {face_w:.1f} px)")


# --------------------------------------------------------------------------- font

def gb2312_chars() -> set[str]:
    """Every character of GB2312 (symbols rows 1-9 and the 6763 hanzi of rows 16-87)."""
    chars = set()
    for hi in range(0xA1, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.add(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return chars


def _ranges(*pairs: tuple[int, int]) -> set[str]:
    return {chr(c) for a, b in pairs for c in range(a, b + 1)}


BASE_RANGES = _ranges(
    (0x20, 0x7E),  # ASCII
    (0xA0, 0xFF),  # Latin-1 supplement (×, ·, °, é ...)
    (0x2010, 0x2027), (0x2030, 0x203B),  # dashes, quotes, †, ‰, ※
    (0x2103, 0x2103), (0x2116, 0x2116), (0x2160, 0x216B),  # ℃ № Ⅰ..Ⅻ
    (0x2190, 0x2199),  # arrows
    (0x2460, 0x2473),  # ①..⑳
    (0x25A0, 0x25CF), (0x2605, 0x2606), (0x2713, 0x2714), (0x2717, 0x2718),  # ■□▲●○ ★☆ ✓✔ ✗✘
    (0x3000, 0x303F),  # CJK symbols and punctuation
    (0xFF01, 0xFF5E), (0xFF5F, 0xFF65), (0xFFE0, 0xFFE6),  # full-width forms
)


def _string_literal_chars(py_file: Path) -> set[str]:
    chars: set[str] = set()
    try:
        text = py_file.read_text(encoding="utf-8")
        tokens = tokenize.generate_tokens(io.StringIO(text).readline)
        for tok in tokens:
            # FSTRING_MIDDLE exists on 3.12+; on 3.11 f-strings are STRING tokens.
            if tok.type == tokenize.STRING or tokenize.tok_name.get(tok.type) == "FSTRING_MIDDLE":
                chars.update(tok.string)
    except (OSError, UnicodeDecodeError, tokenize.TokenError, SyntaxError) as exc:
        print(f"warning: could not scan {py_file}: {exc}", file=sys.stderr)
    return chars


def project_chars() -> set[str]:
    """Non-ASCII characters used by the project's UI text, code strings and voice prompts."""
    chars: set[str] = set()
    for qml in sorted((ROOT / "ui").glob("**/*.qml")):
        chars.update(qml.read_text(encoding="utf-8", errors="replace"))
    for py in sorted((ROOT / "kiosk").glob("**/*.py")):
        chars.update(_string_literal_chars(py))
    for txt in sorted((ROOT / "assets" / "voice").glob("*.txt")):
        chars.update(txt.read_text(encoding="utf-8", errors="replace"))
    return {c for c in chars if ord(c) > 0x7E and c.isprintable()}


def wanted_chars() -> tuple[set[str], set[str]]:
    """(all characters to keep, the project-specific ones among them)."""
    proj = project_chars()
    return gb2312_chars() | BASE_RANGES | set(EXTRA_NAME_CHARS) | proj, proj


def _find_sc_face(weight: str) -> tuple[Path, int]:
    from fontTools.ttLib import TTCollection

    ttc = NOTO_DIR / f"NotoSansCJK-{weight}.ttc"
    if not ttc.is_file():
        raise SystemExit(f"{ttc} not found: apt-get install -y fonts-noto-cjk")
    coll = TTCollection(str(ttc), lazy=True)
    for i, face in enumerate(coll.fonts):
        if face["name"].getDebugName(1) == SC_FAMILY:
            return ttc, i
    raise SystemExit(f"no '{SC_FAMILY}' face in {ttc}")


def subset_font(weight: str, out: Path, chars: set[str]) -> dict:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    ttc, index = _find_sc_face(weight)
    font = TTFont(str(ttc), fontNumber=index, recalcTimestamp=False, lazy=False)
    cmap = font.getBestCmap()
    keep = sorted(ord(c) for c in chars if ord(c) in cmap)
    missing = sorted(c for c in chars if ord(c) not in cmap and c.isprintable() and not c.isspace())

    opts = subset.Options()
    opts.hinting = False  # drop CFF hints: smaller, and the kiosk renders at large sizes
    # Only what horizontal Chinese/Latin UI text needs. 'locl' is left out on purpose:
    # it would pull in the Japanese/Korean/Traditional glyph variants of every hanzi.
    opts.layout_features = ["kern", "ccmp", "liga", "mark", "mkmk", "palt", "halt"]
    opts.drop_tables += ["VORG", "vhea", "vmtx", "DSIG"]
    opts.name_IDs = ["*"]
    opts.name_languages = ["*"]
    opts.notdef_outline = True
    opts.recalc_timestamp = False
    opts.glyph_names = False

    subsetter = subset.Subsetter(options=opts)
    subsetter.populate(unicodes=keep)
    subsetter.subset(font)
    out.parent.mkdir(parents=True, exist_ok=True)
    font.save(str(out))
    font.close()

    check = TTFont(str(out))
    info = {
        "weight": weight,
        "path": out,
        "bytes": out.stat().st_size,
        "glyphs": check["maxp"].numGlyphs,
        "codepoints": len(check.getBestCmap()),
        "family": check["name"].getDebugName(1),
        "missing": missing,
    }
    check.close()
    return info


def build_font() -> list[dict]:
    """Write assets/fonts/NotoSansSC-Subset.otf (and the Bold subset if the size budget allows)."""
    chars, proj = wanted_chars()
    results = []
    total = 0
    for weight, out in FONT_OUTPUTS.items():
        info = subset_font(weight, out, chars)
        if info["bytes"] > MAX_FILE_BYTES or total + info["bytes"] > MAX_TOTAL_BYTES:
            if weight == "Regular":
                raise SystemExit(f"{out.name} is {info['bytes']} bytes, over the size budget")
            out.unlink()
            print(f"skipped {weight}: {info['bytes']} bytes would exceed the size budget")
            continue
        total += info["bytes"]
        results.append(info)
        print(f"wrote {out.relative_to(ROOT)}: {info['bytes']} bytes, {info['glyphs']} glyphs, "
              f"{info['codepoints']} code points, family '{info['family']}'")
    hanzi = sum(1 for c in chars if 0x4E00 <= ord(c) <= 0x9FFF)
    print(f"requested {len(chars)} characters ({hanzi} hanzi, {len(proj)} non-ASCII from the project)")
    missing = results[0]["missing"] if results else []
    if missing:
        print(f"not in the source font ({len(missing)}): {''.join(missing[:80])}")
    lic = FONT_DIR / "LICENSE-OFL.txt"
    lic.write_text(_ofl_text(), encoding="utf-8")
    print(f"wrote {lic.relative_to(ROOT)}")
    return results


PDF_FONT = FONT_DIR / "NotoSansSC-Regular-TT.ttf"


def otf_to_ttf(src: Path, out: Path, max_err: float = 1.0) -> dict:
    """Convert a CFF OpenType font to TrueType (quadratic) outlines, keeping cmap, metrics,
    names and layout tables. Deterministic: no timestamp is rewritten."""
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont, newTable

    font = TTFont(str(src), recalcTimestamp=False)
    if font.sfntVersion != "OTTO" or "CFF " not in font:
        raise SystemExit(f"{src} has no CFF outlines")
    order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    quad = {}
    for name in order:
        pen = TTGlyphPen(glyph_set)
        # CFF contours run counter-clockwise, TrueType's clockwise: reverse them.
        glyph_set[name].draw(Cu2QuPen(pen, max_err, reverse_direction=True))
        quad[name] = pen.glyph()
    font["loca"] = newTable("loca")
    glyf = font["glyf"] = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = quad
    del font["CFF "]
    for tag in ("VORG",):
        if tag in font:
            del font[tag]
    glyf.compile(font)
    hmtx = font["hmtx"]
    for name, g in glyf.glyphs.items():
        if hasattr(g, "xMin"):
            hmtx[name] = (hmtx[name][0], g.xMin)
    maxp = font["maxp"] = newTable("maxp")
    maxp.tableVersion = 0x00010000
    for attr in ("maxZones",):
        setattr(maxp, attr, 1)
    for attr in ("maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                 "maxStackElements", "maxSizeOfInstructions", "maxComponentElements"):
        setattr(maxp, attr, 0)
    maxp.compile(font)
    post = font["post"]
    post.formatType = 3.0  # no glyph names (the CID subset has none worth keeping)
    post.extraNames = []
    post.mapping = {}
    font["head"].glyphDataFormat = 0
    font.sfntVersion = "\x00\x01\x00\x00"
    out.parent.mkdir(parents=True, exist_ok=True)
    font.save(str(out))
    font.close()
    check = TTFont(str(out))
    info = {"path": out, "bytes": out.stat().st_size, "glyphs": check["maxp"].numGlyphs,
            "codepoints": len(check.getBestCmap()), "family": check["name"].getDebugName(1)}
    check.close()
    return info


def build_pdf_font() -> dict:
    """Write assets/fonts/NotoSansSC-Regular-TT.ttf from the shipped Regular subset."""
    info = otf_to_ttf(FONT_OUTPUTS["Regular"], PDF_FONT)
    print(f"wrote {PDF_FONT.relative_to(ROOT)}: {info['bytes']} bytes, {info['glyphs']} glyphs, "
          f"{info['codepoints']} code points, family '{info['family']}' (TrueType outlines, for reportlab)")
    return info


def _ofl_text() -> str:
    """The SIL OFL 1.1 text from the Debian package's copyright file, un-indented."""
    lines = NOTO_COPYRIGHT.read_text(encoding="utf-8").splitlines()
    # "License: SIL-1.1" also appears as a one-line reference in the Files stanza; the
    # stand-alone licence stanza is the one followed by indented text.
    starts = [i + 1 for i, line in enumerate(lines)
              if line.strip() == "License: SIL-1.1" and i + 1 < len(lines) and lines[i + 1].startswith(" ")]
    if not starts:
        raise SystemExit(f"no 'License: SIL-1.1' stanza in {NOTO_COPYRIGHT}")
    start = starts[0]
    body = []
    for line in lines[start:]:
        if not line.startswith(" "):
            break
        line = line[1:]
        body.append("" if line == "." else line)
    from fontTools.ttLib import TTFont

    ttc, index = _find_sc_face("Regular")
    src = TTFont(str(ttc), fontNumber=index, lazy=True)
    copyright_ = src["name"].getDebugName(0)  # "© 2014-2021 Adobe (http://www.adobe.com/)."
    trademark = src["name"].getDebugName(7)
    src.close()
    header = [
        "Noto Sans CJK SC, subset (assets/fonts/NotoSansSC-Subset.otf and, if present,",
        "assets/fonts/NotoSansSC-Bold-Subset.otf), made from Debian's fonts-noto-cjk package;",
        "assets/fonts/NotoSansSC-Regular-TT.ttf is the Regular subset with its outlines converted",
        "to TrueType (quadratic) curves by fontTools for the PDF writer, glyphs otherwise unchanged.",
        "",
        f"Font copyright: {copyright_}",
        "Debian's copyright file for fonts-noto-cjk: Copyright 2010-2012, Google Corporation.",
        f"{trademark}",
        "Upstream: https://github.com/googlefonts/noto-cjk",
        "",
        "This Font Software is licensed under the SIL Open Font License, Version 1.1.",
        "This license is copied below, and is also available with a FAQ at: https://openfontlicense.org",
        "",
    ]
    text = "\n".join(header + body).rstrip() + "\n"
    if "SIL OPEN FONT LICENSE Version 1.1" not in text or "TERMINATION" not in text:
        raise SystemExit(f"could not extract the OFL text from {NOTO_COPYRIGHT}")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", nargs="?", choices=["all", "face", "font", "pdffont"], default="all")
    args = parser.parse_args(argv)
    if args.what in ("all", "face"):
        build_demo_face()
    if args.what in ("all", "font"):
        build_font()
    if args.what in ("all", "font", "pdffont"):
        build_pdf_font()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
