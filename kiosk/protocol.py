"""The county sync wire format, shared by the village terminal and the county hub.

This is the only module the hub (kiosk.county) shares with the terminal. It holds:

* the JSON messages of the versioned API (`/v1/...`) as pydantic models (unknown fields refused);
* request signing: every request carries the device id, a timestamp, a one-time nonce and an
  Ed25519 signature over method, path, timestamp, nonce and the SHA-256 of the body;
* sealing for one recipient (X25519 + HKDF-SHA256 + AES-256-GCM): templates sent down to a
  device, and USB bundles in both directions (sealed for the recipient, signed by the sender);
* the privacy guard: sync records carry results and audit metadata, never image or
  embedding bytes. The one exception is explicit and sealed: an approved `enrolment` record
  (v4) may carry its template beside the payload (PushRecord.template, sealed for the hub),
  only where the county's `share_templates` setting is on.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import ssl
import uuid as uuidlib
from datetime import date, datetime, timedelta
from typing import Any, Literal

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import BaseModel, ConfigDict, Field

from kiosk.core.clock import Clock, default_clock, utc_iso
from kiosk.core.facedata import FACE_DATA_KEYS
from kiosk.core.messages import message as core_message
from kiosk.core.ids import normalize_id, valid_id_number  # (also re-exported for the hub)

API = "/v1"
# 2 adds optional fields only (PushRequest.device_clock, bundle
# sequence/expiry): a v2 hub accepts v1 terminals and v1 up-bundles. Upgrade the hub first.
# 3 adds the record kind "fallback" (certification without a face, for county review) and the
# endpoint /fallback-decisions; nothing older changes: a v3 hub accepts v1/v2 terminals, and a
# terminal that meets a v2 hub (404) keeps its fallbacks waiting. Upgrade the hub first.
# 4 adds the record kind "enrolment" (who enrolled and who approved, with an optional sealed
# template beside the payload: PushRecord.template), roster contact fields (address, phone,
# 联系人), county operators (/operators, PIN hashes only), the county's template-sharing setting
# (RosterPage.share_templates) and, in county bundles, fallback decisions and operators. All
# optional: a v4 hub accepts v1-v3 terminals and bundles. A v4 terminal sends enrolment records
# only once the hub has said it speaks v4 (share_templates on its roster page or bundle; a v3 hub
# would refuse a batch holding an unknown kind), so against a v3 hub they wait on the terminal;
# /operators answers 404 there (skipped). Upgrade the hub first.
# 5 adds optional fields to the enrolment record: the duplicate-face check's findings (`resembles`,
# `resembles_other`: other residents of the terminal the enrolled face resembles) and the reviewer's
# confirmation (`resemble_confirmation`). A v4 hub refuses unknown fields, so a terminal adds them only
# once the hub has said it speaks v5: the X-Kiosk-Protocol header on every hub answer, or `protocol`
# in a county bundle's content (a v4 terminal ignores both). Bundles keep the v4 stamp
# (BUNDLE_VERSION): their format is unchanged, and v4 terminals and hubs still open them. Before the
# hub speaks v5 the same facts reach it in the audit stream (enrolment_resembles_other, and the
# confirmation in enrolment_approved's details).
PROTOCOL_VERSION = 5
ACCEPTED_VERSIONS = (1, 2, 3, 4, 5)
BUNDLE_VERSION = 4  # the bundle format's version (unchanged in v5)
H_PROTOCOL = "X-Kiosk-Protocol"  # v5: on every hub answer, the protocol version the hub speaks
CLOCK_MARGIN_S = 86400  # default: a record dated further than this from the hub's time is clock_suspect
BUNDLE_VALID_DAYS = 30  # a county -> terminal bundle expires after this
MAX_BODY_BYTES = 4 * 1024 * 1024  # a push batch of 500 records is ~400 KB
MAX_BATCH = 500
MAX_PULL = 2000
CLOCK_WINDOW_S = 300  # a request older or newer than this is refused (replay window)

H_DEVICE = "X-Kiosk-Device"
H_TIMESTAMP = "X-Kiosk-Timestamp"
H_NONCE = "X-Kiosk-Nonce"
H_SIGNATURE = "X-Kiosk-Signature"

BUNDLE_FORMAT = "village-kiosk-bundle"
BUNDLE_UP = "records"  # terminal -> county
BUNDLE_DOWN = "roster"  # county -> terminal

RECORD_KINDS = ("certification", "audit", "fallback", "enrolment")
OPERATOR_ROLES = ("assistant", "reviewer", "admin")
SHARE_TEMPLATES_DEFAULT = True  # the county shares terminal-enrolled templates with its other terminals
FALLBACK_METHODS = ("staff_witness", "relative_pledge")
COUNTY_STATUSES = ("active", "suspended", "deceased")
CATEGORIES = ("pension", "work_injury", "pension_survivor", "work_injury_survivor", "other")

# Keys that would carry face data; a record holding any of them is refused (see check_no_face_data).
# One list with the terminal's store (kiosk.core.facedata).
MAX_TEXT_CHARS = 2000  # no legitimate field is longer; base64 images are


def cert_pin(pem: str) -> str:
    """SHA-256 fingerprint of a PEM certificate: what a terminal pins (`kiosk register --pin`)."""
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()


class ProtocolError(Exception):
    """`code` is stable English; `message` is plain Chinese for people: by default the shared
    catalogue's `protocol_<code>` (kiosk.core.messages, filled with `data`; the hub and the terminal
    both use it); `detail` is English for logs. The hub may still pass its own message."""

    def __init__(self, code: str, message: str | None = None, detail: str = "", **data: Any):
        if message is None:
            message = core_message(f"protocol_{data.pop('why', code)}", **data)
        super().__init__(f"{code}: {message} {detail}".strip())
        self.code, self.message, self.detail, self.data = code, message, detail, data


# ----------------------------------------------------------------------------- helpers
def b64e(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64d(text: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError) as e:
        raise ProtocolError("bad_encoding", detail=str(e)) from None


def canonical_json(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()


def utc_now_iso(clock: Clock | None = None) -> str:
    return utc_iso((clock or default_clock()).utc_now())


def record_uuid(device_id: str, stream: str, key: str | int) -> str:
    """A stable UUID for a record that has no UUID of its own (e.g. audit row number)."""
    return str(uuidlib.uuid5(uuidlib.NAMESPACE_URL, f"village-kiosk:{device_id}:{stream}:{key}"))


# ----------------------------------------------------------------------------- keys
def new_signing_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def new_box_key() -> X25519PrivateKey:
    return X25519PrivateKey.generate()


def private_bytes(key: Ed25519PrivateKey | X25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                             serialization.NoEncryption())


def public_b64(key) -> str:
    pub = key.public_key() if hasattr(key, "public_key") else key
    return b64e(pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


def signing_key_from(raw: bytes) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(raw)


def box_key_from(raw: bytes) -> X25519PrivateKey:
    return X25519PrivateKey.from_private_bytes(raw)


def verify_key_from(b64: str) -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(b64d(b64))
    except ValueError as e:
        raise ProtocolError("bad_key", detail=str(e)) from None


def box_public_from(b64: str) -> X25519PublicKey:
    try:
        return X25519PublicKey.from_public_bytes(b64d(b64))
    except ValueError as e:
        raise ProtocolError("bad_key", detail=str(e)) from None


def key_fingerprint(pub_b64: str) -> str:
    return hashlib.sha256(b64d(pub_b64)).hexdigest()[:16]


# ----------------------------------------------------------------------------- request signing
def signing_message(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    return "\n".join(
        ["village-kiosk-v1", method.upper(), path, timestamp, nonce, hashlib.sha256(body).hexdigest()]
    ).encode()


def sign_request(key: Ed25519PrivateKey, device_id: str, method: str, path: str, body: bytes,
                 now: float) -> dict[str, str]:
    """Headers for one request. `path` includes the query string exactly as sent."""
    ts = str(int(now))
    nonce = os.urandom(16).hex()
    sig = key.sign(signing_message(method, path, ts, nonce, body))
    return {H_DEVICE: device_id, H_TIMESTAMP: ts, H_NONCE: nonce, H_SIGNATURE: b64e(sig)}


def verify_signature(pub: Ed25519PublicKey, signature_b64: str, message: bytes) -> bool:
    try:
        pub.verify(b64d(signature_b64), message)
        return True
    except (InvalidSignature, ProtocolError):
        return False


# ----------------------------------------------------------------------------- sealing
def _derive(shared: bytes, epk: bytes, recipient: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=epk + recipient, info=info).derive(shared)


def seal(recipient_b64: str, plaintext: bytes, aad: str) -> dict[str, str]:
    """Encrypt for one X25519 public key. `aad` binds the ciphertext to its context."""
    recipient = box_public_from(recipient_b64)
    eph = X25519PrivateKey.generate()
    epk = eph.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    rpk = b64d(recipient_b64)
    key = _derive(eph.exchange(recipient), epk, rpk, b"village-kiosk seal v1")
    nonce = os.urandom(12)
    ct = AESGCM(key).encrypt(nonce, plaintext, aad.encode())
    return {"epk": b64e(epk), "nonce": b64e(nonce), "ct": b64e(ct)}


def open_sealed(private: X25519PrivateKey, envelope: dict, aad: str) -> bytes:
    try:
        epk = b64d(envelope["epk"])
        peer = X25519PublicKey.from_public_bytes(epk)
        rpk = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        key = _derive(private.exchange(peer), epk, rpk, b"village-kiosk seal v1")
        return AESGCM(key).decrypt(b64d(envelope["nonce"]), b64d(envelope["ct"]), aad.encode())
    except (KeyError, TypeError, ValueError, InvalidTag) as e:
        raise ProtocolError("not_for_this_device", detail=str(e)) from None


def template_aad(device_id: str, resident_id: str, backend: str, version: int) -> str:
    return f"county-template|{device_id}|{resident_id}|{backend}|{version}"


# ----------------------------------------------------------------------------- privacy guard
def check_no_face_data(value: Any, where: str = "record") -> None:
    """Raise ProtocolError if a record could carry image or embedding bytes."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        raise ProtocolError("face_data", detail=where)
    if isinstance(value, str):
        if len(value) > MAX_TEXT_CHARS:
            raise ProtocolError("field_too_long", detail=where)
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if str(k).lower() in FACE_DATA_KEYS:
                raise ProtocolError("face_data", detail=f"{where}.{k}")
            check_no_face_data(v, f"{where}.{k}")
    elif isinstance(value, (list, tuple)):
        # 64+ floats in one list looks like an embedding (dlib 128, ArcFace 512); summaries are short.
        if len(value) >= 64 and all(isinstance(x, float) for x in value):
            raise ProtocolError("face_data", detail=where, why="face_vector")
        for i, v in enumerate(value):
            check_no_face_data(v, f"{where}[{i}]")


