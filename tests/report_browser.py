#!/usr/bin/python3
"""capsim report pages, opened in a real browser and checked against their files.

Runs the baseline (capsim run) and a small sweep, writes their report pages
(capsim report) and opens each in headless Chromium, which this script starts
itself and drives through the DevTools protocol on a pipe (no port, no
websocket). For each page it checks:

- no network request of any kind: the only request is the page's own file;
- no console error, log error or uncaught exception, and the page's own
  error list (window.capsimReport.errors) is empty;
- the charts expected from the file's labels are there, each with a title,
  axis titles, a legend, every dataset drawn with data, and coloured pixels
  (lines, bars, dots) in its plot area; time axes show dates;
- every dataset's values equal the HDF5 values it names (read here with
  h5py, not taken from the page writer), to the 7 significant digits the
  page keeps; the headline numbers equal them exactly; the histogram of total
  spend equals one made here from every path's value; the sweep's tornado
  equals one recomputed here; sorting the table of points sorts it;

and writes a full-page screenshot (PNG) under WORK_DIR. One browser runs at
a time; it is closed (and its process group killed) at the end, and the
whole script has a deadline.

Usage: report_browser.py --capsim EXE --source-dir DIR --work-dir DIR
                         [--chromium /usr/bin/chromium] [--docs-screenshot FILE]
"""

import argparse
import base64
import datetime
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

DEADLINE_SECONDS = 480  # a hang guard: the script takes well under a minute
CHART_RELATIVE_TOLERANCE = 6e-7  # the page keeps 7 significant digits
STATS = ("mean", "p05", "p50", "p95")

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
    return condition


def time_left():
    return DEADLINE - time.monotonic()


def run(command, **kwargs):
    print("+", " ".join(command), flush=True)
    subprocess.run(command, check=True, timeout=max(1.0, time_left()), **kwargs)


class Browser:
    """Headless Chromium on --remote-debugging-pipe: requests are NUL-terminated
    JSON on fd 3, replies and events on fd 4."""

    def __init__(self, chromium, log_path):
        self.profile = tempfile.mkdtemp(prefix="capsim-chromium-")
        to_browser_r, self.to_browser = os.pipe()
        self.from_browser, from_browser_w = os.pipe()

        def wire_pipes():
            a, b = os.dup(to_browser_r), os.dup(from_browser_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        args = [
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
            "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-extensions",
            "--disable-default-apps", "--disable-quic", "--mute-audio",
            # Any name the page might try to reach resolves to nothing.
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--user-data-dir=" + self.profile, "about:blank",
        ]
        self.log = open(log_path, "w")
        # Python closes every other descriptor after wire_pipes has run, so the
        # browser holds only its two pipe ends.
        self.process = subprocess.Popen(args, preexec_fn=wire_pipes, pass_fds=(3, 4),
                                        start_new_session=True, stdin=subprocess.DEVNULL,
                                        stdout=self.log, stderr=self.log)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self.buffer = b""
        self.next_id = 0
        self.events = []
        self.session = None

    def send(self, method, params=None, session=True):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        os.write(self.to_browser, json.dumps(message).encode() + b"\0")
        return self.next_id

    def receive(self, until, seconds):
        end = time.monotonic() + min(seconds, time_left())
        while True:
            while b"\0" in self.buffer:
                raw, self.buffer = self.buffer.split(b"\0", 1)
                message = json.loads(raw)
                if "method" in message:
                    self.events.append(message)
                if until(message):
                    return message
            wait = end - time.monotonic()
            if wait <= 0:
                raise TimeoutError("the browser did not answer in time")
            ready, _, _ = select.select([self.from_browser], [], [], wait)
            if ready:
                chunk = os.read(self.from_browser, 1 << 20)
                if not chunk:
                    raise EOFError("the browser closed its pipe")
                self.buffer += chunk

    def call(self, method, params=None, session=True, seconds=60):
        sent = self.send(method, params, session)
        reply = self.receive(lambda m: m.get("id") == sent, seconds)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply["result"]

    def open(self):
        targets = self.call("Target.getTargets", session=False)["targetInfos"]
        page = next(t for t in targets if t["type"] == "page")
        self.session = self.call("Target.attachToTarget",
                                 {"targetId": page["targetId"], "flatten": True},
                                 session=False)["sessionId"]
        for domain in ("Network", "Runtime", "Log", "Page"):
            self.call(domain + ".enable")
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": 1280, "height": 1000, "deviceScaleFactor": 1, "mobile": False})

    def navigate(self, url):
        self.events.clear()
        self.call("Page.navigate", {"url": url})
        self.receive(lambda m: m.get("method") == "Page.loadEventFired", 120)

    def evaluate(self, expression, seconds=60):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                "awaitPromise": True}, seconds=seconds)
        if "exceptionDetails" in result:
            raise RuntimeError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_ready(self, seconds=120):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if self.evaluate("!!(window.capsimReport && window.capsimReport.ready)"):
                return True
            time.sleep(0.2)
        return False

    def screenshot(self, path, height=None, top=0):
        size = self.call("Page.getLayoutMetrics")["cssContentSize"]
        clip = {"x": 0, "y": top, "width": 1280,
                "height": height or min(size["height"] - top, 20000), "scale": 1}
        shot = self.call("Page.captureScreenshot",
                         {"format": "png", "clip": clip, "captureBeyondViewport": True},
                         seconds=120)
        with open(path, "wb") as out:
            out.write(base64.b64decode(shot["data"]))

    def drain(self, seconds=0.5):
        try:
            self.receive(lambda m: False, seconds)
        except TimeoutError:
            pass

    def close(self):
        try:
            self.call("Browser.close", session=False, seconds=10)
            self.process.wait(timeout=20)
        except Exception:  # pylint: disable=broad-except
            pass
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        else:
            try:  # helpers of the browser that outlived it
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.log.close()
        os.close(self.to_browser)
        os.close(self.from_browser)
        shutil.rmtree(self.profile, ignore_errors=True)


