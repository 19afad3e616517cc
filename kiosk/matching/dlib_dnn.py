"""dlib's face recognition ResNet (face_recognition_models' v1 weights) run by OpenCV's DNN module.

dlib-bin is built without BLAS, so its ResNet costs ~95 ms a face on the kiosk's CPU;
cv2.dnn runs the same convolutions with optimised, multi-threaded kernels. We never
download a model: the network is read from the installed
`dlib_face_recognition_resnet_model_v1.dat` (dlib's own serialization of `anet_type` from
dlib's dnn_face_recognition_ex.cpp) and written as a small ONNX graph, once, into the
kiosk's home dir (or shipped prebuilt in assets/models/, see packaging/convert_dlib_resnet.py).

The graph reproduces dlib's inference exactly (up to float rounding):
- input_rgb_image_sized<150>: RGB planes, (pixel - per-channel average) / 256;
- con (dlib's own paddings: 1 for 3x3 stride 1, 0 for stride 2 and for the 7x7 stem),
  each followed by affine (the folded batch norm), which we fold into the conv;
- max_pool 3x3/2 and avg_pool 2x2/2 without padding (floor);
- add_prev: dlib adds tensors of different shapes by aligning them at the top-left corner
  of the larger one and treating missing values as 0 (the downsampling blocks add a
  3x3 block output to a 4x4 pooled input, and 32/64/128 channels to 64/128/256);
- avg_pool_everything, then fc_no_bias 128; loss_metric returns that raw vector
  (not L2-normalised), which is what face_recognition/dlib return.

The ONNX protobuf is written by a ~40-line encoder below rather than the `onnx` package,
because `onnx` is a dev-only dependency and is excluded from the kiosk bundle; tests check
the file with onnx.checker.
"""
from __future__ import annotations

import hashlib
import threading
import warnings
from dataclasses import dataclass, field
from typing import Any
from pathlib import Path

import numpy as np
import numpy.typing as npt

from kiosk.arrays import Floats, Image
from kiosk.core.paths import assets_dir

_Dims4 = tuple[int, int, int, int]  # (the reader's method `int` shadows the builtin in its class body)
_Shape = tuple[int, ...]
CHIP_SIZE = 150
CHIP_PADDING = 0.25  # dlib's compute_face_descriptor uses get_face_chip_details(shape, 150, 0.25)
CONVERTER_VERSION = 1  # bump when the graph changes, so stale caches are not reused
ASSET_DIR = assets_dir("models")


# ------------------------------------------------------------------ dlib .dat reader
class _DatReader:
    """Reads dlib's serialization primitives (dlib/serialize.h, dlib/dnn/tensor.h)."""

    def __init__(self, data: bytes):
        self.b = data
        self.pos = 0

    def int(self) -> int:
        # dlib ints: a control byte (low nibble: byte count, 0x80: negative), then little-endian bytes.
        c = self.b[self.pos]
        n = c & 0x0F
        if n > 8:
            raise ValueError(f"bad dlib integer at byte {self.pos}")
        v = int.from_bytes(self.b[self.pos + 1:self.pos + 1 + n], "little")
        self.pos += 1 + n
        return -v if c & 0x80 else v

    def string(self) -> str:
        n = self.int()
        s = self.b[self.pos:self.pos + n].decode("ascii")
        self.pos += n
        return s

    def real(self) -> float:
        # dlib floats/doubles: mantissa and base-2 exponent, each a dlib int.
        m = self.int()
        e = self.int()
        return float(m) * 2.0 ** e

    def boolean(self) -> bool:
        c = self.b[self.pos:self.pos + 1]
        if c not in (b"0", b"1"):
            raise ValueError(f"bad dlib bool at byte {self.pos}")
        self.pos += 1
        return c == b"1"

    def tensor(self) -> Floats:
        if self.int() != 2:
            raise ValueError("unsupported dlib tensor version")
        dims = [self.int() for _ in range(4)]
        n = int(np.prod(dims))
        a = np.frombuffer(self.b, "<f4", n, self.pos).reshape(dims).astype(np.float32)
        self.pos += 4 * n
        return a

    def alias(self) -> _Dims4:
        if self.int() != 1:
            raise ValueError("unsupported dlib alias_tensor version")
        a, b, c, d = (self.int() for _ in range(4))
        return a, b, c, d


