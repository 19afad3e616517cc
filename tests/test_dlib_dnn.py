"""dlib's face recognition ResNet converted to ONNX and run by cv2.dnn (kiosk.matching.dlib_dnn)
must give the same 128-d descriptors as dlib itself, on real photos, through the same
FaceMesh box -> 5-point shape -> face chip path as DlibEncoder."""
from __future__ import annotations

import numpy as np
import pytest

from kiosk.matching import dlib_dnn

MIN_FACES = 50
# Observed on the shared photos: max component difference ~6e-7, distance ~2e-6 (float32
# rounding of two different convolution kernels). The matching thresholds are ~0.4.
MAX_COMPONENT_DIFF = 1e-5
MAX_DISTANCE = 1e-4


@pytest.fixture(scope="module")
def onnx_path(tmp_path_factory):
    return dlib_dnn.ensure_onnx(cache_dir=tmp_path_factory.mktemp("dlib_dnn"))


@pytest.fixture(scope="module")
def recognizer(onnx_path):
    return dlib_dnn.DlibDnnRecognizer(onnx_path=onnx_path)


def test_reads_the_whole_dlib_network():
    meta, layers = dlib_dnn.read_dlib_resnet(dlib_dnn.dlib_model_path())  # raises on unread bytes
    kinds = [layer.kind for layer in layers]
    assert meta["size"] == (150, 150)
    assert np.allclose(meta["mean"], (122.782, 117.001, 104.298), atol=1e-4)
    assert kinds.count("con") == kinds.count("affine") == 29
    assert kinds.count("add_prev") == 14 and kinds.count("avg_pool") == 5 and kinds.count("max_pool") == 1
    assert kinds[-1] == "fc" and layers[-1].arrays["w"].shape == (256, 128)


def test_onnx_file_is_valid_onnx(onnx_path):
    onnx = pytest.importorskip("onnx")
    model = onnx.load(str(onnx_path))
    onnx.checker.check_model(model, full_check=True)
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    dims = [d.dim_value for d in inferred.graph.output[0].type.tensor_type.shape.dim]
    assert dims == [1, 128]


def test_cache_is_written_once_under_kiosk_home(tmp_path, monkeypatch):
    monkeypatch.setenv("KIOSK_HOME", str(tmp_path))
    monkeypatch.setattr(dlib_dnn, "ASSET_DIR", tmp_path / "no-shipped-models")
    first = dlib_dnn.ensure_onnx()
    assert first.parent == tmp_path / "models" and first.is_file()
    mtime = first.stat().st_mtime_ns
    assert dlib_dnn.ensure_onnx() == first and first.stat().st_mtime_ns == mtime
    assert not list(first.parent.glob("*.tmp"))


def test_rejects_a_chip_of_the_wrong_size(recognizer):
    with pytest.raises(ValueError):
        recognizer.descriptor(np.zeros((112, 112, 3), np.uint8))


def _dlib_shape_and_crop(encoder, rgb, face):
    """The crop and 5-point shape DlibEncoder.encode computes (same box, margin and rectangle)."""
    return encoder.crop_and_shape(rgb, face)


def test_same_descriptors_as_dlib_on_real_photos(images_dir, photo_encoder, recognizer):
    from kiosk.frames import Frame, read_image

    encoder = photo_encoder.encoder
    if not hasattr(encoder, "_predictor"):
        pytest.skip("photo_encoder does not use DlibEncoder")
    refs, ours, via_shape = [], [], []
    for path in sorted(images_dir.rglob("*.jpg")):
        rgb = read_image(path)
        obs = photo_encoder.observer.observe(Frame(rgb, 0.0, 0))
        if obs.face is None or obs.num_faces > 1:
            continue
        refs.append(encoder.encode(rgb, obs.face))  # dlib's own descriptor, exactly as the kiosk computes it
        img, shape = _dlib_shape_and_crop(encoder, rgb, obs.face)
        ours.append(recognizer.descriptor(encoder._dlib.get_face_chip(img, shape, size=150, padding=0.25)))
        via_shape.append(recognizer.compute_face_descriptor(img, shape))
        if len(refs) >= MIN_FACES + 10:
            break
    assert len(refs) >= MIN_FACES, f"only {len(refs)} usable photos in {images_dir}"
    refs, ours, via_shape = np.array(refs), np.array(ours), np.array(via_shape)
    assert np.array_equal(ours, via_shape)
    assert np.abs(refs - ours).max() < MAX_COMPONENT_DIFF
    assert np.linalg.norm(refs - ours, axis=1).max() < MAX_DISTANCE
    # Not L2-normalised (dlib returns the raw fc output), so norms must match too.
    assert np.allclose(np.linalg.norm(ours, axis=1), np.linalg.norm(refs, axis=1), atol=MAX_DISTANCE)
    # Every pairwise distance (what matching compares with its thresholds) is preserved.
    d_ref = np.linalg.norm(refs[:, None] - refs[None], axis=2)
    d_our = np.linalg.norm(ours[:, None] - ours[None], axis=2)
    assert np.abs(d_ref - d_our).max() < MAX_DISTANCE
