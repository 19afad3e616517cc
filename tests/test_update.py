"""Program updates (issue 14, item 3; kiosk.update): signed at the county with the hub's key
(`kiosk-county update sign`), staged on the terminal against the key it stored at registration
(`kiosk update stage`), installed by the start wrapper before the app starts (run here for real with
sh, stand-in apps and the real `kiosk update verify-staged`), rolled back when the new version fails
at once twice; the app restarts for it in the maintenance window only when no face check runs."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("KIOSK_AUDIO", "0")

import io
import json
import stat
import subprocess
import sys
import tarfile
from dataclasses import replace
from pathlib import Path

import pytest

from kiosk.cli import main as kiosk_main
from kiosk.county.cli import main as county_main
from test_app import demo, demo_master, encoder  # noqa: F401  (the app fixtures)
from test_sync_support import Hub, hub, terminal  # noqa: F401  (a real county hub, a registered terminal)
from test_unattended import make_kiosk  # noqa: F401  (the app with the unattended kiosk's injections)

ROOT = Path(__file__).resolve().parents[1]
START = ROOT / "packaging" / "systemd" / "village-kiosk-start"
SESSION = ROOT / "packaging" / "systemd" / "village-kiosk-session"


def make_tarball(path: Path, app_script: str, extra: dict[str, bytes] | None = None) -> Path:
    """An update bundle as county IT makes it: the bundle folder's contents at the top, `kiosk` executable."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for name, data, mode in [("kiosk", app_script.encode(), 0o755),
                                 *[(n, d, 0o644) for n, d in (extra or {}).items()]]:
            info = tarfile.TarInfo(f"./{name}")  # as `tar -czf X.tar.gz -C dist/kiosk .` names them
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))
    return path


def stand_in_app(label: str, status: int, log: Path) -> str:
    """A bundle's `kiosk`: `kiosk update ...` is the real command line of this checkout; run as the
    app it writes its label to `log` and exits with `status` (0 = 退出程序, 3 = a crash)."""
    return (f"#!/bin/sh\nif [ \"$1\" = update ]; then exec {sys.executable} -m kiosk.cli \"$@\"; fi\n"
            f"echo {label} >> {log}\nexit {status}\n")


def sign(tar: Path, version: str, hub_key: Path) -> int:
    return county_main(["update", "sign", str(tar), "--version", version, "--hub-key", str(hub_key)])


def store_args(store) -> list[str]:
    return ["--db", str(store.path), "--key", str(Path(store.path).parent / "template.key")]


def run_cli(args: list[str], capsys) -> tuple[int, str]:
    capsys.readouterr()
    code = kiosk_main(args)
    return code, capsys.readouterr().out


# ------------------------------------------------------------------ sign and stage
def test_signed_at_the_county_staged_on_the_terminal(hub, terminal, tmp_path, capsys):
    store, _ = terminal
    tar = make_tarball(tmp_path / "usb" / "village-kiosk-0.2.0.tar.gz", "#!/bin/sh\nexit 0\n")
    assert sign(tar, "0.2.0", tmp_path / "county" / "hub.key") == 0
    sig = json.loads((tar.parent / (tar.name + ".sig")).read_text())
    assert sig["format"] == "village-kiosk-update" and sig["version"] == "0.2.0"
    assert sig["size"] == tar.stat().st_size and len(sig["sha256"]) == 64 and sig["signature"]

    updates = tmp_path / "updates"
    code, out = run_cli(["update", "stage", str(tar), *store_args(store), "--updates", str(updates)], capsys)
    assert code == 0 and "0.2.0" in out and "维护时间" in out
    for name in ("staged.tar.gz", "staged.tar.gz.sig"):
        assert stat.S_IMODE((updates / name).stat().st_mode) == 0o600
    assert (updates / "staged.tar.gz").read_bytes() == tar.read_bytes()
    assert not [p for p in updates.iterdir() if p.name.startswith(".")]  # no temporary files left

    code, out = run_cli(["update", "status", "--json", *store_args(store), "--updates", str(updates)], capsys)
    s = json.loads(out)
    assert code == 0 and s["staged"] == "0.2.0" and s["waits_for_window"] and s["rollback"] is None
    code, out = run_cli(["update", "verify-staged", *store_args(store), "--updates", str(updates)], capsys)
    assert code == 0 and out.strip() == "0.2.0"


