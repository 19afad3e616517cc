"""kiosk.toml is checked at load: every key's type and range, with the file, the key, what was
found and what to write instead (one Chinese line, exit 2 from the CLI, no traceback). Images
whose header says more than 40 MP are refused before decoding."""
from __future__ import annotations

import json
import struct
import zlib

import pytest

from kiosk.config import Settings, SettingsError
from kiosk.core.errors import KioskError


def load(tmp_path, text: str) -> Settings:
    p = tmp_path / "kiosk.toml"
    p.write_text(text, encoding="utf-8")
    return Settings.load(p)


def refused(tmp_path, text: str) -> SettingsError:
    with pytest.raises(SettingsError) as e:
        load(tmp_path, text)
    assert isinstance(e.value, KioskError) and e.value.code == "bad_settings"
    assert e.value.message.startswith("kiosk.toml") and "\n" not in e.value.message
    return e.value


def test_the_documented_example(tmp_path):
    e = refused(tmp_path, "raw_threshold = 5.0\n")
    assert e.message == "kiosk.toml 第 raw_threshold 项：5.0 超出范围 0.2–0.8，请改为 0.2 到 0.8 之间的数，例如 0.47"
    assert e.key == "raw_threshold"


@pytest.mark.parametrize("text, key, words", [
    ("raw_threshold = 0.1", "raw_threshold", ["0.1", "0.2–0.8"]),
    ("snorm_threshold = 2.0", "snorm_threshold", ["2.0", "-10–0"]),
    ("snorm_raw_cap = 1.5", "snorm_raw_cap", ["1.5"]),
    ('raw_threshold = "0.5"', "raw_threshold", ["不是数"]),
    ("attempts_per_day = 0", "attempts_per_day", ["1 到 10"]),
    ("attempts_per_day = 2.5", "attempts_per_day", ["不是整数"]),
    ("volume = 1.5", "volume", ["0 到 1"]),
    ("step_timeout_s = nan", "step_timeout_s", ["nan"]),
    ('elder_mode_default = "yes"', "elder_mode_default", ["true 或 false"]),
    ("device_id = 7", "device_id", ["不是文字"]),
    ('cycle_rule = "weekly"', "cycle_rule", ["birthday 或 window"]),
    ('window_end = "02-30"', "window_end", ["月-日"]),
    ('embedding_backend = "arcface"', "embedding_backend", ["dlib 或 onnx"]),
    ('hub_url = "ftp://x"', "hub_url", ["https://"]),
    ('hub_cert_pin = "abc"', "hub_cert_pin", ["64 位"]),
    ('timezone = "Asia/Beijing"', "timezone", ["Asia/Shanghai"]),
    ("raw_treshold = 0.5", "raw_treshold", ["raw_threshold"]),  # a typo names the key meant
    ('[calibration."dlib-128"]\nraw_threshold = 0.95', "calibration.dlib-128.raw_threshold", ["0.2–0.8"]),
    ('[calibration."onnx-arc-1"]\nsnorm_threshold = 1.0', "calibration.onnx-arc-1.snorm_threshold", ["-10–0"]),
    ('[calibration."onnx-arc-1"]\nraw_threshold = 2.5', "calibration.onnx-arc-1.raw_threshold", ["0.05–2"]),
    ('[calibration."onnx-arc-1"]\nthreshold = 1.0', "calibration.onnx-arc-1.threshold", ["不认识"]),
])
def test_each_bad_key_is_named_with_what_to_write(tmp_path, text, key, words):
    e = refused(tmp_path, text + "\n")
    assert e.key == key and f"第 {key} 项" in e.message, e.message
    for w in words:
        assert w in e.message, e.message
    assert "请" in e.message or "是不是要写" in e.message  # says what to do


def test_a_syntax_error_gives_line_and_column(tmp_path):
    e = refused(tmp_path, 'device_id = "东村-1"\nraw_threshold = = 0.4\n')
    assert "第 2 行" in e.message and "列" in e.message


def test_good_settings_load_and_round_trip(tmp_path):
    s = load(tmp_path, 'device_id = "东村-1"\nraw_threshold = 0.45\ntimezone = "Asia/Urumqi"\n'
                       '[calibration."onnx-arc-1"]\nraw_threshold = 1.1\nsnorm_threshold = -3.0\n')
    assert s.raw_threshold == 0.45 and s.timezone == "Asia/Urumqi"
    assert s.clock().tz.key == "Asia/Urumqi"
    assert Settings.load(s.save(tmp_path / "again.toml")) == s


def test_save_refuses_what_load_would_refuse(tmp_path):
    with pytest.raises(SettingsError):
        Settings(raw_threshold=5.0).save(tmp_path / "kiosk.toml")
    assert not (tmp_path / "kiosk.toml").exists()


def test_the_cli_prints_one_line_and_exits_2(tmp_path, monkeypatch, capsys):
    from kiosk.cli import main

    monkeypatch.setenv("KIOSK_HOME", str(tmp_path))
    monkeypatch.setenv("KIOSK_KEY_FILE", str(tmp_path / "t.key"))
    (tmp_path / "kiosk.toml").write_text("raw_threshold = 5.0\n", encoding="utf-8")
    assert main(["status", "11010519491231002X"]) == 2
    out = capsys.readouterr()
    assert out.out.strip().splitlines() == ["错误：kiosk.toml 第 raw_threshold 项：5.0 超出范围 0.2–0.8，"
                                            "请改为 0.2 到 0.8 之间的数，例如 0.47"]
    assert "Traceback" not in out.err
    assert main(["status", "11010519491231002X", "--json"]) == 2
    assert json.loads(capsys.readouterr().out)["error"] == "bad_settings"
    # The touchscreen app (no subcommand) refuses before opening a window.
    assert main([]) == 2
    assert "raw_threshold" in capsys.readouterr().out


# ------------------------------------------------------------------ huge images
def png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height (a few bytes; decoding it would need w*h*3 bytes)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 16))
            + chunk(b"IEND", b""))


@pytest.mark.parametrize("w, h", [(60000, 60000), (20000, 20000), (8000, 5001)])
def test_a_huge_image_header_is_refused_before_decoding(tmp_path, w, h):
    from kiosk.frames import FrameSourceError, image_size, read_image

    p = tmp_path / "big.png"
    p.write_bytes(png_header(w, h))
    size = image_size(p.read_bytes())  # header only (PIL's own bomb guard answers "too big" past ~179 MP)
    assert size == (w, h) or (w * h > 179_000_000 and size[0] * size[1] > 40_000_000)
    with pytest.raises(FrameSourceError) as e:
        read_image(p)
    assert e.value.code == "image_too_large" and "big.png" in e.value.message and "请" in e.value.message


def test_a_40_mp_photo_is_still_read(tmp_path):
    import cv2
    import numpy as np

    from kiosk.frames import check_image_size, read_image

    check_image_size(png_header(8000, 5000), "exactly-40mp.png")  # the limit itself is allowed
    p = tmp_path / "small.png"
    cv2.imwrite(str(p), np.full((30, 40, 3), 200, np.uint8))
    assert read_image(p).shape == (30, 40, 3)


@pytest.mark.slow
def test_verify_refuses_a_huge_image_with_exit_2(tmp_path, capsys):
    from kiosk.cli import main

    big = tmp_path / "big.png"
    big.write_bytes(png_header(60000, 60000))
    assert main(["verify", str(big), str(big), "--json"]) == 2
    err = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert err["error"] == "image_too_large" and "big.png" in err["message"]