# What the page says about itself, its charts and the numbers it shows.
SUMMARY = r"""
(() => {
  const r = window.capsimReport;
  const out = { ready: r.ready, errors: r.errors, charts: {}, cells: [], banner: '' };
  for (const [id, ch] of Object.entries(r.charts)) {
    const a = ch.chartArea, ratio = ch.currentDevicePixelRatio, w = ch.canvas.width;
    const img = ch.canvas.getContext('2d').getImageData(0, 0, w, ch.canvas.height).data;
    let coloured = 0;
    for (let y = Math.floor(a.top * ratio); y < Math.ceil(a.bottom * ratio); ++y)
      for (let x = Math.floor(a.left * ratio); x < Math.ceil(a.right * ratio); ++x) {
        const i = 4 * (y * w + x);
        const hi = Math.max(img[i], img[i + 1], img[i + 2]), lo = Math.min(img[i], img[i + 1], img[i + 2]);
        if (img[i + 3] > 0 && hi - lo > 60) ++coloured;
      }
    const axes = {};
    for (const [k, s] of Object.entries(ch.scales))
      axes[k] = { title: s.options.title && s.options.title.display ? s.options.title.text : '',
                  ticks: s.ticks.map((t) => String(t.label)) };
    out.charts[id] = {
      type: ch.config.type, title: ch.options.plugins.title.text, axes, coloured,
      legend: ch.legend && ch.options.plugins.legend.display !== false ? ch.legend.legendItems.map((i) => i.text) : [],
      labels: ch.data.labels || null,
      datasets: ch.data.datasets.map((d, i) => ({ label: d.label, source: d.capsimSource || null,
        drawn: ch.getDatasetMeta(i).data.length, visible: ch.isDatasetVisible(i), data: d.data })),
    };
  }
  for (const e of document.querySelectorAll('[data-source]'))
    out.cells.push([e.dataset.source, e.dataset.value, e.textContent]);
  const banner = document.getElementById('overrides');
  out.banner = banner ? banner.textContent : '';
  return JSON.stringify(out);
})()
"""