@dataclass
class DlibLayer:
    kind: str  # con | affine | relu | max_pool | avg_pool | add_prev | fc | tagskip
    arrays: dict[str, Floats] = field(default_factory=dict)
    attrs: dict[str, Any] = field(default_factory=dict)


def _read_details(r: _DatReader) -> DlibLayer:
    kind = r.string()
    if kind == "con_4":
        params = r.tensor().reshape(-1)
        nf, nr, nc, sy, sx, py, px = (r.int() for _ in range(7))
        filters, biases = r.alias(), r.alias()
        for _ in range(4):
            r.real()  # learning-rate / weight-decay multipliers
        nw = int(np.prod(filters))
        if filters[0] != nf or filters[2:] != (nr, nc) or int(np.prod(biases)) != nf or params.size != nw + nf:
            raise ValueError("inconsistent con_ layer")
        return DlibLayer("con", {"w": params[:nw].reshape(filters), "b": params[nw:nw + nf]},
                         {"stride": (sy, sx), "pad": (py, px), "kernel": (nr, nc)})
    if kind == "affine_":
        params = r.tensor().reshape(-1)
        gamma, _beta = r.alias(), r.alias()
        mode = r.int()
        if mode != 0:
            raise ValueError("only conv-mode affine layers are supported")
        n = int(np.prod(gamma))
        return DlibLayer("affine", {"gamma": params[:n], "beta": params[n:2 * n]})
    if kind in ("relu_", "add_prev_"):
        return DlibLayer(kind.rstrip("_"))
    if kind in ("max_pool_2", "avg_pool_2"):
        nr, nc, sy, sx, py, px = (r.int() for _ in range(6))
        return DlibLayer(kind[:-2], attrs={"kernel": (nr, nc), "stride": (sy, sx), "pad": (py, px)})
    if kind == "fc_2":
        n_out, n_in = r.int(), r.int()
        params = r.tensor().reshape(-1)
        weights, _biases = r.alias(), r.alias()
        bias_mode = r.int()
        for _ in range(4):
            r.real()
        if bias_mode != 1:
            raise ValueError("only fc_no_bias is supported")
        if weights[:2] != (n_in, n_out) or params.size != n_in * n_out:
            raise ValueError("inconsistent fc_ layer")
        return DlibLayer("fc", {"w": params[:n_in * n_out].reshape(n_in, n_out)})
    raise ValueError(f"unsupported dlib layer '{kind}'")


def read_dlib_resnet(path: str | Path) -> tuple[dict[str, Any], list[DlibLayer]]:
    """(input settings, layers from the input outwards) of a serialized dlib metric-loss network."""
    r = _DatReader(Path(path).read_bytes())
    if r.int() != 1 or r.string() != "loss_metric_2":
        raise ValueError(f"{path} is not a dlib loss_metric network")
    r.real(), r.real()  # margin, distance threshold: training only
    # add_layer (version >= 2) and tag/skip layers (version 1) serialize their subnetwork
    # first, so the file starts with one version number per layer, outermost first.
    versions = []
    while True:
        v = r.int()
        save = r.pos
        try:
            is_input = r.string() == "input_rgb_image_sized"
        except (UnicodeDecodeError, IndexError):
            is_input = False
        r.pos = save
        if is_input:
            break
        versions.append(v)
    input_version = v
    r.string()
    mean = tuple(np.float32(r.real()) for _ in range(3))
    size = (r.int(), r.int())
    layers = []

    def tail(version: int, first: bool) -> None:
        # Training state after each add_layer's details: 3 bools and cached tensors (empty).
        for _ in range(3):
            r.boolean()
        for _ in range(3):
            r.tensor()
        if first and version >= 3:
            r.int()  # sample_expansion_factor

    layers.append(_read_details(r))
    tail(input_version, True)
    for v in reversed(versions):
        if v == 1:
            layers.append(DlibLayer("tagskip"))
        else:
            layers.append(_read_details(r))
            tail(v, False)
    if r.pos != len(r.b):
        raise ValueError(f"{path}: {len(r.b) - r.pos} unread bytes")
    return {"mean": mean, "size": size}, layers


