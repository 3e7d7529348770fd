"""make galaxy-browser-test: the five mrcnn tools and the workflow in a real Galaxy, seen through headless Chromium.

Run by galaxy/run-browser-tests.sh, which starts Galaxy (galaxy/serve.sh) and sets GALAXY_URL, GALAXY_USER_KEY,
GALAXY_USER_EMAIL and GALAXY_USER_PASSWORD. With the Python of .venv-galaxy (requests, selenium):

1. uploads the files of galaxy/upload_types.json the way the upload dialog does (type auto-detected, gzip
   decompressed) and checks the type Galaxy gives each, and which data inputs of which tool offer it (tool build API);
2. logs in through the login page and opens each tool form: its main fields and labels are there, the data inputs
   preselect what they should (never the JSON metrics), predict's model list shows the .keras and the .skops upload;
   encode's "several samples" choice shows the collection input (and "no genome" among the genomes), predict's
   "Variant effects" mode its VCF input, null and REF-mismatch fields and offers the uploaded VCF;
3. imports galaxy/workflows/mrcnn-pipeline.ga, opens its run form, runs it through the API on the test-data inputs
   of galaxy/workflows/mrcnn-pipeline-tests.yml and waits until every job is ok, then shows the invocation, the
   history and the ROC plot in the browser; the encode form, opened in that history, does not preselect eval's JSON.

Screenshots go to galaxy/screenshots/ (or --screenshots). Exits 1 when a check fails, after running the others.
"""

import argparse
import json
import os
import sys
import time
import traceback
from pathlib import Path

import requests
import yaml
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / "galaxy" / "workflows" / "mrcnn-pipeline.ga"
WORKFLOW_TEST = ROOT / "galaxy" / "workflows" / "mrcnn-pipeline-tests.yml"
UPLOADS_HISTORY = "mrcnn uploads (browser test)"
WORKFLOW_HISTORY = "mrcnn-pipeline (browser test)"

# per tool: form element (parameter path as the form names it) -> words its label must contain
FORMS = {
    "mrcnn_encode": {
        "reference|source": "",
        "reference|fasta": "Genome",
        "input|mode": "",
        "input|calls": "Methylation calls",
        "input|calls_format": "Format of the calls",
        "input|min_coverage": "Minimum reads per site",
        "input|context": "Neighbour context",
        "cgi": "CpG islands",
        "flank": "Bases on each side of the site",
        "region": "Region",
        "max_sites": "random subset",
        "seed": "Random seed",
    },
    "mrcnn_train": {
        "train": "Training dataset",
        "architecture|arch": "",
        "validation": "Validation dataset",
        "val_fraction": "Fraction held out for validation",
        "epochs": "Maximum epochs",
        "batch_size": "Batch size",
        "patience": "Early-stopping patience",
        "seed": "Random seed",
    },
    "mrcnn_predict": {
        "predictor|source": "",
        "predictor|model": "Model from MRCNN train",
        "input|mode": "",
        "input|dataset": "Dataset (NPZ from MRCNN encode)",
        "out_format": "Output format",
        "bigwig": "Also write a bigWig",
    },
    "mrcnn_eval": {
        "predictions": "Predictions from MRCNN predict",
        "labels": "Model names",
        "cutoff": "Methylated = level above",
        "min_coverage": "Minimum reads of the true level",
    },
    "mrcnn_filters2meme": {
        "model": "Keras model from MRCNN train",
        "dataset": "Dataset (NPZ from MRCNN encode)",
        "method": "Method",
        "groups": "Methylation groups",
        "sites_per_group": "Sites per group",
        "db|source": "",
        "db|q_value": "q-value",
    },
}


class Checks:
    """Failures are collected, so that one broken check does not hide the others."""

    def __init__(self):
        self.failed = []
        self.passed = 0

    def check(self, ok, what):
        if ok:
            self.passed += 1
            print(f"galaxy-browser-test: ok   {what}", flush=True)
        else:
            self.failed.append(what)
            print(f"galaxy-browser-test: FAIL {what}", flush=True)
        return ok

    def run(self, what, fn, *args):
        try:
            return fn(*args)
        except Exception as exc:  # a step that breaks is one failure; the next steps still run
            traceback.print_exc()
            self.check(False, f"{what}: {type(exc).__name__}: {exc}")
            return None


