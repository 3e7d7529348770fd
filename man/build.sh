#!/usr/bin/env bash
# Regenerates man/mrcnn-*.1 from the commands' argparse parsers (argparse-manpage). make man runs it;
# tests/test_man.py checks the committed pages are current.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python}
version=$($PY -c 'import mrcnn_tools; print(mrcnn_tools.__version__)')
for pair in encode:encode train:train predict:predict eval:evaluate filters2meme:filters2meme; do
  cmd=${pair%%:*}; mod=${pair##*:}
  $PY -c "import sys; from argparse_manpage.cli import main; sys.argv[0] = \"argparse-manpage\"; main()" --module "mrcnn_tools.cli.$mod" --function get_parser --project-name mrcnn-tools \
    --prog "mrcnn-$cmd" --version "$version" --url https://github.com/mrcnn-tools/mrcnn-tools \
    --manual-title "mrcnn-tools manual" --output "man/mrcnn-$cmd.1"
done
