"""Convert dlib's face recognition ResNet to ONNX for cv2.dnn (run from a developer checkout).

    uv run python packaging/convert_dlib_resnet.py              # -> assets/models/<name>.onnx
    uv run python packaging/convert_dlib_resnet.py --out x.onnx --check

Reads `dlib_face_recognition_resnet_model_v1.dat` from the installed face_recognition_models
(or --dat), never downloads anything, and writes the graph built by
kiosk.matching.dlib_dnn.convert_dlib_resnet (the kiosk runs the same converter on first use
when no prebuilt file is shipped, caching it under the kiosk's home dir). The default file
name carries the .dat's SHA-256 prefix and the converter version, which is how the runtime
finds a shipped file in assets/models/. Output is deterministic for a given .dat.

--check validates the file with onnx.checker (dev dependency) and compares cv2.dnn with
dlib's own compute_face_descriptor on random 150x150 chips.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kiosk.matching.dlib_dnn import ASSET_DIR, DlibDnnRecognizer, convert_dlib_resnet, dlib_model_path, onnx_file_name


def check(onnx_path: Path, dat_path: Path, n: int = 8) -> float:
    """Validate the ONNX file and return the largest |dlib - cv2.dnn| over n random chips."""
    import dlib
    import numpy as np
    import onnx

    onnx.checker.check_model(onnx.load(str(onnx_path)), full_check=True)
    rec = DlibDnnRecognizer(onnx_path=onnx_path)
    net = dlib.face_recognition_model_v1(str(dat_path))
    rng = np.random.default_rng(0)
    worst = 0.0
    for _ in range(n):
        chip = rng.integers(0, 256, (150, 150, 3), dtype=np.uint8)
        ref = np.asarray(net.compute_face_descriptor(chip), dtype=np.float64)
        worst = max(worst, float(np.abs(ref - rec.descriptor(chip)).max()))
    return worst


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dat", type=Path, default=None, help="dlib model (default: the installed face_recognition_models)")
    ap.add_argument("--out", type=Path, default=None, help="output .onnx (default: assets/models/<versioned name>)")
    ap.add_argument("--check", action="store_true", help="validate with onnx.checker and compare with dlib")
    args = ap.parse_args(argv)
    dat = args.dat or dlib_model_path()
    out = args.out or ASSET_DIR / onnx_file_name(dat)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(convert_dlib_resnet(dat))
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB) from {dat}")
    if args.check:
        worst = check(out, dat)
        print(f"onnx.checker: ok; max |dlib - cv2.dnn| on random chips: {worst:.2e}")
        if worst > 1e-4:
            print("MISMATCH: the converted graph does not reproduce dlib", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