class Api:
    def __init__(self, url, key):
        self.url = url.rstrip("/")
        self.session = requests.Session()
        self.session.headers["x-api-key"] = key

    def _ok(self, r):
        if r.status_code >= 400:
            raise RuntimeError(f"{r.request.method} {r.url}: {r.status_code} {r.text[:500]}")
        return r.json()

    def get(self, path, **params):
        return self._ok(self.session.get(self.url + path, params=params, timeout=120))

    def post(self, path, payload=None, **kw):
        return self._ok(self.session.post(self.url + path, json=payload, timeout=300, **kw))

    def new_history(self, name):
        return self.post("/api/histories", {"name": name})["id"]

    def upload(self, history_id, items):
        """Upload as the upload dialog does: type 'auto', gzip decompressed, lines and tabs left alone.
        *items*: dicts with name and either path (under ROOT) or paste."""
        elements, files = [], {}
        for item in items:
            element = {
                "name": item["name"],
                "ext": "auto",
                "dbkey": "?",
                "auto_decompress": True,
                "to_posix_lines": False,
                "space_to_tab": False,
            }
            if "paste" in item:
                element.update(src="pasted", paste_content=item["paste"])
            else:
                element["src"] = "files"
                files[f"files_{len(files)}|file_data"] = (item["name"], open(ROOT / item["path"], "rb"))
            elements.append(element)
        targets = [{"destination": {"type": "hdas"}, "elements": elements}]
        try:
            r = self.session.post(
                self.url + "/api/tools/fetch",
                timeout=300,
                files=files,
                data={"history_id": history_id, "targets": json.dumps(targets)},
            )
        finally:
            for _, fh in files.values():
                fh.close()
        self._ok(r)
        return self.wait_history(history_id, len(items))

    def contents(self, history_id):
        return self.get(
            f"/api/histories/{history_id}/contents",
            v="dev",
            keys="id,hid,name,extension,state,history_content_type,visible",
        )

    def wait_history(self, history_id, count, timeout=600):
        end = time.time() + timeout
        while time.time() < end:
            items = [c for c in self.contents(history_id) if c["history_content_type"] == "dataset"]
            if len(items) >= count and all(c["state"] in ("ok", "error", "failed_metadata") for c in items):
                return items
            time.sleep(2)
        raise TimeoutError(f"history {history_id}: datasets not ready after {timeout} s")


def offered_options(api, tool_id, history_id):
    """{input path without case values: set of dataset names offered} from the tool build API."""
    build = api.get(f"/api/tools/{tool_id}/build", history_id=history_id)
    out = {}

    def walk(inputs, prefix):
        for inp in inputs:
            if inp["model_class"] == "Conditional":
                for case in inp["cases"]:
                    walk(case["inputs"], prefix + inp["name"] + "|")
            elif inp["model_class"] in ("Section", "Repeat"):
                walk(inp.get("inputs", []), prefix + inp["name"] + "|")
            elif inp["model_class"] == "DataToolParameter":
                names = {o["name"] for o in inp["options"]["hda"]}
                out.setdefault(prefix + inp["name"], set()).update(names)

    walk(build["inputs"], "")
    return out


def check_upload_types(api, checks, history_id, spec):
    datasets = api.upload(history_id, spec)
    got = {d["name"]: d for d in datasets}
    for item in spec:
        d = got.get(item["name"])
        checks.check(
            d is not None and d["state"] == "ok" and d["extension"] == item["type"],
            f"upload {item['name']}: Galaxy types it {d and d['extension']!r} ({d and d['state']}), "
            f"expected {item['type']!r}",
        )
    for tool in FORMS:
        offered = offered_options(api, tool, history_id)
        for path, names in sorted(offered.items()):
            want = {i["name"] for i in spec if f"{tool} {path}" in i["offered"]}
            want |= {
                f"{i['name']} (as {o.rsplit(' as ', 1)[1]})"
                for i in spec
                for o in i["offered"]
                if o.startswith(f"{tool} {path} as ")
            }
            checks.check(names == want, f"{tool} input {path} offers {sorted(names)}; expected {sorted(want)}")
        listed = {o.split(" ")[1] for i in spec for o in i["offered"] if o.split(" ")[0] == tool}
        checks.check(
            listed <= set(offered),
            f"{tool}: every input named in upload_types.json exists: {sorted(listed - set(offered))} missing",
        )
    return got


