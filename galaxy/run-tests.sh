#!/usr/bin/env bash
# make galaxy-test: run the tool tests of galaxy/*.xml and the workflow tests of galaxy/workflows/ in a real Galaxy
# server (26.1 from PyPI, offline).
# Galaxy is started by galaxy/serve.sh (own venv .venv-galaxy, a free port, a scratch directory; the server is
# stopped and its files removed afterwards); exits non-zero when a test fails.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=galaxy/serve.sh
source "$ROOT/galaxy/serve.sh"
galaxy_install
galaxy_start
W="$GALAXY_WORK" URL="$GALAXY_URL" ADMIN_KEY="$GALAXY_ADMIN_KEY" USER_KEY="$GALAXY_USER_KEY"
status=0
"$GXV/bin/galaxy-tool-test" -u "$URL" -a "$ADMIN_KEY" -k "$USER_KEY" --test-data "$ROOT/test-data" \
  --with-reference-data --parallel-tests 1 -j "$W/results.json" --verbose ${GALAXY_TEST_ARGS:-} > "$W/test.log" 2>&1 || status=$?
"$GXV/bin/python" - "$W/results.json" <<'PY' || status=1
import json, sys
res = json.load(open(sys.argv[1]))
tests = res.get("tests", [])
bad = [t["id"] for t in tests if t.get("data", {}).get("status") != "success"]
print(f"galaxy-test: {len(tests) - len(bad)} of {len(tests)} tool tests passed")
for b in bad:
    print(f"galaxy-test: FAILED {b}")
sys.exit(1 if bad or not tests else 0)
PY
if [ "$status" != 0 ]; then tail -40 "$W/test.log"; fi
# the workflows (each .ga with a -tests.yml beside it), with planemo against this server
PLANEMO="${PLANEMO:-$ROOT/.venv-planemo/bin/planemo}"
if [ -x "$PLANEMO" ]; then
  for wf in "$ROOT"/galaxy/workflows/*.ga; do
    name="$(basename "$wf" .ga)"
    [ -f "${wf%.ga}-tests.yml" ] || continue
    if "$PLANEMO" test --engine external_galaxy --galaxy_url "$URL" --galaxy_admin_key "$ADMIN_KEY" \
        --galaxy_user_key "$USER_KEY" --test_output_json "$W/$name.json" --test_output "$W/$name.html" \
        "$wf" > "$W/$name.log" 2>&1; then
      echo "galaxy-test: workflow $name.ga passed"
    else
      tail -30 "$W/$name.log"; echo "galaxy-test: workflow $name.ga FAILED"; status=1
    fi
  done
else
  echo "galaxy-test: no planemo at $PLANEMO (make lint installs it): workflow tests not run"; status=1
fi
exit $status