# ----------------------------------------------------------------------------- messages
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorBody(_Strict):
    error: str
    message: str
    detail: str = ""


class RegisterRequest(_Strict):
    code: str = Field(min_length=4, max_length=64)
    name: str = Field(min_length=1, max_length=100)
    sign_pub: str
    box_pub: str
    proof: str  # signature by sign_pub over register_proof_message(...)


def register_proof_message(code: str, sign_pub: str, box_pub: str) -> bytes:
    return canonical_json({"purpose": "village-kiosk register", "code": code, "sign_pub": sign_pub,
                           "box_pub": box_pub})


class RegisterResponse(_Strict):
    device_id: str
    village: str | None
    county: str
    hub_sign_pub: str
    hub_box_pub: str
    server_time: float


class CertificationPayload(_Strict):
    """One certification attempt as the terminal records it (kiosk.store.Attempt)."""

    uuid: str
    resident_id: str
    category: str
    mode: Literal["self", "proxy"]
    helper_relationship: str | None = None
    helper_id_masked: str | None = None
    operator: str | None = None
    device_id: str | None = None  # the signing device's hub id, or None (the hub refuses any other)
    started_at: str
    finished_at: str
    verdict: Literal["pass", "fail"]
    reason: str | None = None
    message: str | None = None
    scores: dict[str, Any] = {}
    liveness: dict[str, Any] = {}