def _refused(args: list[str], capsys) -> dict:
    code, out = run_cli([*args, "--json"], capsys)
    assert code == 2, out
    err = json.loads(out)
    assert any("\u4e00" <= c <= "\u9fff" for c in err["message"])  # said in Chinese, what to do next
    return err


def test_unsigned_tampered_foreign_and_older_updates_are_refused(hub, terminal, tmp_path, capsys):
    store, _ = terminal
    hub_key = tmp_path / "county" / "hub.key"
    updates = tmp_path / "updates"
    stage = ["update", "stage"]
    opts = [*store_args(store), "--updates", str(updates)]

    unsigned = make_tarball(tmp_path / "a" / "u.tar.gz", "#!/bin/sh\n")
    assert _refused([*stage, str(unsigned), *opts], capsys)["error"] == "update_unsigned"

    tampered = make_tarball(tmp_path / "b" / "t.tar.gz", "#!/bin/sh\n")
    sign(tampered, "0.3.0", hub_key)
    data = bytearray(tampered.read_bytes())
    data[-5] ^= 1
    tampered.write_bytes(bytes(data))
    err = _refused([*stage, str(tampered), *opts], capsys)
    assert err["error"] == "update_tampered" and "改动" in err["message"]

    raised = make_tarball(tmp_path / "c" / "v.tar.gz", "#!/bin/sh\n")  # the version edited in the .sig
    sign(raised, "0.3.0", hub_key)
    sig_file = raised.parent / (raised.name + ".sig")
    sig_file.write_text(sig_file.read_text().replace("0.3.0", "9.0.0"))
    assert _refused([*stage, str(raised), *opts], capsys)["error"] == "update_bad_signature"

    other = Hub(tmp_path / "other-county")  # signed by another county's hub
    try:
        foreign = make_tarball(tmp_path / "d" / "f.tar.gz", "#!/bin/sh\n")
        sign(foreign, "0.3.0", tmp_path / "other-county" / "hub.key")
        assert _refused([*stage, str(foreign), *opts], capsys)["error"] == "update_bad_signature"
    finally:
        other.stop()

    older = make_tarball(tmp_path / "e" / "o.tar.gz", "#!/bin/sh\n")
    from kiosk.sync.heartbeat import app_version

    sign(older, app_version(), hub_key)  # the version running now is not newer either
    err = _refused([*stage, str(older), *opts], capsys)
    assert err["error"] == "update_not_newer" and "不能装回旧版本" in err["message"]

    unsafe = make_tarball(tmp_path / "f" / "x.tar.gz", "#!/bin/sh\n", {"../../etc/cron.d/x": b"* * * * * root id\n"})
    sign(unsafe, "0.3.0", hub_key)
    assert _refused([*stage, str(unsafe), *opts], capsys)["error"] == "update_not_a_bundle"

    assert not (updates / "staged.tar.gz").exists()  # nothing refused waits for the window
    assert _refused(["update", "verify-staged", *opts], capsys)["error"] == "update_none_staged"

    # an older version than one already installed by an update is refused too
    newer = make_tarball(tmp_path / "g" / "n.tar.gz", "#!/bin/sh\n")
    sign(newer, "0.5.0", hub_key)
    assert run_cli([*stage, str(newer), *opts], capsys)[0] == 0
    os.replace(updates / "staged.tar.gz.sig", updates / "installed.sig")  # as the wrapper does
    back = make_tarball(tmp_path / "h" / "b.tar.gz", "#!/bin/sh\n")
    sign(back, "0.4.9", hub_key)
    assert _refused([*stage, str(back), *opts], capsys)["error"] == "update_not_newer"


def test_the_county_signs_only_with_its_existing_key(tmp_path, capsys):
    tar = make_tarball(tmp_path / "v.tar.gz", "#!/bin/sh\n")
    capsys.readouterr()
    assert county_main(["update", "sign", str(tar), "--version", "1.0", "--hub-key", str(tmp_path / "none.key")]) == 2
    assert "密钥" in capsys.readouterr().out and not (tmp_path / "none.key").exists()
    assert county_main(["update", "sign", str(tar), "--version", "v1", "--hub-key", str(tmp_path / "none.key")]) == 2


