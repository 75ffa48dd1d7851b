"""Browser: time to the first chart drawn on the 90-day trace, cold cache, headless Chromium
(issue 12 goal 4: <= 700 ms, from 1.45 s).

Loads one patient x 90 days of 5-minute readings into PostgreSQL (bench/dashboard_pages.py's
loader), runs collectstatic (hashed names, as the Docker image) and a production-like gunicorn
(DEBUG off, 2 workers), then opens /patients/<id>/trace/?days=90 in a fresh browser context for
every run (empty HTTP cache, logged in by session cookie) and records when the first glucose
trace exists in the chart's SVG, in ms since navigation start (performance.now()).

    DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/dexweb_bench_chart \\
        .venv/bin/python bench/first_chart.py [--runs 15]
"""

import argparse
import json
import os
import statistics
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres:postgres@127.0.0.1:5432/dexweb_bench_chart")
os.environ.setdefault("DEXWEB_VAR_DIR", "/tmp/dexweb-bench-chart")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dexweb.settings")
os.environ.setdefault("AXES_ENABLED", "false")

from bench import _server  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
# The first line of the glucose trace in the SVG: the chart is drawn, not just the page.
CHART_DRAWN = """() => {
  const drawn = document.querySelector('#trace-chart .scatterlayer .trace path.js-line');
  if (drawn && !window.__chartDrawnAt) window.__chartDrawnAt = performance.now();
  return !!drawn;
}"""


def prepare() -> tuple[int, str]:
    """(patient id, session cookie): the data loaded once, a fresh session each time."""
    import django

    django.setup()
    from django.test import Client

    from apps.accounts.models import User
    from apps.glucose.models import Egv
    from bench import dashboard_pages

    dashboard_pages.ensure_database()
    email = dashboard_pages.EMAIL.format(0)
    if not Egv.objects.filter(patient__email=email).exists():
        dashboard_pages.load(1, 90)
    patient = User.objects.get(email=email)
    client = Client()
    client.force_login(patient)
    from django.conf import settings

    return patient.pk, client.cookies[settings.SESSION_COOKIE_NAME].value


def headers_of(url: str, cookie: str) -> dict:
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip, br", "Cookie": cookie})
    with urllib.request.urlopen(request) as response:
        body = response.read()
        return {"status": response.status, "bytes": len(body), **dict(response.headers)}


def measure(base_url: str, patient_id: int, session: str, runs: int) -> list[dict]:
    from django.conf import settings
    from playwright.sync_api import sync_playwright

    results = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        for run in range(runs + 1):  # run 0 warms the server (imports, template compilation)
            context = browser.new_context(viewport={"width": 1280, "height": 900})  # empty cache
            context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": base_url}])
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            cdp.send("Performance.enable")
            page.goto(f"{base_url}/patients/{patient_id}/trace/?days=90", wait_until="commit")
            page.wait_for_function(CHART_DRAWN, polling="raf", timeout=30_000)
            figures = page.evaluate("""() => {
              const nav = performance.getEntriesByType('navigation')[0];
              const scripts = performance.getEntriesByType('resource').filter(r => r.name.includes('.js'));
              return {
                drawn: window.__chartDrawnAt, html_ttfb: nav.responseStart, html_done: nav.responseEnd,
                html_transfer: nav.transferSize, html_decoded: nav.decodedBodySize,
                dom_content_loaded: nav.domContentLoadedEventStart,
                scripts: scripts.map(r => ({name: r.name.split('/').pop(), transfer: r.transferSize,
                                            decoded: r.decodedBodySize, end: r.responseEnd})),
              };
            }""")
            # The renderer main thread's busy time until then: what the page costs the browser,
            # without the waiting for a CPU that a busy machine adds to the wall-clock figures.
            busy = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
            figures["main_thread_ms"] = busy["TaskDuration"] * 1000
            figures["script_ms"] = busy["ScriptDuration"] * 1000
            figures["thread_cpu_ms"] = busy.get("ThreadTime", 0) * 1000  # CPU time, not wall
            figures["process_cpu_ms"] = busy.get("ProcessTime", 0) * 1000
            context.close()
            if run:
                results.append(figures)
        browser.close()
    return results


def report(results: list[dict], base_url: str, patient_id: int, cookie: str) -> None:
    drawn = sorted(r["drawn"] for r in results)
    pick = results[0]

    def ms(values):
        return f"median {statistics.median(values):6.0f} ms  min {min(values):5.0f}  max {max(values):5.0f}"

    print(f"runs: {len(results)}, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"first chart drawn (cold cache): {ms(drawn)}  p90 {drawn[int(0.9 * (len(drawn) - 1))]:5.0f} ms")
    print(
        f"  renderer main thread busy:    {ms([r['main_thread_ms'] for r in results])}"
        f"  (of which script {statistics.median([r['script_ms'] for r in results]):.0f} ms)"
    )
    print(
        f"  renderer main thread CPU:     {ms([r['thread_cpu_ms'] for r in results])}"
        f"  (renderer process CPU {statistics.median([r['process_cpu_ms'] for r in results]):.0f} ms):"
        " about the first-chart time on an idle machine, less the network"
    )
    print(f"  HTML first byte:              {ms([r['html_ttfb'] for r in results])}")
    print(f"  HTML received:                {ms([r['html_done'] for r in results])}")
    print(f"  scripts downloaded:           {ms([max(s['end'] for s in r['scripts']) for r in results])}")
    print(f"  DOMContentLoaded (scripts run): {ms([r['dom_content_loaded'] for r in results])}")
    print(
        f"  HTML: {pick['html_transfer'] / 1024:.0f} KiB on the wire, {pick['html_decoded'] / 1024:.0f} KiB decoded"
    )
    for script in pick["scripts"]:
        print(
            f"  {script['name']}: {script['transfer'] / 1024:.0f} KiB on the wire, "
            f"{script['decoded'] / 1024:.0f} KiB decoded"
        )
    page = headers_of(f"{base_url}/patients/{patient_id}/trace/?days=90", cookie)
    print(f"  trace page Content-Encoding: {page.get('Content-Encoding', 'none')}")
    plotly = next((s for s in pick["scripts"] if "plotly" in s["name"]), None)
    if plotly:
        static = headers_of(f"{base_url}/static/vendor/{plotly['name']}", "")
        print(
            f"  {plotly['name']} Cache-Control: {static.get('Cache-Control')}, "
            f"Content-Encoding: {static.get('Content-Encoding', 'none')}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--json", action="store_true", help="also print every run as JSON")
    args = parser.parse_args()
    patient_id, session = prepare()
    env = _server.production_like_env(os.environ["DEXWEB_VAR_DIR"])
    _server.collectstatic(env)
    from django.conf import settings

    cookie = f"{settings.SESSION_COOKIE_NAME}={session}"
    with _server.gunicorn(env, workers=2) as base_url:
        results = measure(base_url, patient_id, session, args.runs)
        report(results, base_url, patient_id, cookie)
    if args.json:
        print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