class AuditPayload(_Strict):
    seq: int
    at: str
    actor: str
    action: str
    details: dict[str, Any] = {}


class FallbackPayload(_Strict):
    """A certification without a face (v3): never a pass; held at the hub for county review.
    The relative's full ID number and phone are sent for the county to check the pledge (and
    masked on the terminal once acknowledged)."""

    uuid: str
    resident_id: str
    category: str
    method: Literal["staff_witness", "relative_pledge"]
    reason: str = Field(max_length=64)
    detail: str | None = None
    operator: str
    device_id: str | None = None
    created_at: str
    relation: str | None = None
    relative_name: str | None = None
    relative_id: str | None = None
    relative_phone: str | None = Field(default=None, max_length=32)


class FallbackDecision(_Strict):
    """The county's decision on one of this device's fallbacks (`version`: the hub's change number)."""

    uuid: str
    decision: Literal["approved", "rejected"]
    reason: str | None = None
    by: str
    at: str
    certified_on: str | None = None  # approved: the date it certifies (the fallback's local day)
    version: int


class FallbackDecisionPage(_Strict):
    decisions: list[FallbackDecision]
    cursor: int
    more: bool


class EnrolmentResemblance(_Strict):
    """v5: another resident of the terminal the enrolled face resembles (kiosk.dupface): the 1:1
    decision (`within`: a certification of this face claiming them would pass) and its distance."""

    resident_id: str = Field(max_length=18)
    distance: float = Field(ge=0, le=10)
    within: bool
    method: str | None = Field(default=None, max_length=20)
    source: str | None = Field(default=None, max_length=20)  # enrolled | pending (that resident's set)