class Browser:
    def __init__(self, url, shots, width=1500, height=1700):
        options = webdriver.ChromeOptions()
        options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
        for arg in (
            "--headless=new",
            "--no-sandbox",
            "--disable-dev-shm-usage",
            "--disable-gpu",
            f"--window-size={width},{height}",
            "--lang=en-US",
        ):
            options.add_argument(arg)
        service = Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
        self.driver = webdriver.Chrome(service=service, options=options)
        self.url = url.rstrip("/")
        self.shots = shots

    def wait(self, css, timeout=60):
        return WebDriverWait(self.driver, timeout).until(EC.presence_of_element_located((By.CSS_SELECTOR, css)))

    def wait_text(self, text, timeout=60):
        WebDriverWait(self.driver, timeout).until(lambda d: text in d.find_element(By.TAG_NAME, "body").text)

    def screenshot(self, name):
        path = self.shots / f"{name}.png"
        self.driver.save_screenshot(str(path))
        print(f"galaxy-browser-test: screenshot {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
        return path

    def login(self, email, password):
        self.driver.get(self.url + "/login/start")
        self.wait("#login-form-name").send_keys(email)
        self.driver.find_element(By.ID, "login-form-password").send_keys(password)
        self.driver.find_element(By.XPATH, "//button[@name='login']").click()
        WebDriverWait(self.driver, 60).until(lambda d: "/login" not in d.current_url)
        self.wait("#activity-bar, .activity-bar, #masthead, #center")

    def use_history(self, history_id):
        self.driver.get(f"{self.url}/history/set_as_current?id={history_id}")

    def element(self, param):
        return self.driver.find_element(By.CSS_SELECTOR, f'div.ui-form-element[id="form-element-{param}"]')

    def quit(self):
        self.driver.quit()


def check_form(browser, checks, tool, history_name, shot):
    """The tool form: every main field present with its label, once the form has loaded its history."""
    fields = FORMS[tool]
    browser.driver.get(f"{browser.url}/?tool_id={tool}")
    first = next(iter(fields))
    browser.wait(f'div.ui-form-element[id="form-element-{first}"]')
    browser.wait_text(history_name)
    time.sleep(1.5)  # the data selects fill in after the form appears
    for param, label in fields.items():
        try:
            el = browser.element(param)
        except Exception:
            checks.check(False, f"{tool} form: field {param} missing")
            continue
        ok = el.is_displayed() and (not label or label in el.text)
        checks.check(ok, f"{tool} form: field {param} shown" + (f" with label '{label}'" if label else ""))
    browser.screenshot(shot)


def selected_text(browser, param):
    el = browser.element(param)
    sel = el.find_elements(By.CSS_SELECTOR, ".multiselect__single, .multiselect__tags")
    return (sel[0].text if sel else el.text).strip()


def dropdown_options(browser, param):
    """Open the data select of *param* and return the texts of its options (the list stays open)."""
    el = browser.element(param)
    el.find_element(By.CSS_SELECTOR, ".multiselect").click()
    WebDriverWait(browser.driver, 20).until(
        lambda d: el.find_elements(By.CSS_SELECTOR, ".multiselect__content-wrapper li .multiselect__option")
    )
    time.sleep(0.5)
    return [o.text.strip() for o in el.find_elements(By.CSS_SELECTOR, ".multiselect__content-wrapper li") if o.text]


def check_forms(browser, checks, uploads_name):
    for tool in FORMS:
        checks.run(f"{tool} form", check_form, browser, checks, tool, uploads_name, f"form-{tool}")
    # encode: the calls input preselects a calls file, not the JSON uploaded last
    browser.driver.get(f"{browser.url}/?tool_id=mrcnn_encode")
    browser.wait('div.ui-form-element[id="form-element-input|calls"]')
    browser.wait_text(uploads_name)
    time.sleep(1.5)
    text = selected_text(browser, "input|calls")
    checks.check(
        "metrics.json" not in text and "motifs.meme" not in text and text,
        f"encode form: calls preselect {text!r} (a calls file, not the JSON or MEME text uploaded last)",
    )
    options = dropdown_options(browser, "input|calls")
    checks.check(
        not any("metrics.json" in o or ".npz" in o or ".keras" in o for o in options),
        f"encode form: calls list offers no JSON, NPZ or model: {options}",
    )
    browser.screenshot("form-mrcnn_encode-calls-options")
    # predict: the model list shows both uploads, the .keras (zip) and the .skops (npz)
    browser.driver.get(f"{browser.url}/?tool_id=mrcnn_predict")
    browser.wait('div.ui-form-element[id="form-element-predictor|model"]')
    browser.wait_text(uploads_name)
    time.sleep(1.5)
    options = dropdown_options(browser, "predictor|model")
    checks.check(
        any("model_small.keras" in o for o in options) and any("model_small_gbr.skops" in o for o in options),
        f"predict form: model list offers the .keras and the .skops upload: {options}",
    )
    checks.check(not any("metrics.json" in o for o in options), "predict form: model list offers no JSON")
    browser.screenshot("form-mrcnn_predict-model-options")
    browser.driver.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)
    checks.run("encode form, several samples", check_samples_form, browser, checks, uploads_name)
    checks.run("predict form, variant effects", check_variants_form, browser, checks, uploads_name)