# ------------------------------------------------------------------ the start wrapper installs and rolls back
@pytest.fixture
def site(hub, terminal, tmp_path):
    """An installed kiosk (version "old") in tmp, the wrapper's environment, and a way to run it."""
    store, _ = terminal
    app_dir = tmp_path / "opt" / "village-kiosk"
    app_dir.mkdir(parents=True)
    log = tmp_path / "app.log"
    (app_dir / "kiosk").write_text(stand_in_app("old", 0, log))
    (app_dir / "kiosk").chmod(0o755)
    xinit = tmp_path / "xinit"
    xinit.write_text('#!/bin/sh\nexec "$@"\n')  # the X server is not the point here: run the session itself
    xinit.chmod(0o755)
    (tmp_path / "run").mkdir()
    updates = Path(store.path).parent / "updates"  # $KIOSK_HOME/updates, where the self-test looks
    env = {**os.environ, "KIOSK_APP_DIR": str(app_dir), "KIOSK_UPDATE_DIR": str(updates), "XINIT": str(xinit),
           "RUNTIME_DIRECTORY": str(tmp_path / "run"), "KIOSK_HOME": str(Path(store.path).parent),
           "KIOSK_KEY_FILE": str(Path(store.path).parent / "template.key"), "KIOSK_UPDATE_TRIAL_S": "600"}
    env.pop("KIOSK_BIN", None)

    class Site:
        def stage(self, label: str, status: int, version: str) -> None:
            tar = make_tarball(tmp_path / "usb" / f"{label}.tar.gz", stand_in_app(label, status, log),
                               {"VERSION": version.encode()})
            assert sign(tar, version, tmp_path / "county" / "hub.key") == 0
            assert kiosk_main(["update", "stage", str(tar), *store_args(store), "--updates", str(updates)]) == 0

        def start(self) -> subprocess.CompletedProcess:
            return subprocess.run(["sh", str(START), str(SESSION)], env=env, capture_output=True, text=True,
                                  timeout=120)

        def ran(self) -> list[str]:
            return log.read_text().split() if log.exists() else []

    s = Site()
    s.app_dir, s.updates, s.store = app_dir, updates, store
    return s


def test_the_wrapper_installs_a_staged_update_before_the_app_starts(site):
    assert site.start().returncode == 0 and site.ran() == ["old"]  # nothing staged: as before
    site.stage("new", 0, "0.2.0")
    r = site.start()
    assert r.returncode == 0, r.stderr
    assert site.ran() == ["old", "new"] and "installed the update" in r.stderr
    assert (site.app_dir / "VERSION").read_text() == "0.2.0"
    assert "old" in (site.app_dir.parent / "village-kiosk.prev" / "kiosk").read_text()
    assert not (site.app_dir.parent / "village-kiosk.new").exists()
    assert not (site.updates / "staged.tar.gz").exists() and (site.updates / "installed.sig").exists()
    assert not (site.updates / "trial").exists()  # it ran and ended well: no longer on trial
    assert site.start().returncode == 0 and site.ran()[-1] == "new"


def test_a_new_version_failing_twice_at_once_is_rolled_back(site, capsys):
    site.stage("broken", 3, "0.2.0")
    r = site.start()
    assert r.returncode == 3 and site.ran() == ["broken"]  # once: maybe a fluke, tried again
    assert (site.updates / "trial").read_text().strip() == "1"
    r = site.start()
    assert r.returncode == 3 and "rolled back" in r.stderr
    assert "old" in (site.app_dir / "kiosk").read_text() and not (site.app_dir.parent / "village-kiosk.prev").exists()
    assert (site.app_dir.parent / "village-kiosk.failed" / "VERSION").read_text() == "0.2.0"
    assert site.start().returncode == 0 and site.ran() == ["broken", "broken", "old"]
    code, out = run_cli(["update", "status", "--json", *store_args(site.store), "--updates", str(site.updates)], capsys)
    s = json.loads(out)
    assert code == 0 and s["staged"] is None and s["rollback"]["version"] == "0.2.0" and s["rollback"]["status"] == "3"
    code, out = run_cli(["update", "status", *store_args(site.store), "--updates", str(site.updates)], capsys)
    assert "已自动换回原来的版本" in out
    code, out = run_cli(["selftest", "--json", "--no-camera", *store_args(site.store)], capsys)
    update = next(c for c in json.loads(out)["checks"] if c["name"] == "update")
    assert update["state"] == "warn" and "0.2.0" in update["message"] and "换回" in update["message"]