class ResembleConfirmation(_Strict):
    """v5: the reviewer approved although the face resembles another resident: what they confirmed
    (`different_person`: 已核实不是同一人) and how they checked."""

    kind: Literal["different_person"]
    reason: str = Field(min_length=1, max_length=200)
    by: str = Field(max_length=64)


class EnrolmentPayload(_Strict):
    """An enrolment at a terminal once reviewed (v4): who enrolled it, who read the consent, who
    approved or rejected it (names and roles), when. No face data: an approved enrolment's
    template goes beside it, sealed for the hub (PushRecord.template), only where the county
    shares templates."""

    uuid: str
    resident_id: str
    backend: str = Field(max_length=40)
    decision: Literal["approved", "rejected"]
    frames: int = Field(ge=1, le=100)
    enrolled_by: str = Field(max_length=64)
    enrolled_by_role: str | None = None
    consent_read_by: str = Field(max_length=64)
    consent_at: str
    created_at: str
    reviewed_by: str = Field(max_length=64)
    reviewed_by_role: str | None = None
    reviewed_at: str
    reject_reason: str | None = Field(default=None, max_length=500)
    template_shared: bool = False
    device_id: str | None = None
    # v5 (only sent to a hub that speaks v5): the duplicate-face check
    resembles_other: int | None = Field(default=None, ge=0, le=100)
    resembles: list[EnrolmentResemblance] | None = Field(default=None, max_length=20)
    resemble_confirmation: ResembleConfirmation | None = None


class SealedTemplate(_Strict):
    """An approved enrolment's vectors, sealed for the hub's box key (template_up_aad)."""

    backend: str = Field(max_length=40)
    dtype: Literal["float32", "float64"]
    dim: int = Field(ge=1, le=4096)
    count: int = Field(ge=1, le=100)
    sealed: dict[str, str]


def template_up_aad(device_id: str, uuid: str, resident_id: str, backend: str) -> str:
    return f"enrolment-template|{device_id}|{uuid}|{resident_id}|{backend}"


class PushRecord(_Strict):
    uuid: str = Field(min_length=36, max_length=36)
    kind: Literal["certification", "audit", "fallback", "enrolment"]
    created_at: str
    payload: dict[str, Any]
    template: SealedTemplate | None = None  # v4, kind "enrolment" only: outside the payload's privacy guard


class PushRequest(_Strict):
    batch_id: str
    records: list[PushRecord] = Field(max_length=MAX_BATCH)
    # v2: the device's own clock (UTC seconds, not corrected by the hub offset) when it sent this:
    # the hub learns how far the device's clock is off and flags records it dated (clock_suspect).
    device_clock: float | None = None


class Ack(_Strict):
    """`rejected`: not stored, `code` + Chinese `message` say why (the terminal keeps the record and
    shows it to staff). `stored` with code `clock_suspect`: held for county review, no status change."""

    uuid: str
    status: Literal["stored", "duplicate", "rejected"]
    code: str | None = None
    message: str | None = None


# Refusals of one record at the hub (Ack.code -> Ack.message), in plain Chinese for village staff.
# The words are the shared catalogue's (kiosk.core.messages, `protocol_<code>`).
REFUSALS = {code: core_message(f"protocol_{code}")
            for code in ("wrong_device", "not_on_roster", "other_village", "removed_from_roster")}
CLOCK_SUSPECT = ("clock_suspect", core_message("protocol_clock_suspect"))


