"""AES-256-GCM for face templates and retained captures.

The key lives in its own file (mode 0600), never in the database, so a copied database
file alone reveals no face data. The resident's ID number is bound in as associated
data, so a ciphertext moved to another resident's row fails to decrypt.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
from pathlib import Path

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from . import TemplateKeyError

KEY_BYTES = 32
NONCE_BYTES = 12
_CHECK_PLAINTEXT = b"village-kiosk template key check v1"
_DTYPES = {"float32": np.float32, "float64": np.float64}

def read_key(key_path: Path) -> bytes:
    try:
        key = key_path.read_bytes()
    except FileNotFoundError:
        raise TemplateKeyError("key_missing", detail=str(key_path)) from None
    except OSError as e:
        raise TemplateKeyError("key_unreadable", detail=f"{key_path}: {e}", why="key_bad") from None
    if len(key) != KEY_BYTES:
        raise TemplateKeyError("key_invalid", detail=f"{key_path}: {len(key)} bytes", why="key_bad")
    return key


def create_key(key_path: Path) -> bytes:
    """Write a new random key; O_EXCL so an existing key is never overwritten."""
    key = AESGCM.generate_key(bit_length=256)
    try:
        make_key_dir(key_path.parent)
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if key_path.is_file():
            return read_key(key_path)  # another process made it a moment ago
        raise TemplateKeyError("key_unwritable", detail=str(key_path)) from None
    except OSError as e:
        raise TemplateKeyError("key_unwritable", detail=f"{key_path}: {e}") from None
    try:
        os.write(fd, key)
        os.fsync(fd)
    finally:
        os.close(fd)
    return key


def make_key_dir(folder: Path) -> None:
    """The key folder, 0700 when this program creates it (keys are 0600 inside)."""
    if not folder.is_dir():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(folder, 0o700)  # mkdir's mode is masked by the umask


def encrypt(key: bytes, plaintext: bytes, aad: str) -> tuple[bytes, bytes]:
    nonce = os.urandom(NONCE_BYTES)
    return nonce, AESGCM(key).encrypt(nonce, plaintext, aad.encode())


def decrypt(key: bytes, nonce: bytes, ciphertext: bytes, aad: str) -> bytes:
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, aad.encode())
    except InvalidTag:
        raise TemplateKeyError("key_mismatch", detail="authentication failed", why="key_bad") from None


def key_check(key: bytes) -> tuple[bytes, bytes]:
    """A sealed constant stored in the database to recognise the right key at open time."""
    return encrypt(key, _CHECK_PLAINTEXT, "key_check")


def verify_key(key: bytes, nonce: bytes, ciphertext: bytes) -> None:
    if decrypt(key, nonce, ciphertext, "key_check") != _CHECK_PLAINTEXT:
        raise TemplateKeyError("key_mismatch", why="key_bad")


def vector_aad(resident_id: str, backend: str) -> str:
    return f"template|{resident_id}|{backend}"


def encrypt_vector(key: bytes, vector: np.ndarray, aad: str) -> tuple[str, int, bytes, bytes]:
    """Returns (dtype name, dim, nonce, ciphertext) for a 1-D float32/float64 vector."""
    v = np.asarray(vector)
    if v.ndim != 1 or v.size == 0:
        raise ValueError("template vector must be a non-empty 1-D array")
    if v.dtype.name not in _DTYPES:
        raise ValueError(f"template vector must be float32 or float64, got {v.dtype}")
    if not np.all(np.isfinite(v)):
        raise ValueError("template vector contains NaN or infinity")
    v = v.astype(v.dtype.newbyteorder("<"), copy=False)  # stored little-endian everywhere
    nonce, ct = encrypt(key, v.tobytes(), aad)
    return v.dtype.name, int(v.size), nonce, ct


def decrypt_vector(key: bytes, dtype: str, dim: int, nonce: bytes, ciphertext: bytes, aad: str) -> np.ndarray:
    raw = decrypt(key, nonce, ciphertext, aad)
    v = np.frombuffer(raw, dtype=np.dtype(_DTYPES[dtype]).newbyteorder("<")).astype(_DTYPES[dtype])
    if v.size != dim:
        raise TemplateKeyError("template_damaged", detail=f"expected {dim} values, got {v.size}", why="key_bad")
    return v


# --- personal data at rest (names, ID numbers) -------------------------------------------
# Two keys derived from the template key with HKDF, each with its own label, so the same
# secret never serves two purposes: AES-GCM for the values, HMAC-SHA256 for the lookup index.
PERSONAL_LABEL = b"village-kiosk personal data v1"
INDEX_LABEL = b"village-kiosk id-number index v1"
REF_PREFIX = "R"  # a blind reference never starts with a digit, so it cannot be an ID number


def derive_key(key: bytes, label: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=label).derive(key)


def blind_ref(index_key: bytes, id_number: str) -> str:
    """The keyed HMAC of a normalised ID number as an 18-character reference ('R' + 17 base32
    characters, 85 bits): it fits the ID-number columns and finds a row without revealing it."""
    digest = hmac.new(index_key, id_number.encode("ascii"), hashlib.sha256).digest()
    return REF_PREFIX + base64.b32encode(digest).decode("ascii")[:17]


def seal_text(key: bytes, text: str, aad: str) -> tuple[bytes, bytes]:
    return encrypt(key, text.encode("utf-8"), aad)


def open_text(key: bytes, nonce: bytes, ciphertext: bytes, aad: str) -> str:
    return decrypt(key, nonce, ciphertext, aad).decode("utf-8")
