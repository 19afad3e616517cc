"""kiosk.idcard through ctypes on a real shared library: tests/idcard_sim.c compiled with gcc."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from kiosk.core.ids import check_digit
from kiosk.idcard import IdCardError, SdkReader, parse_wz

WANG = "11010519541122123" + check_digit("11010519541122123")
SIM_C = Path(__file__).with_name("idcard_sim.c")


@pytest.fixture(scope="module")
def sim_lib(tmp_path_factory) -> Path:
    if shutil.which("gcc") is None:
        pytest.skip("gcc is needed to build the simulated reader library")
    out = tmp_path_factory.mktemp("sdk") / "libtermb_sim.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-Wall", "-Werror", "-o", str(out), str(SIM_C)], check=True)
    return out


@pytest.fixture()
def chip_photo(tmp_path) -> Path:
    """A chip-sized (102x126) BMP of the demo portrait's face."""
    from kiosk.demo.virtual_camera import FACE_IMAGE

    img = cv2.imread(str(FACE_IMAGE))
    h, w = img.shape[:2]
    face = cv2.resize(img[: h * 3 // 4, w // 6: w * 5 // 6], (102, 126), interpolation=cv2.INTER_AREA)
    path = tmp_path / "chip.bmp"
    cv2.imwrite(str(path), face)
    return path


@pytest.fixture()
def card(monkeypatch, chip_photo):
    monkeypatch.setenv("IDCARD_SIM_NAME", "王建国")
    monkeypatch.setenv("IDCARD_SIM_ID", WANG)
    monkeypatch.setenv("IDCARD_SIM_PHOTO", str(chip_photo))
    return chip_photo


def test_a_card_is_read_through_the_vendor_sdk(sim_lib, card, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    with SdkReader(sim_lib, 1001) as reader:
        got = reader.read()
    assert got is not None and (got.name, got.id_number) == ("王建国", WANG)
    assert got.fields["birth"] == "19541122" and got.fields["valid_to"] == "长期"
    assert got.photo == card.read_bytes()
    photo = cv2.imdecode(np.frombuffer(got.photo, np.uint8), cv2.IMREAD_COLOR)
    assert photo.shape == (126, 102, 3)
    # the SDK's files were written in a private folder that is gone; nothing is left here or in the repr
    assert sorted(p.name for p in tmp_path.iterdir()) == before and Path.cwd() == tmp_path
    assert "photo" not in repr(got) and got.to_json() == {"id": "110105********123" + WANG[-1], "name": "王*国",
                                                            "photo_bytes": len(got.photo)}


def test_no_card_no_reader_and_a_failed_read(sim_lib, monkeypatch, card):
    monkeypatch.delenv("IDCARD_SIM_NAME")
    with SdkReader(sim_lib, 1001) as reader:
        assert reader.read() is None
    with pytest.raises(IdCardError) as info:
        SdkReader(sim_lib, 1002).read()
    assert info.value.code == "no_reader" and "1002" in info.value.message
    monkeypatch.setenv("IDCARD_SIM_NAME", "王建国")
    monkeypatch.setenv("IDCARD_SIM_FAIL", "read")
    with pytest.raises(IdCardError) as info, SdkReader(sim_lib) as reader:
        reader.read()
    assert info.value.code == "read_failed"


def test_a_misread_number_is_refused(sim_lib, monkeypatch, card):
    monkeypatch.setenv("IDCARD_SIM_ID", WANG[:-1] + ("0" if WANG[-1] != "0" else "1"))
    with pytest.raises(IdCardError) as info, SdkReader(sim_lib) as reader:
        reader.read()
    assert info.value.code == "bad_card"


def test_a_missing_or_wrong_library(tmp_path):
    with pytest.raises(IdCardError) as info:
        SdkReader(tmp_path / "nothing.so")
    assert info.value.code == "no_library"
    other = tmp_path / "libother.so"
    src = tmp_path / "other.c"
    src.write_text("int InitComm(int port) { return port; }\n")
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(other), str(src)], check=True)
    with pytest.raises(IdCardError) as info:
        SdkReader(other)
    assert info.value.code == "bad_library" and "Read_Content" in info.value.message


def test_wz_layout():
    fields = dict(name="李四", sex="1", nation="01", birth="19500101", address="东村", id_number=WANG,
                  authority="公安局", valid_from="20200101", valid_to="长期")
    widths = dict(name=15, sex=1, nation=2, birth=8, address=35, id_number=18, authority=15, valid_from=8, valid_to=8)
    raw = "".join(v.ljust(widths[k]) for k, v in fields.items()).ljust(128).encode("utf-16-le")
    assert len(raw) == 256 and parse_wz(raw) == fields


def test_cli_reads_the_card_masked(sim_lib, card, capsys, monkeypatch, tmp_path):
    from kiosk.cli import main

    monkeypatch.setenv("KIOSK_HOME", str(tmp_path))
    assert main(["idcard", "--library", str(sim_lib), "--wait", "0", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["name"] == "王*国" and WANG not in json.dumps(out) and out["photo_bytes"] > 0
    monkeypatch.delenv("IDCARD_SIM_NAME")
    assert main(["idcard", "--library", str(sim_lib), "--wait", "0", "--json"]) == 2
    assert json.loads(capsys.readouterr().out)["error"] == "no_card"


def test_the_watcher_reads_each_card_once_until_it_is_lifted(sim_lib, card, monkeypatch):
    import threading
    import time

    from kiosk.idcard import CardWatcher

    seen, errors = [], []
    got = threading.Event()

    def on_card(c):
        seen.append(c.id_number)
        got.set()

    w = CardWatcher(SdkReader(sim_lib, 1001), on_card, errors.append, poll_s=0.05)
    w.start()
    try:
        assert got.wait(5)
        time.sleep(0.3)
        assert seen == [WANG]  # left on the reader: read once
        got.clear()
        monkeypatch.delenv("IDCARD_SIM_NAME")  # lifted
        time.sleep(0.3)
        monkeypatch.setenv("IDCARD_SIM_NAME", "王建国")  # put back
        assert got.wait(5) and seen == [WANG, WANG]
    finally:
        w.stop()
    assert errors == []