# ------------------------------------------------------------------ minimal ONNX writer
def _varint(v: int) -> bytes:
    if v < 0:
        v += 1 << 64
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _f_varint(num: int, v: int) -> bytes:
    return _varint(num << 3) + _varint(v)


def _f_bytes(num: int, data: bytes | str) -> bytes:
    if isinstance(data, str):
        data = data.encode()
    return _varint((num << 3) | 2) + _varint(len(data)) + data


def _tensor_proto(name: str, a: npt.NDArray[np.generic]) -> bytes:
    dtype = {np.dtype(np.float32): 1, np.dtype(np.int64): 7}[a.dtype]
    msg = b"".join(_f_varint(1, int(d)) for d in a.shape)
    return msg + _f_varint(2, dtype) + _f_bytes(8, name) + _f_bytes(9, np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<")).tobytes())


def _attr_proto(name: str, v: int | str | list[int] | tuple[int, ...]) -> bytes:
    if isinstance(v, (list, tuple)):
        return _f_bytes(1, name) + b"".join(_f_varint(8, int(i)) for i in v) + _f_varint(20, 7)  # INTS
    if isinstance(v, str):
        return _f_bytes(1, name) + _f_bytes(4, v) + _f_varint(20, 3)  # STRING
    return _f_bytes(1, name) + _f_varint(3, int(v)) + _f_varint(20, 2)  # INT


def _value_info(name: str, shape: _Shape) -> bytes:
    dims = b"".join(_f_bytes(1, _f_varint(1, d)) for d in shape)
    tensor_type = _f_varint(1, 1) + _f_bytes(2, dims)  # elem_type FLOAT, shape
    return _f_bytes(1, name) + _f_bytes(2, _f_bytes(1, tensor_type))


class _Graph:
    def __init__(self) -> None:
        self.nodes: list[bytes] = []
        self.inits: list[bytes] = []
        self.n = 0

    def const(self, a: npt.NDArray[np.generic], hint: str) -> str:
        self.n += 1
        name = f"{hint}_{self.n}"
        self.inits.append(_tensor_proto(name, a))
        return name

    def op(self, op_type: str, inputs: list[str], out: str | None = None, **attrs: int | str | list[int]) -> str:
        self.n += 1
        out = out or f"{op_type.lower()}_{self.n}"
        msg = b"".join(_f_bytes(1, i) for i in inputs) + _f_bytes(2, out) + _f_bytes(3, out) + _f_bytes(4, op_type)
        msg += b"".join(_f_bytes(5, _attr_proto(k, v)) for k, v in attrs.items())
        self.nodes.append(msg)
        return out

    def model(self, inp: str, in_shape: _Shape, out: str, out_shape: _Shape, doc: str) -> bytes:
        graph = b"".join(_f_bytes(1, n) for n in self.nodes) + _f_bytes(2, "dlib_face_recognition_resnet_v1")
        graph += b"".join(_f_bytes(5, t) for t in self.inits)
        graph += _f_bytes(11, _value_info(inp, in_shape)) + _f_bytes(12, _value_info(out, out_shape))
        opset = _f_bytes(1, "") + _f_varint(2, 13)
        return (_f_varint(1, 7) + _f_bytes(2, "village-kiosk dlib_dnn") + _f_bytes(6, doc)
                + _f_bytes(7, graph) + _f_bytes(8, opset))


def convert_dlib_resnet(dat_path: str | Path) -> bytes:
    """ONNX model bytes equivalent to dlib's face recognition ResNet in `dat_path`.

    Graph input "chip": float32 (1, 3, 150, 150), RGB, raw 0..255 pixel values.
    Graph output "descriptor": float32 (1, 128), the raw fc output (what dlib returns)."""
    meta, layers = read_dlib_resnet(dat_path)
    if meta["size"] != (CHIP_SIZE, CHIP_SIZE):
        raise ValueError(f"unexpected input size {meta['size']}")
    g = _Graph()
    mean = np.asarray(meta["mean"], np.float32).reshape(1, 3, 1, 1)
    # dlib: (pixel - avg) / 256.0 in float; 1/256 is exact, so Mul matches Div bit for bit.
    cur = g.op("Sub", ["chip", g.const(mean, "mean")])
    cur = g.op("Mul", [cur, g.const(np.full((1, 1, 1, 1), 1.0 / 256.0, np.float32), "scale")])
    shape: _Shape = (3, CHIP_SIZE, CHIP_SIZE)  # (channels, rows, cols) of `cur`, tracked for add_prev
    tag1: str | None = None
    tag2: str | None = None
    tag1_shape: _Shape | None = None
    tag2_shape: _Shape | None = None
    i = 0
    while i < len(layers):
        L = layers[i]
        if L.kind == "con":
            w, b = L.arrays["w"], L.arrays["b"]
            if i + 1 < len(layers) and layers[i + 1].kind == "affine":
                # Fold the inference-mode batch norm: (conv(x) + b) * gamma + beta.
                A = layers[i + 1].arrays
                w = w * A["gamma"].reshape(-1, 1, 1, 1)
                b = b * A["gamma"] + A["beta"]
                i += 1
            (kh, kw), (sy, sx), (py, px) = L.attrs["kernel"], L.attrs["stride"], L.attrs["pad"]
            cur = g.op("Conv", [cur, g.const(w.astype(np.float32), "w"), g.const(b.astype(np.float32), "b")],
                       kernel_shape=[kh, kw], strides=[sy, sx], pads=[py, px, py, px])
            shape = (w.shape[0], (shape[1] + 2 * py - kh) // sy + 1, (shape[2] + 2 * px - kw) // sx + 1)
        elif L.kind == "affine":
            raise ValueError("affine layer without a preceding con")
        elif L.kind == "relu":
            cur = g.op("Relu", [cur])
        elif L.kind in ("max_pool", "avg_pool"):
            (kh, kw), (sy, sx), (py, px) = L.attrs["kernel"], L.attrs["stride"], L.attrs["pad"]
            if kh == 0 and kw == 0:  # avg_pool_everything
                cur = g.op("GlobalAveragePool", [cur])
                shape = (shape[0], 1, 1)
            else:
                if (py, px) != (0, 0):
                    raise ValueError("padded pooling is not supported")  # never in this network
                op = "MaxPool" if L.kind == "max_pool" else "AveragePool"
                cur = g.op(op, [cur], kernel_shape=[kh, kw], strides=[sy, sx])
                shape = (shape[0], (shape[1] - kh) // sy + 1, (shape[2] - kw) // sx + 1)
        elif L.kind == "tagskip":
            if i + 1 < len(layers) and layers[i + 1].kind == "tagskip":
                # residual_down: tag2 marks the block output, skip1 goes back to tag1's input.
                tag2, tag2_shape = cur, shape
                if tag1 is None or tag1_shape is None:
                    raise ValueError("residual block without its start tag")
                cur, shape = tag1, tag1_shape
                i += 1
            else:  # tag1 at the start of a residual block
                tag1, tag1_shape = cur, shape
                tag2 = None
        elif L.kind == "add_prev":
            other, other_shape = (tag2, tag2_shape) if tag2 is not None else (tag1, tag1_shape)
            if other is None or other_shape is None:
                raise ValueError("add_prev without a tag")
            out_shape = tuple(max(a, b) for a, b in zip(shape, other_shape))
            cur = g.op("Add", [_pad_to(g, cur, shape, out_shape), _pad_to(g, other, other_shape, out_shape)])
            shape, tag2 = out_shape, None
        elif L.kind == "fc":
            w = L.arrays["w"]
            if w.shape[0] != int(np.prod(shape)):
                raise ValueError("fc input size mismatch")
            cur = g.op("Flatten", [cur], axis=1)
            cur = g.op("Gemm", [cur, g.const(w.astype(np.float32), "fc")], out="descriptor")
            shape = (w.shape[1],)
        else:
            raise ValueError(f"unexpected layer {L.kind}")
        i += 1
    if cur != "descriptor":
        raise ValueError("the network does not end with its fc layer")
    digest = hashlib.sha256(Path(dat_path).read_bytes()).hexdigest()
    doc = f"dlib face recognition ResNet v1 converted from {Path(dat_path).name} sha256={digest}"
    return g.model("chip", (1, 3, CHIP_SIZE, CHIP_SIZE), "descriptor", (1, shape[0]), doc)


def _pad_to(g: _Graph, name: str, shape: _Shape, target: _Shape) -> str:
    """Zero-pad channels/rows/cols at the end: dlib's add of unequal tensors (top-left aligned)."""
    if tuple(shape) == tuple(target):
        return name
    pads = np.array([0, 0, 0, 0, 0, target[0] - shape[0], target[1] - shape[1], target[2] - shape[2]], np.int64)
    return g.op("Pad", [name, g.const(pads, "pads")], mode="constant")


# ------------------------------------------------------------------ runtime
def dlib_model_path() -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # face_recognition_models warns about pkg_resources
        import face_recognition_models as frm
    return Path(frm.face_recognition_model_location())


def onnx_file_name(dat_path: str | Path) -> str:
    """Name tied to the exact .dat and converter version, so a stale file is never picked up."""
    digest = hashlib.sha256(Path(dat_path).read_bytes()).hexdigest()[:16]
    return f"dlib_face_recognition_resnet_v1-{digest}-c{CONVERTER_VERSION}.onnx"


def ensure_onnx(dat_path: str | Path | None = None, cache_dir: str | Path | None = None) -> Path:
    """The ONNX file for `dat_path`: shipped in assets/models/, else cached under the kiosk's
    home dir, else converted now (never downloaded) and written there atomically."""
    dat = Path(dat_path) if dat_path else dlib_model_path()
    name = onnx_file_name(dat)
    shipped = ASSET_DIR / name
    if shipped.is_file():
        return shipped
    if cache_dir is None:
        from kiosk.config import home_dir

        cache_dir = home_dir() / "models"
    target = Path(cache_dir) / name
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    data = convert_dlib_resnet(dat)
    from kiosk.core.atomic import write_atomic

    # another process converting at the same time writes the same bytes
    write_atomic(target, data, durable=False)
    return target


class DlibDnnRecognizer:
    """Drop-in for dlib.face_recognition_model_v1 (1 jitter) running the net in cv2.dnn.

    `compute_face_descriptor(img, shape)` extracts exactly dlib's chip
    (dlib.get_face_chip(img, shape, 150, 0.25)); `descriptor(chip)` takes that chip."""

    def __init__(self, onnx_path: str | Path | None = None, dat_path: str | Path | None = None,
                 cache_dir: str | Path | None = None):
        import cv2

        self.onnx_path = Path(onnx_path) if onnx_path else ensure_onnx(dat_path, cache_dir)
        self._net = cv2.dnn.readNetFromONNX(str(self.onnx_path))
        if self._net.empty():
            raise RuntimeError(f"cv2.dnn could not load {self.onnx_path}")
        self._net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
        self._net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
        self._lock = threading.Lock()  # cv2.dnn.Net is not re-entrant
        self._dlib: Any = None  # imported on first use (untyped)

    def descriptor(self, chip: Image) -> Floats:
        """128-d descriptor (float64) of a 150x150 RGB uint8 face chip."""
        if chip.shape != (CHIP_SIZE, CHIP_SIZE, 3):
            raise ValueError(f"expected a {CHIP_SIZE}x{CHIP_SIZE} RGB chip, got {chip.shape}")
        blob = np.ascontiguousarray(chip.transpose(2, 0, 1)[None], dtype=np.float32)
        with self._lock:
            self._net.setInput(blob)
            out = self._net.forward()
        return np.asarray(out, dtype=np.float64).reshape(-1)

    def compute_face_descriptor(self, img: Image, shape: Any, num_jitters: int = 0) -> Floats:
        if num_jitters > 1:
            raise ValueError("jittered descriptors are not supported by the cv2.dnn runtime")
        if self._dlib is None:
            import dlib

            self._dlib = dlib
        chip = self._dlib.get_face_chip(img, shape, size=CHIP_SIZE, padding=CHIP_PADDING)
        return self.descriptor(chip)