def test_a_staged_file_changed_after_staging_is_not_installed(site):
    site.stage("new", 0, "0.2.0")
    data = bytearray((site.updates / "staged.tar.gz").read_bytes())
    data[-5] ^= 1
    (site.updates / "staged.tar.gz").write_bytes(bytes(data))
    r = site.start()
    assert r.returncode == 0 and site.ran() == ["old"] and "refused" in r.stderr
    assert (site.updates / "refused.tar.gz").exists() and not (site.updates / "staged.tar.gz").exists()
    assert not (site.app_dir.parent / "village-kiosk.prev").exists()


# ------------------------------------------------------------------ the app restarts for it in the window
def SERVING() -> dict:  # the minute's state check (the self-test's part is not the point here)
    return {"paused": False, "reason": ""}


@pytest.fixture
def staged(hub, terminal, tmp_path) -> Path:
    """A really staged update (0.2.0) in its own updates folder."""
    store, _ = terminal
    tar = make_tarball(tmp_path / "usb" / "u.tar.gz", "#!/bin/sh\nexit 0\n")
    assert sign(tar, "0.2.0", tmp_path / "county" / "hub.key") == 0
    updates = tmp_path / "updates"
    assert kiosk_main(["update", "stage", str(tar), *store_args(store), "--updates", str(updates)]) == 0
    return updates


@pytest.mark.slow
def test_the_app_restarts_in_the_window_for_a_staged_update_after_the_face_check(make_kiosk, staged, qtbot):
    from kiosk.app.admin import RESTART_EXIT_CODE
    from kiosk.config import Settings

    h = make_kiosk(settings=Settings(), kiosk_state=SERVING)
    codes: list[int] = []
    h.k.admin.quit = codes.append
    h.to_face("王秀英")  # a check begun just before the window starts
    qtbot.waitUntil(lambda: h.k.check.running, timeout=60_000)
    h.k.settings = replace(h.k.settings, maintenance_window="daily 00:00-24:00")  # now the window is on
    h.k.enable_updates(staged)
    h.k.kiosk_state.recheck()  # the minute's check: not during the face check
    qtbot.wait(200)
    assert codes == [] and h.k.check.running
    h.tap("btnCancelCheck")
    h.wait_screen("result", 30_000)
    qtbot.waitUntil(lambda: not h.k.check.running, timeout=30_000)
    h.k.kiosk_state.recheck()  # the next minute's check: the check is over, restart for the update
    qtbot.waitUntil(lambda: codes == [RESTART_EXIT_CODE], timeout=5_000)
    h.k.kiosk_state.recheck()
    qtbot.wait(100)
    assert codes == [RESTART_EXIT_CODE]  # once


@pytest.mark.slow
def test_no_restart_without_a_staged_update_or_outside_the_window(make_kiosk, staged, qtbot, tmp_path):
    from kiosk.config import Settings

    h = make_kiosk(settings=Settings(maintenance_window="daily 00:00-24:00"), kiosk_state=SERVING)
    codes: list[int] = []
    h.k.admin.quit = codes.append
    h.k.enable_updates(tmp_path / "nothing-staged")
    h.k.kiosk_state.recheck()
    h2 = make_kiosk(settings=Settings(maintenance_window=""), kiosk_state=SERVING)  # staged, but no window
    h2.k.admin.quit = codes.append
    h2.k.enable_updates(staged)
    h2.k.kiosk_state.recheck()
    qtbot.wait(300)
    assert codes == [] and h.k.flow.screen == "home"


def test_a_missing_file_says_so(hub, terminal, tmp_path, capsys):
    store, _ = terminal
    err = _refused(["update", "stage", str(tmp_path / "none.tar.gz"), *store_args(store)], capsys)
    assert err["error"] == "update_missing" and "U盘" in err["message"]