def choose(browser, param, text):
    """Pick the option of the select *param* whose text contains *text*; returns the texts of all its options."""
    el = browser.element(param)
    el.find_element(By.CSS_SELECTOR, ".multiselect").click()
    WebDriverWait(browser.driver, 20).until(
        lambda d: el.find_elements(By.CSS_SELECTOR, ".multiselect__content-wrapper li .multiselect__option")
    )
    options = el.find_elements(By.CSS_SELECTOR, ".multiselect__content-wrapper li .multiselect__option")
    texts = [o.text.strip() for o in options if o.text.strip()]
    next(o for o in options if text in o.text).click()
    time.sleep(1.5)  # the conditional's case is drawn
    return texts


def shown(browser, param, label):
    try:
        el = browser.element(param)
    except Exception:
        return False
    return el.is_displayed() and label in el.text


def check_samples_form(browser, checks, uploads_name):
    """Encode: 'several samples' shows a collection input and the minimum of samples; the genome can be left out."""
    browser.driver.get(f"{browser.url}/?tool_id=mrcnn_encode")
    browser.wait('div.ui-form-element[id="form-element-input|mode"]')
    browser.wait_text(uploads_name)
    time.sleep(1.5)
    sources = choose(browser, "reference|source", "Use a built-in genome")
    checks.check(
        any("None" in t and "no windows" in t for t in sources), f"encode form: a genome can be left out: {sources}"
    )
    modes = choose(browser, "input|mode", "several samples")
    checks.check(len(modes) == 3, f"encode form: sites from one calls file, a collection or every CpG: {modes}")
    checks.check(
        shown(browser, "input|calls", "Methylation calls of several samples (a list collection)"),
        "encode form, several samples: the collection input shown with its label",
    )
    checks.check(
        shown(browser, "input|min_samples", "Minimum samples observing a site"),
        "encode form, several samples: the minimum of samples shown",
    )
    checks.check(shown(browser, "input|context", "Neighbour context"), "encode form, several samples: K shown")
    browser.screenshot("form-mrcnn_encode-samples")


def check_variants_form(browser, checks, uploads_name):
    """Predict: the Variant effects mode shows its genome, VCF input (offering the uploaded VCF), null and skip."""
    browser.driver.get(f"{browser.url}/?tool_id=mrcnn_predict")
    browser.wait('div.ui-form-element[id="form-element-input|mode"]')
    browser.wait_text(uploads_name)
    time.sleep(1.5)
    modes = choose(browser, "input|mode", "Variant effects")
    checks.check(any("Variant effects" in t for t in modes), f"predict form: a Variant effects mode: {modes}")
    for param, label in (
        ("input|reference|source", ""),  # the conditional's title sits outside its select's element
        ("input|variants", "Variants (VCF)"),
        ("input|null", "Random SNVs for the empirical null"),
        ("input|skip_ref_mismatch", "Skip records whose REF disagrees"),
    ):
        checks.check(shown(browser, param, label), f"predict form, variant effects: field {param} with '{label}'")
    options = dropdown_options(browser, "input|variants")
    checks.check(
        any("variants_chr22_small.vcf" in o for o in options),
        f"predict form, variant effects: the VCF input offers the uploaded VCF: {options}",
    )
    browser.screenshot("form-mrcnn_predict-variants")
    browser.driver.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)


