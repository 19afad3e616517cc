"""The app's out-of-process embedder gives exactly the in-process embeddings (it exists only
so dlib's GIL-holding ResNet cannot freeze the UI thread)."""
import numpy as np
import pytest

from kiosk.frames import Frame, read_image


@pytest.fixture(scope="module")
def process_embedder():
    from kiosk.matching.process import ProcessEmbedder

    pe = ProcessEmbedder()
    yield pe
    pe.close()


def test_same_embeddings_as_in_process(process_embedder, photo_encoder, images_dir):
    assert (process_embedder.name, process_embedder.dim) == (photo_encoder.encoder.name, 128)
    photos = sorted(images_dir.glob("*/*.jpg"))[:8]
    compared = 0
    for path in photos:
        rgb = read_image(path)
        obs = photo_encoder.observer.observe(Frame(rgb, 0.0, 0))
        if obs.face is None or obs.num_faces != 1:
            continue
        assert np.array_equal(process_embedder.encode(rgb, obs.face), photo_encoder.encoder.encode(rgb, obs.face))
        compared += 1
    assert compared >= 5


def test_face_region_keeps_the_landmarks_on_the_face(photo_encoder, images_dir):
    from kiosk.matching.process import face_region

    rgb = read_image(sorted(images_dir.glob("*/*.jpg"))[0])
    face = photo_encoder.observer.observe(Frame(rgb, 0.0, 0)).face
    region, moved = face_region(rgb, face)
    assert region.shape[0] < rgb.shape[0] or region.shape[1] < rgb.shape[1] or region.shape == rgb.shape
    i = 1  # nose tip: same pixel before and after the crop
    x, y = face.landmarks[i, :2].astype(int)
    mx, my = moved.landmarks[i, :2].astype(int)
    assert np.array_equal(rgb[y, x], region[my, mx])
