#!/usr/bin/env bash
# Regenerates man/mrcnn-*.1 from the commands' argparse parsers (man/build.py). make man runs it;
# tests/release/test_man.py checks the committed pages are current.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python}
$PY man/build.py man
