"""kiosk.protocol: the wire format shared by the terminal and the county hub."""
from __future__ import annotations

import json
import random
import subprocess
import sys

import numpy as np
import pytest

from kiosk import protocol as P


def test_request_signature_binds_method_path_time_nonce_and_body():
    key = P.new_signing_key()
    pub = P.verify_key_from(P.public_b64(key))
    h = P.sign_request(key, "dev-1", "POST", "/v1/records", b'{"a":1}', 1_700_000_000)
    msg = P.signing_message("POST", "/v1/records", h[P.H_TIMESTAMP], h[P.H_NONCE], b'{"a":1}')
    assert P.verify_signature(pub, h[P.H_SIGNATURE], msg)
    for changed in (P.signing_message("GET", "/v1/records", h[P.H_TIMESTAMP], h[P.H_NONCE], b'{"a":1}'),
                    P.signing_message("POST", "/v1/roster", h[P.H_TIMESTAMP], h[P.H_NONCE], b'{"a":1}'),
                    P.signing_message("POST", "/v1/records", "1700000001", h[P.H_NONCE], b'{"a":1}'),
                    P.signing_message("POST", "/v1/records", h[P.H_TIMESTAMP], "00" * 16, b'{"a":1}'),
                    P.signing_message("POST", "/v1/records", h[P.H_TIMESTAMP], h[P.H_NONCE], b'{"a":2}')):
        assert not P.verify_signature(pub, h[P.H_SIGNATURE], changed)
    assert not P.verify_signature(pub, "not base64!", msg)
    assert P.sign_request(key, "dev-1", "POST", "/x", b"", 1)[P.H_NONCE] != h[P.H_NONCE]


def test_seal_opens_only_for_the_recipient_and_context():
    box = P.new_box_key()
    env = P.seal(P.public_b64(box), b"secret template", "ctx-1")
    assert P.open_sealed(box, env, "ctx-1") == b"secret template"
    with pytest.raises(P.ProtocolError) as info:
        P.open_sealed(box, env, "ctx-2")  # moved to another resident/device: refused
    assert info.value.code == "not_for_this_device"
    with pytest.raises(P.ProtocolError):
        P.open_sealed(P.new_box_key(), env, "ctx-1")
    assert P.seal(P.public_b64(box), b"x", "c")["epk"] != P.seal(P.public_b64(box), b"x", "c")["epk"]


def test_bundle_round_trip_and_refusals():
    sender, recipient = P.new_signing_key(), P.new_box_key()
    data = P.make_bundle(P.BUNDLE_UP, "dev-1", "county", P.public_b64(recipient), sender, {"records": [1, 2]})
    header, content = P.open_bundle(data, P.BUNDLE_UP, P.public_b64(sender), recipient)
    assert content == {"records": [1, 2]} and header["sender"] == "dev-1"
    with pytest.raises(P.ProtocolError) as info:
        P.open_bundle(data, P.BUNDLE_DOWN, P.public_b64(sender), recipient)
    assert info.value.code == "wrong_bundle_kind"
    with pytest.raises(P.ProtocolError) as info:
        P.open_bundle(data, P.BUNDLE_UP, P.public_b64(P.new_signing_key()), recipient)
    assert info.value.code == "bad_signature"
    with pytest.raises(P.ProtocolError) as info:
        P.open_bundle(data, P.BUNDLE_UP, P.public_b64(sender), P.new_box_key())
    assert info.value.code == "not_for_us"
    body = json.loads(data)
    body["header"]["created_at"] = "2000-01-01"
    with pytest.raises(P.ProtocolError) as info:
        P.open_bundle(json.dumps(body).encode(), P.BUNDLE_UP, P.public_b64(sender), recipient)
    assert info.value.code == "bad_signature"
    body = json.loads(data)
    body["header"]["version"] = 99
    with pytest.raises(P.ProtocolError) as info:
        P.read_bundle_header(json.dumps(body).encode())
    assert info.value.code == "bundle_version" and "升级" in info.value.message
    with pytest.raises(P.ProtocolError):
        P.read_bundle_header(b"\xff\xfe garbage")


def test_face_data_guard():
    vec = np.random.default_rng(0).normal(size=128)
    for bad in ({"embedding": [0.1]}, {"x": {"Photo": "a.jpg"}}, {"x": vec.tolist()}, {"x": "A" * 5000},
                {"x": b"\xff\xd8"}, {"list": [{"frames_rgb": 1}]}):
        with pytest.raises(P.ProtocolError):
            P.check_no_face_data(bad)
    P.check_no_face_data({"scores": {"distance": 0.41, "threshold": 0.47}, "liveness": {"actions": ["blink"]}})


def test_id_check_agrees_with_residents_module():
    from kiosk.core.ids import InvalidIdNumber, parse_id_number

    rng = random.Random(1)
    for _ in range(2000):
        body = f"{rng.randint(110000, 659999)}{rng.randint(1900, 2020)}{rng.randint(1, 13):02d}{rng.randint(1, 31):02d}{rng.randint(0, 999):03d}"
        for last in "0123456789X":
            number = body + last
            try:
                parse_id_number(number)
                ok = True
            except InvalidIdNumber:
                ok = False
            if number[0] in "1234568":  # region first digits the full check knows
                assert P.valid_id_number(number) == ok, number


def test_record_validation_messages_are_chinese():
    rec = P.PushRecord(uuid="5d3c1ad4-5b6e-4c53-9d0e-3f1b9a0e0001", kind="certification", created_at="x",
                       payload={"uuid": "a", "resident_id": "11010519491231002X", "category": "pension",
                                "mode": "self", "started_at": "2026-03-05T01:00:00+00:00",
                                "finished_at": "2026-03-05T01:00:09", "verdict": "pass"})
    with pytest.raises(P.ProtocolError) as info:
        P.validate_record(rec)
    assert info.value.code == "bad_time" and "时间" in info.value.message


@pytest.mark.slow
def test_hub_imports_no_engine_or_store():
    code = ("import sys, kiosk.county, kiosk.county.server, kiosk.county.roster;"
            "bad = [m for m in sys.modules if m.startswith(('kiosk.store', 'kiosk.session', 'kiosk.faces',"
            " 'kiosk.matching', 'kiosk.observe', 'kiosk.sync', 'kiosk.cli', 'kiosk.app', 'kiosk.policy', 'mediapipe', 'cv2',"
            " 'dlib', 'PySide6'))]; print(bad); sys.exit(1 if bad else 0)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


@pytest.mark.slow
def test_terminal_imports_no_hub_stack():
    """The village terminal (CLI, app, sync) runs without FastAPI, uvicorn, SQLAlchemy or the hub."""
    code = ("import sys, kiosk.cli, kiosk.cli.sync, kiosk.sync, kiosk.service, kiosk.app.bootstrap;"
            "kiosk.cli.build_parser();"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('fastapi', 'uvicorn', 'sqlalchemy', 'starlette')"
            " or m.startswith('kiosk.county')]; print(bad); sys.exit(1 if bad else 0)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
