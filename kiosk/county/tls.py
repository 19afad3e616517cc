"""A self-signed TLS certificate for a county hub that has none: made once in the hub's data
folder (key 0600) and reused; terminals pin its SHA-256 (`kiosk register --pin`)."""
from __future__ import annotations

import datetime as dt
import ipaddress
import os
import socket
from pathlib import Path


def ensure_self_signed(folder: Path, host: str, days: int = 3650) -> tuple[Path, Path, bool]:
    """(cert.pem, key.pem, made_now). The certificate names `host`, this machine's name and
    127.0.0.1; an existing pair is kept (its pin is what the terminals registered with)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    folder = Path(folder)
    cert_path, key_path = folder / "hub-tls.pem", folder / "hub-tls.key"
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path, False
    folder.mkdir(parents=True, exist_ok=True)
    names: list[x509.GeneralName] = [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    for h in {host, socket.gethostname(), "localhost"}:
        if not h or h in ("0.0.0.0", "::"):
            continue
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(h)))
        except ValueError:
            names.append(x509.DNSName(h))
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "village-kiosk county hub")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName(list(dict.fromkeys(names))), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path, True
