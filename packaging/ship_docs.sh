#!/usr/bin/env bash
# County IT's documents into the bundle folder (packaging/build.sh passes dist/kiosk), beside install.sh:
# docs/ (install.md, the guide for the kiosk; county-sync.md, privacy.md, command-line.md and the rest it
# links to, with the screenshots), README.md (the table of the docs) and NOTICE (third-party licences).
#   packaging/ship_docs.sh BUNDLE_DIR
set -euo pipefail
dest="${1:?usage: packaging/ship_docs.sh BUNDLE_DIR}"
mkdir -p "$dest/docs"
dest="$(cd "$dest" && pwd)"
cd "$(dirname "$0")/.."
cp -R docs/. "$dest/docs/"
install -m 0644 README.md NOTICE "$dest/"