def collect(browser, url, name, work_dir):
    """Opens a page, waits until it is complete, returns its summary and events."""
    browser.navigate(url)
    check(browser.wait_ready(), f"{name}: the page never became ready")
    summary = json.loads(browser.evaluate(SUMMARY, seconds=120))
    browser.screenshot(os.path.join(work_dir, name + ".png"))
    browser.drain()
    requests = [e["params"]["request"]["url"] for e in browser.events
                if e["method"] == "Network.requestWillBeSent"]
    others = [u for u in requests if u != url]
    check(requests.count(url) == 1, f"{name}: the page itself was requested {requests.count(url)} times")
    check(not others, f"{name}: network requests besides the page: {others[:5]}")
    for e in browser.events:
        method, params = e["method"], e["params"]
        if method == "Runtime.exceptionThrown":
            failures.append(f"{name}: exception: {json.dumps(params)[:400]}")
        elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "warning", "assert"):
            failures.append(f"{name}: console {params['type']}: {json.dumps(params['args'])[:400]}")
        elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
            failures.append(f"{name}: log {params['entry']['level']}: {params['entry']['text'][:400]}")
    check(summary["ready"], f"{name}: not ready")
    check(not summary["errors"], f"{name}: page errors: {summary['errors'][:5]}")
    print(f"{name}: {len(summary['charts'])} charts, {len(requests)} request(s), "
          f"{len(browser.events)} protocol events", flush=True)
    return summary


def check_chart_frame(name, chart_id, chart, time_axis):
    where = f"{name}: chart {chart_id}"
    check(chart["title"], f"{where}: no title")
    for axis in ("x", "y"):
        check(axis in chart["axes"] and chart["axes"][axis]["title"], f"{where}: no {axis} axis title")
    check(chart["legend"], f"{where}: no legend")
    check(chart["coloured"] >= 50, f"{where}: only {chart['coloured']} coloured pixels in its plot area")
    for d in chart["datasets"]:
        check(len(d["data"]) > 0 and d["drawn"] == len(d["data"]),
              f"{where}: dataset {d['label']!r} has {len(d['data'])} values, {d['drawn']} drawn")
        check(d["visible"], f"{where}: dataset {d['label']!r} hidden")
    if time_axis:
        ticks = chart["axes"]["x"]["ticks"]
        check(len(ticks) >= 2 and all(len(t) >= 7 and t[4] == "-" for t in ticks),
              f"{where}: the time axis does not show dates: {ticks[:4]}")


def close_to(got, want, tolerance=CHART_RELATIVE_TOLERANCE):
    if got is None or want is None or not np.isfinite(want):
        return (got is None) == (want is None or not np.isfinite(want))
    return abs(got - want) <= tolerance * abs(want) + 1e-300


