"""The county hub says nothing outside its catalogue (kiosk/county/texts.py).

Read from the source (AST) like tests/test_engine_texts.py, so a module added to kiosk/county
tomorrow is covered without editing a list:
- no str constant with Chinese in kiosk/county/*.py outside texts.py, but docstrings and the data
  listed here (the roster's header and value aliases the parser matches, the benchmark's
  synthetic names) and what is left in page.py (its count, which may only go down);
- every code the hub names as a constant (`text("…")`, `message("…")`) has its words, so a typo
  cannot turn a message into an empty line (`text` never raises);
- a sentence the hub shares with the terminal is kiosk/core/messages.py's, not copied here.
"""
from __future__ import annotations

import ast
from pathlib import Path

from kiosk.core.messages import MESSAGES as SHARED
from kiosk.county import roster
from kiosk.county.texts import MESSAGES, text

from test_engine_texts import _const, _name, chinese_literals

ROOT = Path(__file__).resolve().parents[1]
HUB = ROOT / "kiosk" / "county"
CATALOGUE = "kiosk/county/texts.py"


def _aliases(*tables: dict[str, tuple[str, ...]]) -> set[str]:
    return {word for table in tables for words in table.values() for word in words}


# Data, not words: what a county's roster file says that the parser matches (header and value
# aliases, the date pattern, the category a row without one gets), and the synthetic residents,
# villages and service points the hub benchmark writes.
DATA = {
    "kiosk/county/roster.py": _aliases(roster.COLUMNS, roster.CATEGORY_WORDS, roster.STATUS_WORDS)
    | {r"[、,，;；/ ]+", r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", "养老"},
    "kiosk/county/bench.py": {"居民", "村", "服务点"},
}
# page.py (HTML) still writes the words that sit inside its markup (navigation, headings, buttons,
# form labels, the explanations under a heading, the tables built inside a page template): this
# many literals, to go down.
PAGE_LEFT = ("kiosk/county/page.py", 91)


def _hub_files() -> list[Path]:
    files = sorted(HUB.glob("*.py"))
    return [p for p in files if p.relative_to(ROOT).as_posix() != CATALOGUE]


def _literal(hit: str) -> str:
    return ast.literal_eval(hit.split(": ", 1)[1])


def test_the_hub_writes_no_chinese_outside_its_catalogue():
    files = _hub_files()
    assert len(files) > 10 and any(p.name == "cli.py" for p in files)  # the scope is really walked
    found, page = [], []
    for p in files:
        rel = p.relative_to(ROOT).as_posix()
        hits = [h for h in chinese_literals(p) if _literal(h) not in DATA.get(rel, set())]
        (page if rel == PAGE_LEFT[0] else found).extend(hits)
    assert found == [], "Chinese text belongs in kiosk/county/texts.py (code + data here):\n" + "\n".join(found)
    assert len(page) <= PAGE_LEFT[1], f"page.py has {len(page)} Chinese literals: lower PAGE_LEFT to it"


def test_the_listed_data_is_still_there():
    """A data word that leaves its module leaves this list too (no stale permission)."""
    for rel, words in DATA.items():
        present = {_literal(h) for h in chinese_literals(ROOT / rel)}
        assert words - present - {w for w in words if not any("\u4e00" <= c <= "\u9fff" for c in w)} == set(), rel


def named_codes() -> list[tuple[str, dict, str]]:
    """(where, catalogue, code) for every code the hub names as a constant."""
    calls = {"text": MESSAGES, "message": SHARED}
    out = []
    for path in _hub_files():
        rel = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and _name(node.func) in calls and node.args and _const(node.args[0]):
                out.append((f"{rel}:{node.lineno}", calls[_name(node.func)], _const(node.args[0])))
    return out


def test_every_code_the_hub_names_has_its_words():
    codes = named_codes()
    assert len(codes) > 200  # the walk really finds them
    missing = [f"{where}: {code}" for where, catalogue, code in codes if code not in catalogue]
    assert missing == []
    named = {code for _, catalogue, code in codes if catalogue is MESSAGES}
    assert set(MESSAGES) - named == set(), "codes nobody says: remove them"


def test_the_hub_catalogue_does_not_copy_the_shared_one():
    assert not set(MESSAGES) & set(SHARED)
    copied = {code: words for code, words in MESSAGES.items() if words in SHARED.values()}
    assert copied == {}, "say these with kiosk.core.messages.message(…)"
    prefixes = {p.stem for p in _hub_files()} | {"word"}  # word_: said by more than one module
    assert all(code.split("_")[0] in prefixes for code in MESSAGES)


def test_text_fills_placeholders_and_never_raises():
    assert text("cli_unknown_user", name="张三") == "没有用户 张三。"
    assert text("cli_unknown_user") == "没有用户 。"  # a missing value stays empty
    assert text("no_such_code", name="x") == ""
    assert text("cli_help_roster_policy") == '认证周期规则 JSON，如 {"type": "birthday", "grace_days": 0}'  # braces kept
