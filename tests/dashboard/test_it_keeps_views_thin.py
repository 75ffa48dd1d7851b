"""Dashboard views read the patient's records only through the report builders.

A view checks access, asks apps.glucose.reports (or apps.glucose.alarm_report) for its page's
report once and renders it: it imports neither apps.glucose.selectors nor a glucose model, and
runs no queryset of its own (`Model.objects`). Read from the AST, in the style of
tests/test_it_import_graph.py, so an import inside a function counts too.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
# The modules a request goes through: views, their presenters, the PDF and the CSV/ZIP exports.
VIEW_MODULES = (
    "apps/dashboard/views.py",
    "apps/dashboard/alarm_views.py",
    "apps/dashboard/api.py",
    "apps/dashboard/presenters.py",
    "apps/dashboard/pdf.py",
    "apps/dashboard/patient_page.py",
    "apps/dashboard/report_views.py",
    "apps/dashboard/target_views.py",
    "apps/dashboard/digest.py",
    "apps/dashboard/exports.py",
)
FORBIDDEN = ("apps.glucose.selectors", "apps.glucose.models")
# patient_page reads the Dexcom connection (the sync state, not a patient record) itself.
QUERYSETS_ALLOWED = {"apps/dashboard/patient_page.py"}


def imported_names(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, dotted name) of every import: `from apps.glucose import selectors` gives
    apps.glucose.selectors, as `import apps.glucose.selectors` does."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found += [(node.lineno, node.module)]
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def reads_of_records(path: str, source: str) -> list[str]:
    tree = ast.parse(source, filename=path)
    offending = [
        f"{path}:{line} imports {name}"
        for line, name in imported_names(tree)
        if any(name == module or name.startswith(module + ".") for module in FORBIDDEN)
    ]
    if path not in QUERYSETS_ALLOWED:
        offending += [
            f"{path}:{node.lineno} runs a queryset ({ast.unparse(node)})"
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and node.attr == "objects"
        ]
    return offending


def test_views_read_records_only_through_report_builders():
    offending = [
        where for path in VIEW_MODULES for where in reads_of_records(path, (ROOT / path).read_text())
    ]
    assert not offending, "Views call apps.glucose.reports, never selectors or models:\n  " + "\n  ".join(
        offending
    )


def test_the_check_catches_a_view_written_the_old_way():
    # The check itself must be able to fail.
    source = (
        "from apps.glucose import selectors\n"
        "def view(request):\n"
        "    from apps.glucose.models import ClarityImportJob\n"
        "    return ClarityImportJob.objects.all()\n"
    )
    offending = reads_of_records("apps/dashboard/views.py", source)
    assert offending == [
        "apps/dashboard/views.py:1 imports apps.glucose.selectors",
        "apps/dashboard/views.py:3 imports apps.glucose.models",
        "apps/dashboard/views.py:3 imports apps.glucose.models.ClarityImportJob",
        "apps/dashboard/views.py:4 runs a queryset (ClarityImportJob.objects)",
    ]