def check_run_page(summary, h5_path):
    name = "run"
    f = h5py.File(h5_path, "r")
    regions = list(f["labels/region"].asstr()[:])
    skus = list(f["labels/sku"].asstr()[:])
    classes = list(f["labels/workload"].asstr()[:])
    starts = list(f["labels/step_start"].asstr()[:])
    utc = datetime.timezone.utc
    step_of_ms = {datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M").replace(tzinfo=utc).timestamp() * 1000: t
                  for t, s in enumerate(starts)}
    steps = len(starts)
    budget = float(f.attrs["budget_usd"])

    def cell_of(series, index):
        shape = f["series"][series]["mean"].shape[1:]
        return int(np.ravel_multi_index(index, shape)) if shape else 0

    # The charts this file must have, and the (series, cell) each one draws.
    expected = {"spend": {("spend_cum_usd", 0)}, "usd-jpy": {("usd_jpy", 0)}, "spend-distribution": set()}
    for r in range(len(regions)):
        expected[f"demand-r{r}"] = {("region_demand_h100e_gpuh", cell_of("region_demand_h100e_gpuh", (r,))),
                                    ("capacity_h100e_gpuh", cell_of("capacity_h100e_gpuh", (r,)))}
        expected[f"utilization-r{r}"] = {("utilization", r)}
        expected[f"power-r{r}"] = {("power_mw", r), ("power_cap_mw", r)}
        for c in range(len(classes)):
            expected[f"unserved-r{r}-c{c}"] = {("unserved_h100e_gpuh", cell_of("unserved_h100e_gpuh", (c, r)))}
        for k in range(len(skus)):
            expected[f"gpus-r{r}-k{k}"] = {(s, cell_of(s, (k, r))) for s in
                                           ("gpus_installed", "gpus_failed", "gpus_stranded", "gpus_on_order")}
    charts = summary["charts"]
    check(set(charts) == set(expected),
          f"{name}: charts {sorted(set(charts) ^ set(expected))} missing or unexpected")
    compared = 0
    for chart_id, want in expected.items():
        if chart_id not in charts:
            continue
        chart = charts[chart_id]
        check_chart_frame(name, chart_id, chart, chart_id != "spend-distribution")
        got = set()
        for d in chart["datasets"]:
            source = d["source"] or {}
            where = f"{name}: {chart_id} / {d['label']}"
            if "series" in source:
                got.add((source["series"], source["cell"], source["stat"]))
                values = f["series"][source["series"]][source["stat"]][:].reshape(steps, -1)[:, source["cell"]]
                shown_steps = []
                for point in d["data"]:
                    t = step_of_ms.get(point["x"])
                    if not check(t is not None, f"{where}: x = {point['x']} is no step's start"):
                        break
                    shown_steps.append(t)
                    compared += 1
                    if not check(close_to(point["y"], float(values[t])),
                                 f"{where}: step {t}: page {point['y']}, file {values[t]}"):
                        break
                check(shown_steps == list(range(steps)), f"{where}: the steps drawn are not every step")
            elif source.get("attribute") == "budget_usd":
                check(all(p["y"] == budget for p in d["data"]) or all(p["x"] == budget for p in d["data"]),
                      f"{where}: the budget line is not at budget_usd = {budget}")
            elif "histogram" in source:
                spend = f["paths/key_figures/total_spend_usd"][:]
                edges = np.array([p["x"] for p in d["data"]])
                counts = np.array([p["y"] for p in d["data"]][:-1])
                mine, _ = np.histogram(spend, bins=edges)
                # From the least to the largest value; around the value when all paths agree.
                spans = (edges[0] == spend.min() and edges[-1] == spend.max()) if spend.min() < spend.max() \
                    else (edges[0] < spend.min() and edges[-1] > spend.max() and len(counts) == 1)
                check(spans, f"{where}: bins span {edges[0]}..{edges[-1]}, the paths {spend.min()}..{spend.max()}")
                check(np.array_equal(mine, counts), f"{where}: counts {counts} differ from the file's {mine}")
                check(counts.sum() == len(spend), f"{where}: {counts.sum()} paths counted of {len(spend)}")
            else:
                failures.append(f"{where}: names no source")
        want_full = {(s, c, stat) for s, c in want for stat in STATS}
        check(want_full <= got, f"{name}: {chart_id} lacks {sorted(want_full - got)[:4]}")

    # Headline and key-figure tables: the numbers shown are the file's.
    cells = summary["cells"]
    check(len(cells) >= 8 * len(regions) + 4 * len(classes), f"{name}: only {len(cells)} numbers checked")
    for source, value, text in cells:
        if source == "key_figures@prob_over_budget":
            want_value = float(f["key_figures"].attrs["prob_over_budget"])
        else:
            path, index = source[:-1].split("[")
            data = f[path]  # key figures without dims are scalars
            want_value = float(data[()] if data.shape == () else data[int(index)])
        check(float(value) == want_value or (np.isnan(want_value) and value in ("", None)),
              f"{name}: {source} shows {value} ({text}), the file has {want_value}")
    for kf in ("total_spend_usd", "inference_service_level", "unserved_fraction", "region_spend_usd",
               "region_unserved_fraction"):
        check(any(c[0].startswith(f"key_figures/{kf}/") for c in cells), f"{name}: {kf} not shown")
    check("no --set overrides" in summary["banner"], f"{name}: banner {summary['banner']!r}")
    print(f"{name}: {compared} chart values equal the file's", flush=True)