class PushResponse(_Strict):
    acks: list[Ack]


class RosterEntry(_Strict):
    id_number: str
    name: str
    village: str | None = None
    categories: list[str] = []
    benefit_start: str | None = None
    data_comparison_on: str | None = None
    county_status: Literal["active", "suspended", "deceased"] = "active"
    certified_on: str | None = None  # latest certification the county holds (any terminal)
    removed: bool = False
    version: int
    # v4: what the county has for home visits (上门认证); None where it has nothing
    address: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=32)
    contact_name: str | None = Field(default=None, max_length=50)  # 联系人
    contact_phone: str | None = Field(default=None, max_length=32)


class RosterPage(_Strict):
    residents: list[RosterEntry]
    cursor: int
    more: bool
    policy: dict[str, Any] | None = None
    share_templates: bool | None = None  # v4: the county's template-sharing setting (None: an older hub)


class CountyOperator(_Strict):
    """A staff account the county sends down (v4): name, role and the scrypt hash of the PIN
    (hash_operator_pin); never the PIN. `active` False disables it on the terminal."""

    name: str = Field(min_length=1, max_length=64)
    role: Literal["assistant", "reviewer", "admin"]
    pin_hash: str  # base64
    pin_salt: str  # base64
    pin_params: str = Field(pattern=r"^scrypt:n=\d{1,7},r=\d{1,2},p=\d{1,2},len=\d{2}$")
    active: bool = True
    version: int


class OperatorPage(_Strict):
    operators: list[CountyOperator]
    cursor: int
    more: bool


# Operator PIN hashing shared by the hub (which makes them) and the terminal (kiosk.operators checks them).
PIN_SCRYPT = {"n": 2 ** 14, "r": 8, "p": 1, "len": 32}


def pin_params() -> str:
    return "scrypt:" + ",".join(f"{k}={v}" for k, v in PIN_SCRYPT.items())


def hash_operator_pin(pin: str, salt: bytes | None = None, params: str | None = None) -> tuple[bytes, bytes, str]:
    """(hash, salt, params) of a PIN, in the terminal's format (scrypt, per-operator salt)."""
    params = params or pin_params()
    salt = salt if salt is not None else os.urandom(16)
    kind, _, rest = params.partition(":")
    if kind != "scrypt":
        raise ProtocolError("bad_pin_hash", detail=params)
    p = {k: int(v) for k, v in (x.split("=") for x in rest.split(","))}
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=p["n"], r=p["r"], p=p["p"], dklen=p["len"],
                            maxmem=256 * p["n"] * p["r"] * p["p"])
    return digest, salt, params


class TemplateSet(_Strict):
    resident_id: str
    backend: str
    version: int
    dtype: str
    dim: int
    count: int
    sealed: dict[str, str] | None  # None: the county removed this resident's templates


class TemplatePage(_Strict):
    templates: list[TemplateSet]
    cursor: int
    more: bool


class AckList(_Strict):
    """Which of this device's record uuids the county holds (sent down in roster bundles)."""

    uuids: list[str]


Payload = CertificationPayload | AuditPayload | FallbackPayload | EnrolmentPayload


