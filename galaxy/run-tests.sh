#!/usr/bin/env bash
# make galaxy-test: run the tool tests of galaxy/*.xml in a real Galaxy server (26.1 from PyPI, offline).
# Own venv (.venv-galaxy), a free port, a scratch directory; the server is stopped and its files removed
# afterwards; exits non-zero when a test fails. The mrcnn-* commands come from the project's .venv.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
GXV="${GALAXY_VENV:-$ROOT/.venv-galaxy}"
PY="${PYTHON:-python3}"
if [ ! -x "$GXV/bin/galaxy-web" ]; then
  "$PY" -m venv "$GXV"
  "$GXV/bin/pip" install -q --upgrade pip
  "$GXV/bin/pip" install -q "galaxy-app==26.1.*" "galaxy-web-apps==26.1.*" "galaxy-test-driver==26.1.*"
fi
W="$(mktemp -d)"
PID=""
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$W"
}
trap cleanup EXIT
PORT=$("$GXV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ADMIN_KEY=$("$GXV/bin/python" -c 'import secrets; print(secrets.token_hex(16))')
# only the mrcnn-* commands are exposed: the rest of .venv would shadow Galaxy's own python
mkdir -p "$W/bin" "$W/data" "$W/tool-data"
for c in "$ROOT"/.venv/bin/mrcnn-*; do ln -s "$c" "$W/bin/"; done
{ echo '<toolbox monitor="false">'; echo '  <section id="mrcnn" name="MRCNN">'
  for t in "$ROOT"/galaxy/mrcnn_*.xml; do echo "    <tool file=\"$t\"/>"; done
  echo '  </section>'; echo '</toolbox>'; } > "$W/tool_conf.xml"
# reference data as plain planemo/galaxy test runners find it: galaxy/tool_data_table_conf.xml.test and
# test-data/fasta_indexes.loc (${__HERE__} paths); the .fai beside the genome is what the wrappers link
"$ROOT/.venv/bin/python" -c 'import sys, pyfaidx; pyfaidx.Faidx(sys.argv[1])' "$ROOT/test-data/22_20-21M.fa"
cat > "$W/galaxy.yml" <<YML
gravity:
  galaxy_root: $W
galaxy:
  data_dir: $W/data
  database_connection: sqlite:///$W/data/universe.sqlite?isolation_level=IMMEDIATE
  tool_config_file: $W/tool_conf.xml
  tool_data_table_config_path: $ROOT/galaxy/tool_data_table_conf.xml.test
  tool_data_path: $W/tool-data
  conda_auto_init: false
  conda_auto_install: false
  bootstrap_admin_api_key: $ADMIN_KEY
  admin_users: admin@example.org
  allow_user_creation: true
  require_login: false
  watch_tools: false
  check_migrate_tools: false
  enable_celery_tasks: false
  job_working_directory: $W/data/jobs
  file_path: $W/data/objects
  new_file_path: $W/data/tmp
YML
echo "galaxy-test: starting Galaxy on 127.0.0.1:$PORT (logs in $W/galaxy.log)"
( cd "$W" && PATH="$GXV/bin:$W/bin:$PATH" VIRTUAL_ENV="$GXV" exec "$GXV/bin/galaxy-web" -c "$W/galaxy.yml" \
    -b "127.0.0.1:$PORT" > "$W/galaxy.log" 2>&1 ) &
PID=$!
URL="http://127.0.0.1:$PORT"
for i in $(seq 1 180); do
  if curl -sf "$URL/api/version" > /dev/null; then break; fi
  if ! kill -0 "$PID" 2>/dev/null; then tail -30 "$W/galaxy.log"; echo "galaxy-test: Galaxy did not start"; exit 1; fi
  sleep 2
done
curl -sf "$URL/api/version" > /dev/null || { tail -30 "$W/galaxy.log"; echo "galaxy-test: Galaxy did not answer"; exit 1; }
USER_KEY=$("$GXV/bin/python" - "$URL" "$ADMIN_KEY" <<'PY'
import json, sys, urllib.error, urllib.request
url, key = sys.argv[1], sys.argv[2]
def call(path, data=None):
    req = urllib.request.Request(url + path, data=json.dumps(data).encode() if data is not None else None,
                                 headers={"x-api-key": key, "content-type": "application/json"},
                                 method="POST" if data is not None else "GET")
    return json.load(urllib.request.urlopen(req))
import time
for attempt in range(30):
    try:
        user = call("/api/users", {"username": "tester", "email": "admin@example.org", "password": "testpass123"})
        break
    except urllib.error.HTTPError as exc:  # the API can answer before user creation is ready
        body = exc.read().decode(errors="replace")
        if attempt == 29:
            sys.exit(f"galaxy-test: cannot create the test user: {exc} {body}")
        users = [u for u in call("/api/users") if u.get("email") == "admin@example.org"]
        if users:
            user = users[0]
            break
        time.sleep(2)
print(call(f"/api/users/{user['id']}/api_key", {}))
PY
)
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
# the workflow (encode -> train -> predict -> eval), with planemo against this server
PLANEMO="${PLANEMO:-$ROOT/.venv-planemo/bin/planemo}"
if [ -x "$PLANEMO" ]; then
  if "$PLANEMO" test --engine external_galaxy --galaxy_url "$URL" --galaxy_admin_key "$ADMIN_KEY" \
      --galaxy_user_key "$USER_KEY" --test_output_json "$W/wf.json" --test_output "$W/wf.html" \
      "$ROOT/galaxy/workflows/mrcnn-pipeline.ga" > "$W/wf.log" 2>&1; then
    echo "galaxy-test: workflow mrcnn-pipeline.ga passed"
  else
    tail -30 "$W/wf.log"; echo "galaxy-test: workflow mrcnn-pipeline.ga FAILED"; status=1
  fi
else
  echo "galaxy-test: no planemo at $PLANEMO (make lint installs it): workflow test not run"; status=1
fi
exit $status