def check_sweep_page(summary, h5_path, metric):
    name = f"sweep[{metric}]"
    f = h5py.File(h5_path, "r")
    done = np.flatnonzero(f["points/done"][:])
    keys = list(f["axes/key"].asstr()[:])
    values = f["points/values"].asstr()[:]
    numeric = f["points/numeric"][:]
    regions = list(f["labels/region"].asstr()[:])
    classes = list(f["labels/workload"].asstr()[:])

    def column(col, stat):  # a key-figure column over the points done
        if col == "prob_over_budget":
            return f["key_figures/prob_over_budget"][:][done] if stat == "mean" else None
        group, _, label = col.partition("[")
        data = f["key_figures"][group][stat][:]
        if label:
            dims = f["key_figures"][group].attrs["dims"]
            data = data[:, (classes if dims == "point,workload" else regions).index(label[:-1])]
        return data[done]

    charts = summary["charts"]
    expected = {f"scatter-a{a}" for a in range(len(keys))} | {"tornado"}
    check(set(charts) == expected, f"{name}: charts {sorted(set(charts) ^ expected)} missing or unexpected")
    for a in range(len(keys)):
        chart = charts.get(f"scatter-a{a}")
        if not chart:
            continue
        check_chart_frame(name, f"scatter-a{a}", chart, False)
        is_numeric = not np.isnan(numeric[done, a]).any()
        categories = list(dict.fromkeys(values[done, a]))
        for d in chart["datasets"]:
            source = d["source"]
            check(source["column"] == metric and source["axis"] == a, f"{name}: scatter {a} draws {source}")
            want = column(metric, source["stat"])
            for i, point in enumerate(d["data"]):
                p = point["point"]
                check(p == done[i], f"{name}: scatter {a} point {i} is {p}, expected {done[i]}")
                x = numeric[p, a] if is_numeric else categories.index(values[p, a])
                check(point["x"] == x, f"{name}: scatter {a} point {p}: x {point['x']}, file {x}")
                check(close_to(point["y"], float(want[i])), f"{name}: scatter {a} point {p}: y {point['y']}, file {want[i]}")

    # The tornado, recomputed as docs/report.md defines it.
    means = column(metric, "mean")
    bars = []
    for a, key in enumerate(keys):
        vals = values[done, a]
        nums = numeric[done, a]
        distinct = list(dict.fromkeys(vals))
        if len(distinct) <= 10 or np.isnan(nums).any():
            groups = [np.flatnonzero(vals == v) for v in distinct]
        else:
            order = sorted(range(len(done)), key=lambda i: (nums[i], i))
            n = len(done)
            groups = [np.array(order[b * n // 5:(b + 1) * n // 5]) for b in range(5)]
        group_means = [means[g][np.isfinite(means[g])].mean() for g in groups if np.isfinite(means[g]).any()]
        if group_means:
            bars.append((max(group_means) - min(group_means), key, min(group_means), max(group_means)))
    bars.sort(key=lambda b: -b[0])
    tornado = charts.get("tornado")
    if tornado:
        check_chart_frame(name, "tornado", tornado, False)
        d = tornado["datasets"][0]
        check(d["source"]["tornado"] == metric, f"{name}: tornado draws {d['source']}")
        check(tornado["labels"] == [b[1] for b in bars],
              f"{name}: tornado order {tornado['labels']}, expected {[b[1] for b in bars]}")
        for (_, key, lo, hi), (got_lo, got_hi) in zip(bars, d["data"]):
            check(close_to(got_lo, lo, 1e-6) and close_to(got_hi, hi, 1e-6),
                  f"{name}: tornado {key}: page {got_lo}..{got_hi}, file {lo}..{hi}")


def check_sweep_table(browser, h5_path):
    """The table lists every point done with its means; its headers sort it."""
    f = h5py.File(h5_path, "r")
    done = np.flatnonzero(f["points/done"][:])
    prob = f["key_figures/prob_over_budget"][:]
    spend = f["key_figures/total_spend_usd/mean"][:]
    read = r"""(() => {
      const t = document.getElementById('points-table');
      const heads = [...t.tHead.rows[0].cells].map((c) => c.textContent);
      const col = (prefix) => heads.findIndex((h) => h.startsWith(prefix));
      const rows = [...t.tBodies[0].rows];
      return JSON.stringify({ heads, point: rows.map((r) => Number(r.cells[0].dataset.value)),
        prob: rows.map((r) => Number(r.cells[col('prob_over_budget')].dataset.value)),
        spend: rows.map((r) => Number(r.cells[col('total_spend_usd ')].dataset.value)) });
    })()"""
    table = json.loads(browser.evaluate(read))
    check(table["point"] == list(done), f"sweep table: points {table['point']}, file {list(done)}")
    for i, p in enumerate(table["point"]):
        check(close_to(table["prob"][i], float(prob[p])), f"sweep table: point {p} P(over budget)")
        check(close_to(table["spend"][i], float(spend[p])), f"sweep table: point {p} total spend")
    click = r"""(() => { const t = document.getElementById('points-table');
      [...t.tHead.rows[0].cells].find((c) => c.textContent.startsWith('total_spend_usd ')).click(); })()"""
    for direction in ("ascending", "descending"):
        browser.evaluate(click)
        order = json.loads(browser.evaluate(read))["spend"]
        want = sorted(order, reverse=direction == "descending")
        check(order == want, f"sweep table: sorting by total spend is not {direction}: {order}")


def main():
    global DEADLINE
    DEADLINE = time.monotonic() + DEADLINE_SECONDS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--capsim", required=True)
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--work-dir", required=True)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--docs-screenshot", help="also write the top of the run page here (README)")
    args = parser.parse_args()
    if not os.access(args.chromium, os.X_OK):
        print(f"report_browser: {args.chromium} not found: install Debian's chromium "
              "(bash scripts/install-deps.sh)", file=sys.stderr)
        return 1
    work = os.path.abspath(args.work_dir)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    baseline = os.path.join(args.source_dir, "scenarios", "msft-japan-2024.yaml")
    run_h5, run_html = os.path.join(work, "run.h5"), os.path.join(work, "run.html")
    sweep_h5, sweep_html = os.path.join(work, "sweep.h5"), os.path.join(work, "sweep.html")
    quiet = {"stdout": subprocess.DEVNULL}
    run([args.capsim, "run", baseline, "--paths", "1000", "-o", run_h5, "--quiet"], **quiet)
    run([args.capsim, "report", run_h5, "-o", run_html])
    run([args.capsim, "sweep", baseline, "--paths", "100", "--quiet",
         "--vary", "finance.budget_usd=2.5e9,2.9e9,3.3e9",
         "--vary", "classes.inference.growth.rate=0.6,1.2",
         "--vary", "finance.fx={model: constant},{model: gbm, volatility: 0.1}", "-o", sweep_h5], **quiet)
    run([args.capsim, "report", sweep_h5, "-o", sweep_html])

    browser = Browser(args.chromium, os.path.join(work, "chromium.log"))
    try:
        browser.open()
        summary = collect(browser, "file://" + run_html, "run", work)
        check_run_page(summary, run_h5)
        if args.docs_screenshot:
            browser.screenshot(args.docs_screenshot, height=1500)
        summary = collect(browser, "file://" + sweep_html, "sweep", work)
        check_sweep_page(summary, sweep_h5, "total_spend_usd")
        check_sweep_table(browser, sweep_h5)
        # Another key figure chosen on the page redraws both charts.
        other = "unserved_fraction[" + h5py.File(sweep_h5, "r")["labels/workload"].asstr()[0] + "]"
        browser.evaluate(f"(() => {{ const s = document.getElementById('metric'); s.value = {json.dumps(other)};"
                         " s.dispatchEvent(new Event('change')); })()")
        check_sweep_page(json.loads(browser.evaluate(SUMMARY, seconds=120)), sweep_h5, other)
    finally:
        browser.close()

    for message in failures[:40]:
        print("FAIL:", message, file=sys.stderr)
    if failures:
        print(f"report_browser: {len(failures)} failures (screenshots and pages in {work})", file=sys.stderr)
        return 1
    print(f"report_browser: pages, charts and data check out; screenshots in {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