def validate_record(rec: PushRecord, today: date | None = None) -> Payload:
    """Per-record check on the hub; raises ProtocolError with a Chinese message.

    `today` (the service area's date, from the hub's clock) bounds the resident's birth date."""
    try:
        uuidlib.UUID(rec.uuid)
    except ValueError:
        raise ProtocolError("bad_uuid", detail=rec.uuid) from None
    check_no_face_data(rec.payload, "payload")
    if rec.template is not None and rec.kind != "enrolment":
        raise ProtocolError("face_data", detail="template")
    models: dict[str, type[_Strict]] = {"certification": CertificationPayload, "fallback": FallbackPayload,
                                        "enrolment": EnrolmentPayload}
    model = models.get(rec.kind, AuditPayload)
    try:
        parsed = model.model_validate(rec.payload)
    except Exception as e:  # pydantic.ValidationError
        unknown = [".".join(map(str, err["loc"])) for err in getattr(e, "errors", lambda: [])()
                   if err.get("type") == "extra_forbidden"]
        if unknown:
            raise ProtocolError("unknown_field", fields=core_message("protocol_list_separator").join(unknown)) from None
        raise ProtocolError("bad_record", detail=str(e)[:300]) from None
    if isinstance(parsed, EnrolmentPayload):
        if not valid_id_number(normalize_id(parsed.resident_id), today or default_clock().today()):
            raise ProtocolError("bad_id_number")
        if parsed.enrolled_by == parsed.reviewed_by:
            raise ProtocolError("own_enrolment")
        if rec.template is not None and (parsed.decision != "approved" or not parsed.template_shared
                                         or rec.template.backend != parsed.backend):
            raise ProtocolError("template_not_shared")
        _check_times(parsed.consent_at, parsed.created_at, parsed.reviewed_at)
    if isinstance(parsed, (CertificationPayload, FallbackPayload)):
        if not valid_id_number(normalize_id(parsed.resident_id), today or default_clock().today()):
            raise ProtocolError("bad_id_number")
        if parsed.category not in CATEGORIES:
            raise ProtocolError("bad_category", category=parsed.category)
        times = (parsed.started_at, parsed.finished_at) if isinstance(parsed, CertificationPayload) \
            else (parsed.created_at,)
        if isinstance(parsed, FallbackPayload) and parsed.method == "relative_pledge" and not (
                parsed.relative_name and parsed.relation and parsed.relative_phone and parsed.relative_id
                and valid_id_number(normalize_id(parsed.relative_id), today or default_clock().today())):
            raise ProtocolError("bad_relative")
        _check_times(*times)
    return parsed  # type: ignore[return-value]


def _check_times(*times: str) -> None:
    for t in times:
        try:
            if datetime.fromisoformat(t).tzinfo is None:
                raise ValueError
        except ValueError:
            raise ProtocolError("bad_time", detail=t) from None


# ----------------------------------------------------------------------------- bundles
def make_bundle(kind: str, sender: str, recipient: str, recipient_box_pub: str, signer: Ed25519PrivateKey,
                content: dict, bundle_id: str | None = None, *, sequence: int | None = None,
                expires_at: str | None = None, clock: Clock | None = None) -> bytes:
    """A file to carry on a USB stick: sealed for the recipient, signed by the sender.

    County bundles (v2) carry `sequence` (one counter per hub, rising) and `expires_at` (UTC ISO),
    both under the signature: a terminal refuses an older, repeated or expired one."""
    header = {
        "format": BUNDLE_FORMAT, "version": BUNDLE_VERSION, "kind": kind, "bundle_id": bundle_id or str(uuidlib.uuid4()),
        "sender": sender, "recipient": recipient, "recipient_key": key_fingerprint(recipient_box_pub),
        "created_at": utc_now_iso(clock),
    }
    if sequence is not None:
        header["sequence"] = int(sequence)
    if expires_at is not None:
        header["expires_at"] = expires_at
    sealed = seal(recipient_box_pub, canonical_json(content), canonical_json(header).decode())
    body = {"header": header, "sealed": sealed}
    body["signature"] = b64e(signer.sign(canonical_json(body)))
    return json.dumps(body, ensure_ascii=False, indent=1).encode()


def read_bundle_header(data: bytes) -> dict:
    try:
        body = json.loads(data.decode("utf-8"))
        header = body["header"]
        if header.get("format") != BUNDLE_FORMAT or not isinstance(body.get("sealed"), dict):
            raise ValueError("not a bundle")
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise ProtocolError("not_a_bundle", detail=str(e)) from None
    if header.get("version") not in ACCEPTED_VERSIONS:
        raise ProtocolError("bundle_version")
    return body


def open_bundle(data: bytes, expected_kind: str, sender_verify_pub: str, recipient_box: X25519PrivateKey) -> tuple[dict, dict]:
    """Check the signature, then decrypt. Returns (header, content)."""
    body = read_bundle_header(data)
    header = body["header"]
    if header.get("kind") != expected_kind:
        raise ProtocolError("wrong_bundle_kind")
    signature = body.get("signature", "")
    unsigned = {"header": header, "sealed": body["sealed"]}
    if not verify_signature(verify_key_from(sender_verify_pub), signature, canonical_json(unsigned)):
        raise ProtocolError("bad_signature")
    if header.get("recipient_key") != key_fingerprint(public_b64(recipient_box)):
        raise ProtocolError("not_for_us")
    plaintext = open_sealed(recipient_box, body["sealed"], canonical_json(header).decode())
    return header, json.loads(plaintext)


