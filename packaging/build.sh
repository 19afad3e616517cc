#!/usr/bin/env bash
# Build the kiosk bundle and check that the frozen app really runs the engine.
# Output: dist/kiosk/ (copy the folder to the kiosk; run dist/kiosk/kiosk).
set -euo pipefail
cd "$(dirname "$0")/.."
# Ship the face-recognition ResNet already converted for OpenCV's DNN (else the kiosk converts
# it from dlib's weights on first start, into $KIOSK_HOME/models).
uv run python packaging/convert_dlib_resnet.py
uv run pyinstaller packaging/kiosk.spec --noconfirm --clean --log-level WARN
# County IT runs the install script from the bundle folder (the unit files are in _internal/systemd).
install -m 0755 packaging/install.sh dist/kiosk/install.sh
# ... and county IT's documents beside it: docs/ (docs/install.md is the guide), README.md, NOTICE.
bash packaging/ship_docs.sh dist/kiosk
# Smoke test: the frozen engine finds its models (mediapipe graphs, dlib weights) offline.
export KIOSK_HOME="$(mktemp -d)"
dist/kiosk/kiosk --help >/dev/null
dist/kiosk/kiosk demo --fast --seed 1 | tail -n 1
du -sh dist/kiosk