def workflow_inputs(uploads):
    """The inputs of mrcnn-pipeline-tests.yml as invocation inputs: its files as uploaded (auto-detected, as a user
    would have them) by check_upload_types, its parameters as they are."""
    case = yaml.safe_load(WORKFLOW_TEST.read_text())[0]
    inputs = {}
    for label, value in case["job"].items():
        if isinstance(value, dict):
            inputs[label] = {"src": "hda", "id": uploads[Path(value["path"]).name]["id"]}
        else:
            inputs[label] = value
    return inputs


def wait_invocation(api, invocation_id, timeout):
    end = time.time() + timeout
    state = None
    while time.time() < end:
        inv = api.get(f"/api/invocations/{invocation_id}")
        state = inv["state"]
        if state in ("failed", "cancelled", "cancelling"):
            return inv, []
        if state in ("scheduled", "completed"):  # 26.1 says completed once every step has been scheduled
            jobs = api.get("/api/jobs", invocation_id=invocation_id)
            if jobs and all(j["state"] in ("ok", "error", "failed", "deleted", "skipped", "paused") for j in jobs):
                return inv, jobs
        time.sleep(3)
    raise TimeoutError(f"invocation {invocation_id} not done after {timeout} s (state {state})")


def start_workflow(api, uploads):
    """Import mrcnn-pipeline.ga and invoke it, as it is (no tool state corrections), into a new history."""
    wf = api.post("/api/workflows", {"workflow": json.loads(WORKFLOW.read_text())})
    history_id = api.new_history(WORKFLOW_HISTORY)
    payload = {"history_id": history_id, "inputs": workflow_inputs(uploads), "inputs_by": "name"}
    invocation = api.post(f"/api/workflows/{wf['id']}/invocations", payload)
    return {"workflow": wf, "history_id": history_id, "invocation": invocation, "started": time.time()}


def check_workflow_form(browser, checks, run):
    """The run form in the browser: the workflow's inputs with their labels, nothing to review first."""
    browser.driver.get(f"{browser.url}/workflows/run?id={run['workflow']['id']}")
    try:
        for label in ("Genome FASTA", "Methylation calls", "Training region", "Test region", "Epochs"):
            browser.wait_text(label, 60)
        checks.check(True, "workflow run form shows its five inputs")
    except TimeoutException:
        checks.check(False, "workflow run form shows its five inputs (Genome FASTA, Methylation calls, ...)")
    body = browser.driver.find_element(By.TAG_NAME, "body").text
    checks.check(
        "changed since it was last saved" not in body,
        "workflow run form: no 'tools which have changed since it was last saved' to review first",
    )
    browser.screenshot("workflow-run-form")


def wait_gone(browser, text, timeout=60):
    try:
        WebDriverWait(browser.driver, timeout).until(lambda d: text not in d.find_element(By.TAG_NAME, "body").text)
    except TimeoutException:
        print(f"galaxy-browser-test: still '{text}' after {timeout} s")


