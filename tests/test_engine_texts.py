"""The terminal writes no Chinese in its code: the engine's messages, the command line's lines and
--help, and the app's Python words come from the text catalogue.

Read from the source (AST), so a module added tomorrow is covered without editing a list:
- no str constant with Chinese in the terminal's modules (the engine, kiosk/cli, kiosk/app) outside
  kiosk/county (the hub: its own guard) and kiosk/texts, but docstrings, the shared catalogue of the
  hub and the terminal (kiosk/core/messages.py) and the data listed below with its reason;
- every catalogue code the terminal names as a constant (`text("…")`, an error's code or `why`) has
  its words, so a typo cannot turn a message into an empty line (`text` never raises);
- every command and option the CLI describes has its --help words (a code built with an f-string
  is not seen by the AST walk, but an empty help is).
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from kiosk.core.messages import MESSAGES
from kiosk.texts import TEXTS

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "kiosk"
# Han characters and Chinese typography (、，：（）…: the catalogue's too).
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")
# Out of scope: the county hub (kiosk.county has its own words and guard) and the catalogue itself.
NOT_TERMINAL = ("kiosk/county/", "kiosk/texts/")
SHARED_CATALOGUE = "kiosk/core/messages.py"  # the hub may not import kiosk.texts (import-linter)
# Stored values, not words: ResidentId.sex and the residents table's CHECK on it (a shipped migration),
# and the separators of transliterated names that masking keeps (买买提·吐尔逊, also written with ．).
DATA_CHARACTERS = {"kiosk/core/ids.py": set("男女．"), "kiosk/store/migrations.py": set("男女")}
# Whole literals that are data, not words: the demo residents' names (stored in the demo database as
# the roster's names, shown as names; kiosk.app.demo makes them, the autopilot finds them by name).
DEMO_NAMES = {"王秀英", "刘玉珍", "李建国", "赵德福"}
DATA_LITERALS = {"kiosk/app/demo.py": DEMO_NAMES, "kiosk/app/autopilot.py": DEMO_NAMES}


def _terminal_files() -> list[Path]:
    out = []
    for p in sorted(PKG.rglob("*.py")):
        rel = p.relative_to(ROOT).as_posix()
        if not rel.startswith(NOT_TERMINAL) and rel != SHARED_CATALOGUE:
            out.append(p)
    return out


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                ids.add(id(body[0].value))
    return ids


def chinese_literals(path: Path, rel: str | None = None) -> list[str]:
    """file:line: literal, for every str constant with Chinese that is not a docstring."""
    rel = rel or path.relative_to(ROOT).as_posix()
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
    docs = _docstrings(tree)
    allowed = DATA_CHARACTERS.get(rel, set())
    data = DATA_LITERALS.get(rel, set())
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            if node.value not in data and set(CJK.findall(node.value)) - allowed:
                out.append(f"{rel}:{node.lineno}: {node.value[:60]!r}")
    return sorted(out)


def test_the_terminal_writes_no_chinese_only_codes_for_the_catalogue():
    files = _terminal_files()
    rels = {p.relative_to(ROOT).as_posix() for p in files}
    # the scope is really walked: the engine, the command line and the app's Python, not the hub
    assert len(files) > 100 and {"kiosk/frames.py", "kiosk/cli/sync.py", "kiosk/app/demo.py"} <= rels
    assert not any(r.startswith("kiosk/county/") for r in rels)
    found = [hit for p in files for hit in chinese_literals(p)]
    assert found == [], "Chinese text belongs in kiosk/texts/zh_CN.py (code + data here):\n" + "\n".join(found)


def test_the_guard_sees_a_literal_and_passes_docstrings_and_comments(tmp_path):
    src = ('"""模块说明：可以写中文。"""\n'
           'def f():\n    """函数说明。"""\n    # 注释也可以\n    return "请核对号码"\n'
           'X = f"文件：{1}"\n')
    bad = tmp_path / "probe.py"
    bad.write_text(src, encoding="utf-8")
    hits = chinese_literals(bad, "kiosk/probe.py")
    assert [h.split(":")[1] for h in hits] == ["5", "6"] and "请核对号码" in hits[0]


def test_the_listed_data_passes_only_as_a_whole_literal(tmp_path):
    probe = tmp_path / "demo.py"
    probe.write_text('A = "王秀英"\nB = "王秀英之子"\nC = f"{A}，您好"\n', encoding="utf-8")
    hits = chinese_literals(probe, "kiosk/app/demo.py")
    assert [h.split(":")[1] for h in hits] == ["2", "3"]


# ---------------------------------------------------------------------- every named code has words
# error class -> (catalogue, prefix, index of the positional `why` or None, index of a positional message)
ERRORS = {
    "StoreError": (TEXTS, "store_", None, 1), "TemplateKeyError": (TEXTS, "store_", None, 1),
    "FrameSourceError": (TEXTS, "frame_", None, 1), "PhotoError": (TEXTS, "photo_", None, 1),
    "EmbedderError": (TEXTS, "embed_", None, None), "PopulationStatsError": (TEXTS, "embed_", None, None),
    "SyncError": (TEXTS, "sync_", None, 1), "SettingsError": (TEXTS, "config_", 0, None),
    "BadActions": (TEXTS, "actions_", 0, None),
    "OperatorError": (TEXTS, "operator_", None, None), "EnrolmentError": (TEXTS, "enrol_error_", None, None),
    "IdCardError": (TEXTS, "idcard_", None, None), "UpdateError": (TEXTS, "", None, None),
    "ProtocolError": (MESSAGES, "protocol_", None, 1), "InvalidIdNumber": (MESSAGES, "id_", 1, None),
}
TEXT_CALLS = {"text": TEXTS, "_words": TEXTS, "has": None, "message": MESSAGES, "core_message": MESSAGES}


def _name(func: ast.expr) -> str:
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _const(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def named_codes() -> list[tuple[str, dict, str]]:
    """(where, catalogue, code) for every code the terminal names as a constant."""
    out = []
    for path in _terminal_files() + [ROOT / SHARED_CATALOGUE]:
        rel = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name, where = _name(node.func), f"{rel}:{node.lineno}"
            kw = {k.arg: k.value for k in node.keywords if k.arg}
            if name in TEXT_CALLS and TEXT_CALLS[name] is not None and node.args and _const(node.args[0]):
                out.append((where, TEXT_CALLS[name], _const(node.args[0])))
            elif name in ERRORS and node.args and _const(node.args[0]) and not isinstance(node.func, ast.Attribute):
                catalogue, prefix, why_at, message_at = ERRORS[name]
                if message_at is not None and (len(node.args) > message_at or "message" in kw):
                    continue  # words passed on (the hub's, another error's)
                why = _const(kw.get("why")) or (_const(node.args[why_at]) if why_at is not None
                                                and len(node.args) > why_at else None)
                if why_at == 0:
                    why = _const(node.args[0])
                out.append((where, catalogue, prefix + (why or _const(node.args[0]) or "")))
    return out


def test_every_code_the_terminal_names_has_its_words():
    codes = named_codes()
    wheres = {where.split(":")[0] for where, _, _ in codes}
    # the walk really finds them, in the engine, the command line and the app's Python
    assert len(codes) > 500 and {"kiosk/service.py", "kiosk/cli/sync.py", "kiosk/app/demo.py"} <= wheres
    missing = [f"{where}: {code}" for where, catalogue, code in codes if code not in catalogue]
    assert missing == []


def test_every_command_and_option_has_its_help_words():
    """`text` gives "" for an unknown code: an empty --help line is a code with no words."""
    import argparse

    from kiosk.cli import build_parser

    seen, empty = [], []

    def walk(parser: argparse.ArgumentParser, name: str) -> None:
        seen.append(name)
        if parser.description == "":
            empty.append(f"{name}: description")
        for action in parser._actions:
            if action.help == "" or action.metavar == "":
                empty.append(f"{name} {'/'.join(action.option_strings) or action.dest}")
            if isinstance(action, argparse._SubParsersAction):
                empty.extend(f"{name} {c.dest}" for c in action._choices_actions if c.help == "")
                for sub_name, sub in action.choices.items():
                    walk(sub, f"{name} {sub_name}")

    walk(build_parser(), "kiosk")
    assert len(seen) > 30 and "kiosk sync" in seen and "kiosk operator add" in seen
    assert empty == []


def test_the_shared_catalogue_and_the_terminal_catalogue_do_not_overlap():
    assert not set(MESSAGES) & set(TEXTS)
    assert all(c.startswith(("id_", "protocol_")) for c in MESSAGES)


# ---------------------------------------------------------------------- the words are the same as before
def test_errors_carry_code_data_and_the_catalogue_words(tmp_path):
    from kiosk.core.ids import InvalidIdNumber, check_partial, parse_id_number
    from kiosk.frames import CameraLost, FrameSourceError, read_image
    from kiosk.protocol import ProtocolError
    from kiosk.store import StoreCorrupt
    from kiosk.sync.client import SyncError, check_url

    with pytest.raises(FrameSourceError) as e:
        read_image(tmp_path / "没有.jpg")
    assert e.value.code == "unreadable_file" and e.value.message == f"找不到文件：{tmp_path / '没有.jpg'}"
    assert e.value.data["path"] == tmp_path / "没有.jpg"
    assert CameraLost("usb gone").message == "摄像头连接中断，请检查摄像头连线后重新开始认证。"
    assert StoreCorrupt().message.startswith("数据库文件已损坏，程序没有改动它。")
    with pytest.raises(SyncError) as s:
        check_url("ftp://county")
    assert s.value.message == "县里服务器地址“ftp://county”格式不对，应像 https://192.168.1.10:8443"
    assert s.value.data == {"url": "ftp://county"} and not s.value.retryable
    with pytest.raises(InvalidIdNumber) as i:
        parse_id_number("1101051949")
    assert (i.value.code, i.value.data, i.value.message) == ("length", {"n": 10}, "身份证号码应为18位，您输入了10位，请核对。")
    assert check_partial("11010519491") is None and check_partial("1101051" + "9" * 12) == \
        "身份证号码只有18位，您输入了19位，请删去多余的数字。"
    assert ProtocolError("bad_key").message == "公钥格式不正确。"
    assert ProtocolError("bad_template", "县里自己的话。").message == "县里自己的话。"  # the hub's own words pass
    assert ProtocolError("bad_category", category="x").message == "未知的认证类别：x。"


def test_the_hub_shares_the_refusal_words_without_the_terminal_catalogue():
    import subprocess
    import sys

    code = ("import sys; import kiosk.protocol as P; assert 'kiosk.texts' not in sys.modules; "
            "print(P.REFUSALS['not_on_roster']); print(P.CLOCK_SUSPECT[1])")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == [MESSAGES["protocol_not_on_roster"], MESSAGES["protocol_clock_suspect"]]
    assert out.startswith("县里名册中没有这个人，县里未收此记录（本机已保留）。")
