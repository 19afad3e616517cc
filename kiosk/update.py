"""Program updates, signed by the county and installed in the maintenance window (issue 14, item 3).

County side: `kiosk-county update sign BUNDLE.tar.gz --version V` writes BUNDLE.tar.gz.sig, a small
JSON file {format, version, sha256, size, signature}; the signature is the hub's Ed25519 key's (the
key terminals already trust for county roster bundles: kiosk.county.keys.HubKeys.sign) over the
canonical JSON of the other four fields. The tarball holds the PyInstaller bundle folder's contents
at its top (`tar -czf village-kiosk-V.tar.gz -C dist/kiosk .`): a `kiosk` program and its files.

Terminal side: `kiosk update stage FILE` checks the signature against the hub key stored at
registration (sync_identity.hub_sign_pub), the size and sha256, that the tarball is safe to unpack
and that the version is newer than the one running, then copies both into $KIOSK_HOME/updates/
(staged.tar.gz, staged.tar.gz.sig; 0600, written atomically). In the maintenance window the app
exits with the restart status (75) when no face check runs (kiosk.app.admin.UpdateInWindow);
packaging/systemd/village-kiosk-start then asks the running bundle `kiosk update verify-staged`
(exit 0: install) and swaps the folders by rename, keeping the old one as .prev; it rolls back
when the new program fails twice in a row right after starting and writes `rollback` here, which
`kiosk update status` and the self-test report. The shell never parses JSON or checks crypto.

Files in the updates folder (the wrapper moves them, this module reads them):
    staged.tar.gz(.sig)   waiting for the window        installed.sig   the version now installed
    prev.sig              the one kept as .prev          failed.sig      the one rolled back
    trial                 starts failed since install    rollback        key=value lines: why
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk import protocol as P
from kiosk.core.atomic import copy_atomic, write_atomic
from kiosk.core.errors import KioskError

FORMAT = "village-kiosk-update"
SIG_SUFFIX = ".sig"
STAGED = "staged.tar.gz"
INSTALLED_SIG = "installed.sig"
ROLLBACK = "rollback"
_VERSION = re.compile(r"^\d+(\.\d+){0,3}$")
MAX_SIG_BYTES = 4096


class UpdateError(KioskError):
    """An update file this terminal will not install: code + Chinese message (exit 2)."""

    def __init__(self, code: str, **data: Any):
        from kiosk.texts import text

        super().__init__(code, text(code, **data))


def parse_version(v: str) -> tuple[int, ...]:
    if not isinstance(v, str) or not _VERSION.match(v):
        raise UpdateError("update_bad_version", version=str(v))
    return tuple(int(x) for x in v.split("."))


def _sha256(path: Path) -> tuple[str, int]:
    h, n = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
            n += len(chunk)
    return h.hexdigest(), n


def _signed_fields(version: str, sha256: str, size: int) -> bytes:
    # the same bytes as kiosk.county.cli._update_signed_fields (the hub may import only kiosk.protocol)
    return P.canonical_json({"format": FORMAT, "version": version, "sha256": sha256, "size": size})


def sig_path(bundle: Path) -> Path:
    return bundle.with_name(bundle.name + SIG_SUFFIX)


# ----------------------------------------------------------------------------- terminal side
@dataclass(frozen=True)
class Verified:
    version: str
    sha256: str
    size: int


def read_sig(path: Path) -> dict:
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise UpdateError("update_unsigned", path=str(path)) from None
    except OSError as e:
        raise UpdateError("update_unreadable", path=str(path), detail=str(e)) from None
    try:
        if len(raw) > MAX_SIG_BYTES:
            raise ValueError("too large")
        sig = json.loads(raw)
        if not isinstance(sig, dict) or sig.get("format") != FORMAT:
            raise ValueError("not an update signature")
        if not all(isinstance(sig.get(k), t) for k, t in
                   (("version", str), ("sha256", str), ("size", int), ("signature", str))):
            raise ValueError("fields missing")
    except (ValueError, UnicodeDecodeError):
        raise UpdateError("update_bad_signature", path=str(path)) from None
    return sig


def check_tarball(bundle: Path) -> None:
    """A gzip tarball whose members all stay inside the folder it is unpacked into (no absolute
    paths, no "..", no links pointing out, no devices) and that has a `kiosk` program at its top."""
    try:
        with tarfile.open(bundle, "r:gz") as tar:
            members = tar.getmembers()
    except (tarfile.TarError, EOFError, OSError) as e:
        raise UpdateError("update_not_a_bundle", path=str(bundle), detail=str(e)) from None
    has_app = False
    for m in members:
        name = os.path.normpath(m.name)
        parts = name.split("/")
        bad = (os.path.isabs(m.name) or ".." in parts or not (m.isfile() or m.isdir() or m.issym() or m.islnk()))
        if m.issym() or m.islnk():
            target = os.path.normpath(os.path.join(os.path.dirname(name), m.linkname)) if m.issym() \
                else os.path.normpath(m.linkname)
            bad = bad or os.path.isabs(m.linkname) or target.split("/")[0] == ".."
        if bad:
            raise UpdateError("update_not_a_bundle", path=str(bundle), detail=m.name)
        has_app = has_app or (name == "kiosk" and m.isfile() and bool(m.mode & 0o100))
    if not has_app:
        raise UpdateError("update_not_a_bundle", path=str(bundle), detail="kiosk")


def verify(bundle: Path, hub_sign_pub: str, sig_file: Path | None = None) -> Verified:
    """The bundle is exactly what the county signed (signature, size, sha256) and safe to unpack."""
    bundle = Path(bundle)
    if not bundle.is_file():
        raise UpdateError("update_missing", path=str(bundle))
    sig = read_sig(sig_file or sig_path(bundle))
    message = _signed_fields(sig["version"], sig["sha256"], sig["size"])
    if not P.verify_signature(P.verify_key_from(hub_sign_pub), sig["signature"], message):
        raise UpdateError("update_bad_signature", path=str(bundle))
    try:
        sha, size = _sha256(bundle)
    except OSError as e:
        raise UpdateError("update_unreadable", path=str(bundle), detail=str(e)) from None
    if size != sig["size"] or sha != sig["sha256"]:
        raise UpdateError("update_tampered", path=str(bundle))
    parse_version(sig["version"])
    check_tarball(bundle)
    return Verified(sig["version"], sha, size)


def running_version(updates: Path) -> str | None:
    """The version installed by an update (installed.sig), else the package's own, else None."""
    try:
        v = json.loads((updates / INSTALLED_SIG).read_text()).get("version")
        parse_version(v)
        return v
    except (OSError, ValueError, AttributeError, UpdateError):
        pass
    from kiosk.sync.heartbeat import app_version

    v = app_version()
    try:
        parse_version(v)
        return v
    except UpdateError:
        return None


