"""The embedding-backend seam: dlib (default) and a county-supplied ONNX model run with cv2.dnn.

The ONNX model is built here, in the test, with onnx.helper (Flatten + Gemm, a fixed random
projection): it is not a face model, but it runs through exactly the code path a real SFace /
ArcFace export takes (alignment from FaceMesh, preprocessing, cv2.dnn, L2 normalisation,
templates stored under the backend's own name, per-backend calibration).
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import has_cjk
from kiosk.config import Settings
from kiosk.matching.embedders import (ARCFACE_112, Embedder, EmbedderError, OnnxEmbedder, align_face, five_points,
                                      make_embedder, similarity_transform)
from kiosk.matching.scoring import Matcher

SIZE = 32  # a small input keeps the random projection small (3*32*32 -> 16)
DIM = 16


def build_projection_model(path, size: int = SIZE, dim: int = DIM, seed: int = 0):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    w = rng.normal(size=(3 * size * size, dim)).astype(np.float32) / np.sqrt(3 * size * size)
    b = np.zeros(dim, np.float32)
    graph = helper.make_graph(
        [helper.make_node("Flatten", ["input"], ["flat"], axis=1),
         helper.make_node("Gemm", ["flat", "W", "B"], ["embedding"])],
        "projection",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, [1, dim])],
        initializer=[numpy_helper.from_array(w, "W"), numpy_helper.from_array(b, "B")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8  # readable by OpenCV's importer
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    return build_projection_model(tmp_path_factory.mktemp("onnx") / "county_face.onnx")


@pytest.fixture(scope="module")
def onnx_embedder(model_path):
    return OnnxEmbedder(model_path, input_size=SIZE)


@pytest.fixture(scope="module")
def jackie(images_dir, photo_encoder):
    from kiosk.frames import Frame, read_image

    out = []
    for n in (1, 2):
        rgb = read_image(images_dir / "Jackie_Chan" / f"{n}.jpg")
        out.append((rgb, photo_encoder.observer.observe(Frame(rgb, 0.0, 0)).face))
    return out


def test_both_backends_satisfy_the_protocol(photo_encoder, onnx_embedder):
    assert isinstance(photo_encoder.encoder, Embedder) and photo_encoder.encoder.name == "dlib-128"
    assert isinstance(onnx_embedder, Embedder)
    assert onnx_embedder.dim == DIM and onnx_embedder.name.startswith("onnx-county_face-")
    assert onnx_embedder.name != photo_encoder.encoder.name


def test_alignment_maps_the_five_points_onto_the_arcface_template(jackie):
    rgb, face = jackie[0]
    pts = five_points(face)
    m = similarity_transform(pts, ARCFACE_112)
    mapped = pts @ m[:, :2].T + m[:, 2]
    # A similarity cannot fit five points exactly; a frontal face lands within a few pixels of 112.
    assert np.abs(mapped - ARCFACE_112).max() < 8.0
    # The eyes are level and on the correct sides after the warp.
    assert mapped[0, 0] < mapped[1, 0] and abs(mapped[0, 1] - mapped[1, 1]) < 3.0
    crop = align_face(rgb, face, 112)
    assert crop.shape == (112, 112, 3) and crop.dtype == np.uint8 and crop.std() > 10
    # The exact similarity of a known transform is recovered.
    theta, s, t = 0.3, 1.7, np.array([5.0, -2.0])
    r = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    assert np.allclose(similarity_transform(ARCFACE_112, ARCFACE_112 @ (s * r).T + t), np.hstack([s * r, t[:, None]]))


def test_onnx_embedding_shape_norm_determinism(onnx_embedder, jackie):
    (rgb1, face1), (rgb2, face2) = jackie
    v1 = onnx_embedder.encode(rgb1, face1)
    assert v1.shape == (DIM,) and v1.dtype == np.float64 and np.isfinite(v1).all()
    assert np.linalg.norm(v1) == pytest.approx(1.0)
    assert np.array_equal(v1, onnx_embedder.encode(rgb1.copy(), face1))
    v2 = onnx_embedder.encode(rgb2, face2)
    assert not np.allclose(v1, v2)
    # Same model file -> same name and same numbers in another instance (templates stay valid).
    again = OnnxEmbedder(onnx_embedder.model_path, input_size=SIZE)
    assert again.name == onnx_embedder.name and np.allclose(again.encode(rgb1, face1), v1)


def test_onnx_backend_through_photo_encoder_store_and_matcher(images_dir, model_path, onnx_embedder, tmp_path):
    from kiosk.faces import PhotoEncoder
    from kiosk.store import Store

    enc = PhotoEncoder(onnx_embedder)
    try:
        template = enc.encode_template(images_dir / "Jackie_Chan")
        probe = enc.encode_file(images_dir / "Jackie_Chan" / "1.jpg")
    finally:
        enc.close()
    assert len(template) >= 5 and all(t.shape == (DIM,) for t in template)
    from kiosk.core.ids import check_digit

    rid = "42010219500101123" + check_digit("42010219500101123")
    with Store.open(tmp_path / "kiosk.db", tmp_path / "template.key") as store:
        with store.transaction():
            store.upsert_resident(rid, "测试", village="村")
            for t in template:
                store.add_template(rid, t, onnx_embedder.name, source="local")
        back = store.templates_for(rid, onnx_embedder.name)
        assert store.templates_for(rid, "dlib-128") == []
        assert list(store.all_templates(onnx_embedder.name)) == [rid]
    assert len(back) == len(template) and all(np.allclose(a, b) for a, b in zip(back, template))
    # Its own calibration, stored under its own name; an uncalibrated backend is refused.
    with pytest.raises(EmbedderError) as e:
        Matcher.from_settings(Settings(), onnx_embedder.name)
    assert e.value.code == "not_calibrated" and has_cjk(e.value.message)
    s = Settings(calibration={onnx_embedder.name: {"raw_threshold": 0.3, "snorm_threshold": -3.0,
                                                   "snorm_raw_cap": 0.4, "roster_margin": 0.01}})
    m = Matcher.from_settings(s, onnx_embedder.name)
    assert (m.raw_threshold, m.snorm_threshold, m.snorm_raw_cap, m.roster_margin) == (0.3, -3.0, 0.4, 0.01)
    assert Matcher.from_settings(s, "dlib-128").raw_threshold == Settings().raw_threshold
    res = m.compare(probe, back)
    assert res.method == "raw" and res.threshold == 0.3 and 0.0 < res.distance < 2.0


def test_make_embedder_from_settings(model_path):
    assert make_embedder(Settings()).name == "dlib-128"
    e = make_embedder(Settings(embedding_backend="onnx", onnx_model_path=str(model_path), onnx_input_size=SIZE))
    assert isinstance(e, OnnxEmbedder) and e.dim == DIM
    with pytest.raises(EmbedderError) as err:
        make_embedder(Settings(embedding_backend="arcface-cloud"))
    assert err.value.code == "bad_backend" and has_cjk(err.value.message)


def test_missing_corrupt_or_mismatched_model(model_path, tmp_path):
    with pytest.raises(EmbedderError) as e:
        OnnxEmbedder(tmp_path / "nowhere.onnx")
    assert e.value.code == "model_missing" and has_cjk(e.value.message)
    with pytest.raises(EmbedderError) as e:
        OnnxEmbedder("")
    assert e.value.code == "model_missing"
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\x08\x07this is not a model" * 50)
    with pytest.raises(EmbedderError) as e:
        OnnxEmbedder(junk)
    assert e.value.code == "model_invalid" and has_cjk(e.value.message)
    truncated = tmp_path / "truncated.onnx"
    truncated.write_bytes(model_path.read_bytes()[:2000])
    with pytest.raises(EmbedderError) as e:
        OnnxEmbedder(truncated)
    assert e.value.code == "model_invalid"
    with pytest.raises(EmbedderError) as e:
        OnnxEmbedder(model_path, input_size=48)  # the county set the wrong input size
    assert e.value.code == "model_invalid" and has_cjk(e.value.message)


def test_cli_uses_the_configured_backend(images_dir, model_path, tmp_path, monkeypatch, capsys):
    from kiosk.cli import main

    home = tmp_path / "home"
    monkeypatch.setenv("KIOSK_HOME", str(home))
    monkeypatch.setenv("KIOSK_KEY_FILE", str(home / "template.key"))
    name = OnnxEmbedder(model_path, input_size=SIZE).name
    Settings(embedding_backend="onnx", onnx_model_path=str(model_path), onnx_input_size=SIZE,
             calibration={name: {"raw_threshold": 0.25, "snorm_threshold": -3.0}}).save()
    capsys.readouterr()
    a, b = images_dir / "Jackie_Chan" / "1.jpg", images_dir / "Jackie_Chan"
    assert main(["verify", str(a), str(b), "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["threshold"] == 0.25 and 0.0 < out["distance"] < 2.0
    # A missing model file: exit 2, one clear Chinese line, never a download.
    Settings(embedding_backend="onnx", onnx_model_path=str(tmp_path / "gone.onnx")).save()
    assert main(["verify", str(a), str(b), "--json"]) == 2
    err = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert err["error"] == "model_missing" and has_cjk(err["message"])
