"""The documentation: README.md (short: what this is, the two commands, the layout, a table of the
docs) and docs/*.md. Every relative link and image resolves to a file in the repository (and a
`#fragment` to a heading of that file, as GitHub names it); README keeps its two commands word for
word (.ci/run and people copy them) and links every document in docs/."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [README, *DOCS]

# The two commands, exactly as README has always given them.
COMMANDS = (
    "uv run kiosk --demo        # start: the touchscreen app in a window, demo residents, virtual camera (no camera needed)",
    'uv run pytest -n auto      # run the tests, one worker per core (reads ../shared/data, see "Test data")',
)

_FENCE = re.compile(r"^\s*(```|~~~)")
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
# ![alt](target "title"), then [text](target "title") once the images are out of the text.
_TARGET = r"\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)"
_MD_IMAGE = re.compile(r"!\[[^\[\]]*\]" + _TARGET)
_MD_LINK = re.compile(r"\[[^\[\]]*\]" + _TARGET)
_HTML_REF = re.compile(r"<(?:img|a|source)\b[^>]*?\b(?:src|href)\s*=\s*[\"']([^\"']+)[\"']", re.I)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def _prose_lines(path: Path) -> list[tuple[int, str]]:
    """The page's lines outside fenced code blocks, code spans blanked (a path in backticks is not a link)."""
    out, fenced = [], False
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            out.append((n, _CODE_SPAN.sub("", line)))
    return out


def links(path: Path) -> list[tuple[int, str]]:
    """(line, target) of every Markdown link, image and HTML src/href on the page."""
    found = []
    for n, line in _prose_lines(path):
        found += [(n, m.group(1)) for m in _MD_IMAGE.finditer(line)]
        found += [(n, m.group(1)) for m in _MD_LINK.finditer(_MD_IMAGE.sub("image", line))]
        found += [(n, m.group(1)) for m in _HTML_REF.finditer(line)]
    return found


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: markup dropped, lower case, punctuation dropped (letters of any
    script, digits, `_` and `-` kept), spaces to hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its text
    text = re.sub(r"<[^>]+>", "", text).replace("`", "").lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for _, line in _prose_lines(path):
        m = _HEADING.match(line)
        if not m:
            continue
        base = slug(m.group(2))
        k = seen.get(base, 0)
        seen[base] = k + 1
        out.add(base if k == 0 else f"{base}-{k}")
    return out


def test_slug_is_githubs():
    assert slug("Receipts (认证回执)") == "receipts-认证回执"
    assert slug("Staff mode (工作人员) in the app") == "staff-mode-工作人员-in-the-app"
    assert slug("The command line (`kiosk`)") == "the-command-line-kiosk"
    assert slug("Data at rest (what is encrypted where, and the keys)") == "data-at-rest-what-is-encrypted-where-and-the-keys"
    assert slug("An unattended kiosk: self-test, maintenance window, heartbeat, ID-card reader") == (
        "an-unattended-kiosk-self-test-maintenance-window-heartbeat-id-card-reader")


def test_link_parser_sees_links_and_images_not_code(tmp_path):
    page = tmp_path / "p.md"
    page.write_text(
        "See [a](a.md#x) and ![b](img/b.png) and <img src=\"c.png\" width=\"200\" alt=\"c\">.\n"
        "Not `[d](d.md)`, and a link around an image: [![e](e.png)](f.md)\n"
        "```\n[g](g.md)\n```\n", encoding="utf-8")
    assert sorted(links(page)) == [(1, "a.md#x"), (1, "c.png"), (1, "img/b.png"), (2, "e.png"), (2, "f.md")]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_and_image_resolves(page: Path):
    broken = broken_links(page, ROOT)
    assert not broken, "\n".join(broken)


def test_pages_have_links_at_all():
    """The link check is not vacuous: the README links the docs, the screens page shows screenshots."""
    assert len(links(README)) >= len(DOCS)
    assert sum(t.startswith("screenshots/") for _, t in links(ROOT / "docs" / "screens.md")) >= 20


def test_readme_two_commands_word_for_word():
    lines = README.read_text(encoding="utf-8").splitlines()
    for command in COMMANDS:
        assert command in lines, f"README lost the command: {command}"
    assert "test-data" in anchors(README)  # the test command says: see "Test data"


def test_readme_is_short_and_links_every_doc():
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 150
    linked = {(README.parent / t.partition("#")[0]).resolve() for _, t in links(README)}
    missing = [d.name for d in DOCS if d.resolve() not in linked]
    assert not missing, f"docs not in the README's table: {missing}"


def broken_links(page: Path, root: Path) -> list[str]:
    """The page's relative links and images that do not resolve to a file under root."""
    broken = []
    for n, target in links(page):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # https:, mailto: …: not a file here
            continue
        file_part, _, fragment = target.partition("#")
        dest = (page.parent / unquote(file_part)).resolve() if file_part else page
        where = f"{page.relative_to(root)}:{n}: {target}"
        if not dest.is_relative_to(root.resolve()):
            broken.append(f"{where} (outside {root.name})")
        elif not dest.exists():
            broken.append(f"{where} (no such file)")
        elif fragment and dest.suffix == ".md" and unquote(fragment) not in anchors(dest):
            broken.append(f"{where} (no such heading in {dest.relative_to(root.resolve())})")
    return broken


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bundle_ships_the_install_guide_with_working_links(tmp_path):
    """packaging/build.sh puts county IT's documents in the bundle folder (packaging/ship_docs.sh):
    docs/install.md beside install.sh, and every page there finds what it links to inside the bundle."""
    bundle = tmp_path / "kiosk"
    subprocess.run(["bash", str(ROOT / "packaging" / "ship_docs.sh"), str(bundle)], check=True, timeout=60)
    assert (bundle / "docs" / "install.md").read_bytes() == (ROOT / "docs" / "install.md").read_bytes()
    assert (bundle / "NOTICE").is_file() and (bundle / "README.md").is_file()
    shipped = sorted((bundle / "docs").glob("*.md"))
    assert [p.name for p in shipped] == [p.name for p in DOCS]
    broken = [b for page in shipped for b in broken_links(page, bundle)]
    assert not broken, "\n".join(broken)
    assert "ship_docs.sh dist/kiosk" in (ROOT / "packaging" / "build.sh").read_text(encoding="utf-8")