def _newer_or_refuse(version: str, updates: Path) -> None:
    current = running_version(updates)
    if current is not None and parse_version(version) <= parse_version(current):
        raise UpdateError("update_not_newer", version=version, current=current)


def stage(bundle: Path, hub_sign_pub: str, updates: Path) -> Verified:
    """Verify the file and its .sig, then copy both into `updates` (0600, atomic: the bundle
    first, the signature last, so a half-staged update has no signature and is not installed).
    The copy is verified again: what was checked is what waits for the window."""
    v = verify(bundle, hub_sign_pub)
    _newer_or_refuse(v.version, updates)
    updates.mkdir(mode=0o700, parents=True, exist_ok=True)
    staged = updates / STAGED
    sig_path(staged).unlink(missing_ok=True)
    try:
        copy_atomic(Path(bundle), staged, mode=0o600)
        again = verify(staged, hub_sign_pub, sig_path(Path(bundle)))
        if again != v:
            raise UpdateError("update_tampered", path=str(bundle))
        write_atomic(sig_path(staged), sig_path(Path(bundle)).read_bytes(), mode=0o600)
    except OSError as e:
        staged.unlink(missing_ok=True)
        raise UpdateError("update_unreadable", path=str(staged), detail=str(e)) from None
    except UpdateError:
        staged.unlink(missing_ok=True)
        raise
    return v


def verify_staged(hub_sign_pub: str, updates: Path) -> Verified:
    """The staged update, verified again (the wrapper installs it only on success)."""
    staged = updates / STAGED
    if not staged.exists():
        raise UpdateError("update_none_staged")
    v = verify(staged, hub_sign_pub)
    _newer_or_refuse(v.version, updates)
    return v


def staged_version(updates: Path) -> str | None:
    """The staged version (from its .sig; cheap, not verified), None when nothing is staged."""
    staged = updates / STAGED
    if not staged.exists():
        return None
    try:
        return str(read_sig(sig_path(staged))["version"])
    except UpdateError:
        return None


def last_rollback(updates: Path) -> dict | None:
    """{"at", "version", "status", "seconds", "reason"} written by the wrapper, or None."""
    try:
        lines = (updates / ROLLBACK).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    out = dict(line.split("=", 1) for line in lines if "=" in line)
    try:  # the version that failed: its signature file, moved aside by the wrapper
        out.setdefault("version", str(json.loads((updates / "failed.sig").read_text())["version"]))
    except (OSError, ValueError, KeyError, TypeError):
        out.setdefault("version", "?")
    return out


def status(updates: Path, window: dict | None = None) -> dict:
    """For `kiosk update status`: what is staged, installed and whether it waits for the window."""
    staged = staged_version(updates)
    w = window or {}
    return {"staged": staged, "installed": running_version(updates),
            "waits_for_window": staged is not None, "window_active": bool(w.get("active")),
            "next_window": w.get("next_start") or w.get("start") or None,
            "rollback": last_rollback(updates)}


def check_update(updates: Path):
    """For the self-test (kiosk.selftest): "warn" after a rollback (until the next update is
    installed), "ok" while an update waits for the window; None when there is nothing to say."""
    from kiosk.selftest import Check

    r = last_rollback(updates)
    if r is not None:
        return Check("update", "warn", "selftest_update_rolled_back",
                     {"version": r.get("version", "?"), "status": r.get("status", "?"), "at": r.get("at", "?")})
    staged = staged_version(updates)
    if staged is not None:
        return Check("update", "ok", "selftest_update_staged", {"version": staged})
    return None


def updates_dir() -> Path:
    from kiosk.config import home_dir

    return home_dir() / "updates"
