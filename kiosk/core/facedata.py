"""The one list of record keys that would carry face data.

The terminal's store refuses to write a record holding any of them (so none reaches the
outbox) and the county hub refuses to accept one: both use this list, so what one accepts
the other accepts too.
"""
from __future__ import annotations

FACE_DATA_KEYS = frozenset(
    {"embedding", "embeddings", "vector", "vectors", "template", "templates", "image", "images",
     "photo", "photos", "frames_rgb", "frame_rgb", "jpeg", "png", "pixels"}
)


def is_face_data_key(key: object) -> bool:
    return str(key).lower() in FACE_DATA_KEYS