# ----------------------------------------------------------------------------- heartbeat (issue 14)
# Every few minutes when online, a terminal tells the hub how it is: the self-test's state per check,
# its app version, free disk, when it last certified someone and how many records wait to be sent.
# Nothing personal: states, numbers and times only (no names, ID numbers, messages or paths). A signed
# device request like the others; the hub keeps the latest per device and flags silent kiosks.
HEARTBEAT_PATH = "/heartbeat"
HEALTH_CHECKS = ("camera", "audio", "disk", "database", "template_key", "clock", "roster", "hub", "printer")
HEALTH_STATES = ("ok", "warn", "broken", "skipped")


class Heartbeat(_Strict):
    sent_at: str = Field(max_length=40)  # the terminal's own clock (UTC ISO)
    app_version: str = Field(max_length=40)
    checks: dict[Literal["camera", "audio", "disk", "database", "template_key", "clock", "roster", "hub", "printer"],
                 Literal["ok", "warn", "broken", "skipped"]] = {}
    selftest_at: str | None = Field(default=None, max_length=40)
    paused: bool = False  # a check the resident needs is broken: the kiosk shows 本机暂停服务
    maintenance: bool = False  # inside the county's maintenance window
    disk_free_mb: int | None = Field(default=None, ge=0)
    last_certification_at: str | None = Field(default=None, max_length=40)
    queue_length: int = Field(default=0, ge=0)


class HeartbeatAck(_Strict):
    ok: bool = True
    server_time: float
# (end of heartbeat)


# ----------------------------------------------------------------------------- receipt codes (认证回执)
# A resident's receipt carries a code a person can type (7 groups of 4 Crockford base32 characters,
# 140 bits) and a QR code. No personal data is in either: the code holds the format version, the
# method, the terminal's hub id, the day, the first 32 bits of the record's UUID and a 40-bit tag.
# The tag is an HMAC-SHA256 under a key both the terminal and the county can derive from their
# X25519 keys (device box key x hub box key) and nobody else can: an Ed25519 signature cannot be
# checked once truncated, and a full one (64 bytes = 103 characters) is not typeable. The QR adds
# the record's full UUID and the device's full Ed25519 signature (its sync signing key), which the
# county checks with the registered public key. Changing any character of the code fails its tag
# (but for 1 in 2^40).
RECEIPT_VERSION = 1
RECEIPT_METHODS = ("face", "staff_witness", "relative_pledge")
RECEIPT_EPOCH = date(2024, 1, 1)  # days counted from here, 15 bits: to 2113
RECEIPT_QR_PREFIX = "CKRZ1"
RECEIPT_TAG_BYTES = 5
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CROCKFORD_IN = {**{c: i for i, c in enumerate(_CROCKFORD)}, "I": 1, "L": 1, "O": 0}
_RECEIPT_INFO = b"village-kiosk receipt code v1"
_DEVICE_HEX = 12  # hub device ids are "dev-" + 12 hex digits (kiosk.county.db.register)
RECEIPT_BAD = ("receipt_malformed", core_message("protocol_receipt_malformed"))


class ReceiptCode(BaseModel):
    """What a receipt's code says (no personal data)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    device_id: str
    ref: str  # 8 lowercase hex digits: the start of the record's UUID
    day: date
    method: Literal["face", "staff_witness", "relative_pledge"]
    tag: str = ""  # 10 hex digits

    @property
    def text(self) -> str:
        """The code as printed: XXXX-XXXX-… (7 groups)."""
        return receipt_format(self)


def _receipt_fields(device_id: str, ref: str, day: date, method: str) -> int:
    """The 100 bits before the tag: version 3, method 2, device 48, day 15, ref 32."""
    if not (device_id.startswith("dev-") and len(device_id) == 4 + _DEVICE_HEX):
        raise ProtocolError("receipt_device", detail=device_id)
    try:
        dev = int(device_id[4:], 16)
        r = int(ref, 16)
    except ValueError:
        raise ProtocolError("receipt_device", detail=device_id) from None
    days = (day - RECEIPT_EPOCH).days
    if not 0 <= days < 1 << 15 or len(ref) != 8:
        raise ProtocolError(*RECEIPT_BAD, f"day {day} ref {ref}")
    v = RECEIPT_VERSION
    v = (v << 2) | RECEIPT_METHODS.index(method)
    v = (v << 48) | dev
    v = (v << 15) | days
    return (v << 32) | r


def receipt_tag_key(shared_secret: bytes, device_id: str) -> bytes:
    """The tag key from the X25519 shared secret of the device's and the hub's box keys."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=device_id.encode(), info=_RECEIPT_INFO).derive(shared_secret)


