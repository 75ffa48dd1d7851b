"""The charts load Plotly's partial "basic" bundle, vendored, and it can draw every chart."""

import re
from pathlib import Path

import plotly
from django.conf import settings
from django.contrib.staticfiles import finders

STATIC = Path(settings.BASE_DIR) / "static"
BUNDLE_HEADER = re.compile(r"plotly\.js \(basic - minified\) v(\d+)\.(\d+)\.(\d+)")


def _bundle() -> str:
    return Path(finders.find("vendor/plotly.min.js")).read_text(encoding="utf-8")


def _trace_types_in_bundle(source: str) -> set[str]:
    return set(re.findall(r'moduleType:"trace",name:"(\w+)"', source))


def test_it_serves_the_basic_bundle_not_the_full_one():
    source = _bundle()
    assert BUNDLE_HEADER.search(source[:300]), source[:300]
    assert len(source) < 1_500_000  # the full bundle is 4.8 MB
    assert (STATIC / "vendor" / "plotly.LICENSE").read_text().startswith("MIT License")


def test_its_plotly_js_major_version_is_the_one_python_plotly_bundles():
    python_bundle = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    with python_bundle.open(encoding="utf-8") as file:
        python_major = re.search(r"plotly\.js v(\d+)\.", file.read(300)).group(1)
    assert BUNDLE_HEADER.search(_bundle()[:300]).group(1) == python_major


def test_it_has_every_trace_type_the_charts_draw():
    charts = (STATIC / "js" / "charts.js").read_text(encoding="utf-8")
    # Trace objects are the ones with a mode (scatter) or drawn as bars; layout shapes and axes
    # also say type: "rect" / "line" / "date", which are not trace types.
    used = set(re.findall(r'type: "(\w+)"', charts)) - {"rect", "line", "date", "log", "linear", "category"}
    assert used, "no trace type found in charts.js"
    assert used <= _trace_types_in_bundle(_bundle()), used - _trace_types_in_bundle(_bundle())