def check_workflow(api, browser, checks, run, timeout):
    history_id, invocation, started = run["history_id"], run["invocation"], run["started"]
    inv, jobs = wait_invocation(api, invocation["id"], timeout)
    states = sorted(f"{j['tool_id']}:{j['state']}" for j in jobs)
    checks.check(
        inv["state"] in ("scheduled", "completed") and len(jobs) == 5 and all(j["state"] == "ok" for j in jobs),
        f"workflow mrcnn-pipeline.ga ran on test-data in {time.time() - started:.0f} s: {inv['state']}, jobs {states}",
    )
    for job in jobs:
        if job["state"] != "ok":
            detail = api.get(f"/api/jobs/{job['id']}", full="true")
            print(f"galaxy-browser-test: {job['tool_id']} stderr:\n{detail.get('tool_stderr', '')[-3000:]}")
    inv = api.get(f"/api/invocations/{invocation['id']}")
    outputs = {**inv.get("outputs", {}), **inv.get("output_collections", {})}
    checks.check(
        {"model", "predictions", "metrics", "plots"} <= set(outputs),
        f"workflow outputs {sorted(outputs)} include model, predictions, metrics, plots",
    )

    browser.use_history(history_id)
    browser.driver.get(f"{browser.url}/workflows/invocations/{invocation['id']}")
    checks.run("invocation page", browser.wait_text, "5 of 5 jobs complete", 60)
    wait_gone(browser, "Loading Invocation Graph")
    time.sleep(2)
    browser.screenshot("workflow-invocation")

    roc = None
    if "plots" in outputs:
        plots = api.get(f"/api/dataset_collections/{outputs['plots']['id']}", instance_type="history")
        elements = {e["element_identifier"]: e["object"] for e in plots["elements"]}
        checks.check(
            "roc" in elements and "error_by_group" in elements,
            f"eval plots collection has roc and error_by_group: {sorted(elements)}",
        )
        roc = elements.get("roc")
    if roc:
        png = api.session.get(f"{api.url}/api/datasets/{roc['id']}/display", timeout=60).content
        checks.check(png[:8] == b"\x89PNG\r\n\x1a\n", "the ROC plot is a PNG")
        (browser.shots / "eval-roc.png").write_bytes(png)
        print(f"galaxy-browser-test: saved {browser.shots / 'eval-roc.png'}")
        browser.driver.get(f"{browser.url}/datasets/{roc['id']}/preview")
        shown = "Array.from(document.images).some(i => i.complete && i.naturalWidth > 300)"
        try:
            WebDriverWait(browser.driver, 60).until(lambda d: d.execute_script(f"return {shown}"))
            checks.check(True, "the ROC plot shows in Galaxy's dataset preview")
        except TimeoutException:
            checks.check(False, "the ROC plot shows in Galaxy's dataset preview")
        wait_gone(browser, "Loading History")
        browser.screenshot("eval-roc-in-galaxy")

    # the case: a history ending in eval's outputs; encode's calls must not preselect the JSON metrics
    browser.driver.get(f"{browser.url}/?tool_id=mrcnn_encode")
    browser.wait('div.ui-form-element[id="form-element-input|calls"]')
    browser.wait_text(WORKFLOW_HISTORY)
    time.sleep(2)
    text = selected_text(browser, "input|calls")
    checks.check(
        "JSON" not in text and "json" not in text,
        f"encode form after the workflow: calls preselect {text!r}, not eval's JSON metrics",
    )
    browser.screenshot("form-mrcnn_encode-after-workflow")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--screenshots", type=Path, default=ROOT / "galaxy" / "screenshots")
    parser.add_argument("--workflow-timeout", type=int, default=600, help="seconds (default 600)")
    args = parser.parse_args(argv)
    url = os.environ["GALAXY_URL"]
    api = Api(url, os.environ["GALAXY_USER_KEY"])
    args.screenshots.mkdir(parents=True, exist_ok=True)
    for old in args.screenshots.glob("*.png"):
        old.unlink()
    checks = Checks()
    spec = json.loads((ROOT / "galaxy" / "upload_types.json").read_text())["uploads"]
    history_id = api.new_history(UPLOADS_HISTORY)
    uploads = checks.run("uploads", check_upload_types, api, checks, history_id, spec)
    # the workflow runs while the browser looks at the forms
    run = checks.run("workflow start", start_workflow, api, uploads) if uploads else None
    browser = Browser(url, args.screenshots)
    try:
        browser.login(os.environ["GALAXY_USER_EMAIL"], os.environ["GALAXY_USER_PASSWORD"])
        browser.use_history(history_id)
        checks.run("tool forms", check_forms, browser, checks, UPLOADS_HISTORY)
        if run:
            checks.run("workflow form", check_workflow_form, browser, checks, run)
            checks.run("workflow", check_workflow, api, browser, checks, run, args.workflow_timeout)
    except Exception as exc:
        traceback.print_exc()
        checks.check(False, f"browser: {type(exc).__name__}: {exc}")
        browser.screenshot("failure")
    finally:
        browser.quit()
    print(
        f"galaxy-browser-test: {checks.passed} checks passed, {len(checks.failed)} failed; screenshots in "
        f"{args.screenshots}"
    )
    for what in checks.failed:
        print(f"galaxy-browser-test: FAILED {what}")
    return 1 if checks.failed or not checks.passed else 0


if __name__ == "__main__":
    sys.exit(main())
