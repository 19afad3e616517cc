"""The hub's own secret: one 32-byte file (mode 0600) from which it derives its Ed25519 signing
key (roster bundles), its X25519 key (terminal bundles are sealed for it), the AES key that
protects enrolled templates in the hub database and the SQLCipher key that encrypts a SQLite hub
database whole (kiosk.county.atrest). Kept outside the hub's data folder (kiosk.county.cli)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from kiosk import protocol as P
from kiosk.county.texts import text


def _derive(master: bytes, label: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=f"county-hub {label}".encode()).derive(master)


@dataclass
class HubKeys:
    master: bytes

    @classmethod
    def load_or_create(cls, path: Path) -> "HubKeys":
        if path.exists():
            data = path.read_bytes()
            if len(data) != 32:
                raise ValueError(text("keys_damaged", path=path))
            return cls(data)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # the new folder: owner only
        data = os.urandom(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        return cls(data)

    @property
    def sign(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(_derive(self.master, "sign"))

    @property
    def box(self) -> X25519PrivateKey:
        return X25519PrivateKey.from_private_bytes(_derive(self.master, "box"))

    @property
    def sign_pub(self) -> str:
        return P.public_b64(self.sign)

    @property
    def box_pub(self) -> str:
        return P.public_b64(self.box)

    @property
    def database_key(self) -> bytes:
        """The raw 256-bit SQLCipher key of county.db."""
        return _derive(self.master, "database")

    def encrypt_at_rest(self, plaintext: bytes, aad: str) -> tuple[bytes, bytes]:
        nonce = os.urandom(12)
        return nonce, AESGCM(_derive(self.master, "templates")).encrypt(nonce, plaintext, aad.encode())

    def decrypt_at_rest(self, nonce: bytes, ct: bytes, aad: str) -> bytes:
        try:
            return AESGCM(_derive(self.master, "templates")).decrypt(nonce, ct, aad.encode())
        except InvalidTag:
            raise ValueError(text("keys_mismatch")) from None
