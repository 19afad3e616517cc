"""Import rules that cover new modules by themselves (import-linter's contracts name modules).

Read from the source (AST), so a module added tomorrow is covered without editing a list:
- kiosk.core imports only the standard library and kiosk.core;
- no module of the village terminal (everything in kiosk but kiosk.county) imports the county
  hub or its server stack — a transitive import needs a direct one somewhere in the terminal,
  so checking every terminal module's own imports covers the chains too;
- the import-linter contracts in pyproject.toml name every top-level kiosk module, so their
  transitive checks never silently skip a new one.
"""
from __future__ import annotations

import ast
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "kiosk"
# openpyxl is not here: the terminal writes XLSX figures (kiosk.stats) since issue 13.
HUB_STACK = ("kiosk.county", "fastapi", "uvicorn", "sqlalchemy", "starlette")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in the file, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    here = _module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.append((node.lineno, mod))
    return out


def _files(under: Path) -> list[Path]:
    return sorted(under.rglob("*.py"))


def _under(mod: str, prefix: str) -> bool:
    return mod == prefix or mod.startswith(prefix + ".")


def test_the_core_imports_only_the_standard_library_and_itself():
    bad = []
    for path in _files(PKG / "core"):
        for line, mod in _imports(path):
            top = mod.split(".")[0]
            if mod == "__future__" or top in sys.stdlib_module_names or _under(mod, "kiosk.core"):
                continue
            bad.append(f"{path.relative_to(ROOT)}:{line}: {mod}")
    assert not bad, "kiosk.core must stay stdlib-only:\n" + "\n".join(bad)


def test_no_terminal_module_imports_the_county_hub_or_its_server_stack():
    bad = []
    for path in _files(PKG):
        if _under(_module_name(path), "kiosk.county"):
            continue
        for line, mod in _imports(path):
            if any(_under(mod, h) for h in HUB_STACK):
                bad.append(f"{path.relative_to(ROOT)}:{line}: {mod}")
    assert not bad, "the village terminal must not import the county hub:\n" + "\n".join(bad)


def test_the_import_linter_contracts_name_every_top_level_module():
    contracts = {c["name"]: c for c in tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
                 ["contracts"]}
    top = {f"kiosk.{p.stem if p.suffix else p.name}" for p in PKG.iterdir()
           if (p.suffix == ".py" and p.stem != "__init__") or (p.is_dir() and (p / "__init__.py").is_file())}
    core = next(c for n, c in contracts.items() if n.startswith("kiosk.core"))
    terminal = next(c for n, c in contracts.items() if n.startswith("The village terminal"))
    assert top - {"kiosk.core"} <= set(core["forbidden_modules"]), \
        f"add to the core contract's forbidden_modules: {sorted(top - {'kiosk.core'} - set(core['forbidden_modules']))}"
    want = top - {"kiosk.core", "kiosk.county"}
    assert want <= set(terminal["source_modules"]), \
        f"add to the terminal contract's source_modules: {sorted(want - set(terminal['source_modules']))}"