def _tag(key: bytes, fields: int) -> bytes:
    import hmac

    return hmac.new(key, _RECEIPT_INFO + fields.to_bytes(13, "big"), hashlib.sha256).digest()[:RECEIPT_TAG_BYTES]


def receipt_code(key: bytes, device_id: str, record_uuid: str, day: date, method: str) -> ReceiptCode:
    ref = record_uuid.replace("-", "").lower()[:8]
    fields = _receipt_fields(device_id, ref, day, method)
    return ReceiptCode(device_id=device_id, ref=ref, day=day, method=method, tag=_tag(key, fields).hex())


def receipt_format(code: ReceiptCode) -> str:
    v = (_receipt_fields(code.device_id, code.ref, code.day, code.method) << 40) | int(code.tag, 16)
    chars = "".join(_CROCKFORD[(v >> (5 * i)) & 31] for i in reversed(range(28)))
    return "-".join(chars[i:i + 4] for i in range(0, 28, 4))


def receipt_check(key: bytes, code: ReceiptCode) -> bool:
    import hmac

    fields = _receipt_fields(code.device_id, code.ref, code.day, code.method)
    return hmac.compare_digest(_tag(key, fields).hex(), code.tag)


def receipt_parse(text: str) -> tuple[ReceiptCode, str | None, str | None]:
    """A typed code (dashes, spaces, lower case, I/L/O as 1/1/0 all fine) or a QR text →
    (code, full record UUID or None, Ed25519 signature b64 or None). ProtocolError if malformed."""
    text = (text or "").strip()
    uuid = sig = None
    if text.upper().startswith(RECEIPT_QR_PREFIX + ":"):
        parts = text.split(":")
        if len(parts) != 4:
            raise ProtocolError(*RECEIPT_BAD, "qr parts")
        _, text, raw_uuid, raw_sig = parts
        try:
            uuid = str(uuidlib.UUID(hex=raw_uuid))
            sig = b64e(base64.b32decode(raw_sig.upper() + "=" * (-len(raw_sig) % 8)))
        except ValueError as e:
            raise ProtocolError(*RECEIPT_BAD, str(e)) from None
    chars = [c for c in text.upper() if c not in "- "]
    if len(chars) != 28 or any(c not in _CROCKFORD_IN for c in chars):
        raise ProtocolError(*RECEIPT_BAD, f"{len(chars)} characters")
    v = 0
    for c in chars:
        v = (v << 5) | _CROCKFORD_IN[c]
    tag, fields = v & ((1 << 40) - 1), v >> 40
    ref, days = fields & 0xFFFFFFFF, (fields >> 32) & 0x7FFF
    dev, method, version = (fields >> 47) & ((1 << 48) - 1), (fields >> 95) & 3, fields >> 97
    if version != RECEIPT_VERSION or method >= len(RECEIPT_METHODS):
        raise ProtocolError(*RECEIPT_BAD, f"version {version} method {method}")
    code = ReceiptCode(device_id=f"dev-{dev:012x}", ref=f"{ref:08x}", day=RECEIPT_EPOCH + timedelta(days=days),
                       method=RECEIPT_METHODS[method], tag=f"{tag:010x}")
    if uuid is not None and not uuid.replace("-", "").startswith(code.ref):
        raise ProtocolError(*RECEIPT_BAD, "uuid does not match the code")
    return code, uuid, sig


def receipt_sign_message(code: ReceiptCode, record_uuid: str) -> bytes:
    return "\n".join(["village-kiosk receipt v1", code.device_id, record_uuid, code.day.isoformat(), code.method,
                      receipt_format(code)]).encode()


def receipt_qr_text(code: ReceiptCode, record_uuid: str, signer: Ed25519PrivateKey) -> str:
    """What the QR holds: only QR alphanumeric characters (upper case, digits, ':', '-'), so it stays small."""
    sig = signer.sign(receipt_sign_message(code, record_uuid))
    return ":".join([RECEIPT_QR_PREFIX, receipt_format(code), record_uuid.replace("-", "").upper(),
                     base64.b32encode(sig).decode().rstrip("=")])
