"""Imports run one way: accounts <- dexcom <- glucose <- sync <- sharing <- dashboard <- demo.

An app may import the apps to its left, never those to its right. The emulator (apps.sandbox)
imports nothing of the product, and the product imports nothing of it; dexweb/urls.py and
dexweb/settings.py name it only as strings, to install and route it when EMULATOR_ENABLED.
`apps.*` is imported at module top, never inside a function (that hides cycles), except in an
AppConfig.ready, where Django wants signal receivers and hooks connected.

Read from the AST of every module, so an import inside a function counts as much as one at the top.
"""

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("accounts", "dexcom", "glucose", "sync", "sharing", "dashboard", "demo")
EMULATOR = "sandbox"
LAYERING = (
    "Layering enforced (an app imports only apps to its left):\n  "
    + " <- ".join(LAYERS)
    + f"\n  {EMULATOR} (the emulator) imports nothing of the product, and the product nothing of it"
    + "\n  (dexweb/urls.py and settings name it only as a string);"
    + "\n  apps.* is imported at module top, never inside a function except AppConfig.ready."
)
# Files another change replaces wholesale (the one ingest writer, the Clarity import); their
# in-function imports go with them. Each entry: (file, imported module). Nothing else is exempt.
BEING_REPLACED: set[tuple[str, str]] = set()


@dataclass(frozen=True)
class Import:
    path: str  # relative to the repository root
    line: int
    module: str
    function: str | None  # the enclosing function, None at module or class level
    in_app_config: bool

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line} imports {self.module}"


def source_files() -> list[Path]:
    return sorted([*(ROOT / "apps").rglob("*.py"), *(ROOT / "dexweb").rglob("*.py")])


def app_of(path: str) -> str:
    """'apps/sync/tasks.py' -> 'sync'; 'dexweb/urls.py' -> 'dexweb'."""
    parts = path.split("/")
    return parts[1] if parts[0] == "apps" else parts[0]


def package_of(path: str) -> str:
    return ".".join(path.removesuffix(".py").split("/")[:-1])


def imported_modules(node: ast.AST, path: str) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level == 0:
        return [node.module]
    # A relative import: resolve it against the file's package, as Python does.
    base = package_of(path).split(".")
    base = base[: len(base) - (node.level - 1)]
    return [".".join([*base, node.module] if node.module else base)]


def imports_in(path: Path, root: Path = ROOT) -> list[Import]:
    relative = path.relative_to(root).as_posix()
    found: list[Import] = []

    def walk(node: ast.AST, function: str | None, in_app_config: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                is_config = any(_base_name(base) == "AppConfig" for base in child.bases)
                walk(child, function, is_config)
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                walk(child, child.name, in_app_config and function is None and child.name == "ready")
            elif isinstance(child, (ast.Import, ast.ImportFrom)):
                for module in imported_modules(child, relative):
                    found.append(Import(relative, child.lineno, module, function, in_app_config))
            else:
                walk(child, function, in_app_config)

    walk(ast.parse(path.read_text(), filename=relative), None, False)
    return found


def _base_name(base: ast.expr) -> str:
    return base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "")


def target_app(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "apps" and len(parts) > 1 else None


def is_back_edge(source: str, target: str) -> bool:
    if source == target:
        return False
    if EMULATOR in (source, target):
        return True  # the emulator and the product never import each other
    if source in LAYERS and target in LAYERS:
        return LAYERS.index(target) > LAYERS.index(source)
    return False  # dexweb (the project) may import any app


def back_edges(imports: list[Import]) -> list[str]:
    edges = []
    for found in imports:
        target = target_app(found.module)
        source = app_of(found.path)
        if target and is_back_edge(source, target):
            edges.append(f"{found.where}  ({source} -> {target})")
    return edges


def imports_inside_functions(imports: list[Import]) -> list[str]:
    return [
        f"{found.where}  (inside {found.function}())"
        for found in imports
        if target_app(found.module)
        and found.function is not None
        and not (found.in_app_config and found.function == "ready")
        and (found.path, found.module) not in BEING_REPLACED
    ]


def all_imports() -> list[Import]:
    return [found for path in source_files() for found in imports_in(path)]


def failure(title: str, offending: list[str]) -> str:
    return f"{title}:\n  " + "\n  ".join(offending) + f"\n\n{LAYERING}"


def test_no_app_imports_an_app_above_it_or_the_emulator():
    edges = back_edges(all_imports())
    assert not edges, failure(f"{len(edges)} import(s) against the layering", edges)


def test_no_app_import_hides_inside_a_function():
    hidden = imports_inside_functions(all_imports())
    assert not hidden, failure(f"{len(hidden)} apps.* import(s) inside a function", hidden)


def test_the_exemptions_are_still_there():
    # An exemption whose import is gone would silently allow a new one in its place.
    present = {(found.path, found.module) for found in all_imports() if found.function is not None}
    assert present >= BEING_REPLACED, f"remove from BEING_REPLACED: {sorted(BEING_REPLACED - present)}"


# --- the checker itself: it must see what it claims to see ------------------------------------


def parse(tmp_path, relative: str, source: str) -> list[Import]:
    path = tmp_path / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source)
    return imports_in(path, tmp_path)


def test_it_sees_a_back_edge_hidden_in_a_function(tmp_path):
    source = "def f():\n    from apps.sync.tasks import enqueue_sync\n"
    found = parse(tmp_path, "apps/dexcom/admin.py", source)
    assert back_edges(found) == ["apps/dexcom/admin.py:2 imports apps.sync.tasks  (dexcom -> sync)"]
    assert imports_inside_functions(found) == ["apps/dexcom/admin.py:2 imports apps.sync.tasks  (inside f())"]


def test_it_resolves_relative_imports_and_allows_ready(tmp_path):
    source = (
        "from django.apps import AppConfig\nfrom ..sandbox import services\n"
        "class C(AppConfig):\n    def ready(self):\n        from apps.sync import tasks\n"
    )
    found = parse(tmp_path, "apps/glucose/apps.py", source)
    assert back_edges(found) == [
        "apps/glucose/apps.py:2 imports apps.sandbox  (glucose -> sandbox)",
        "apps/glucose/apps.py:5 imports apps.sync  (glucose -> sync)",
    ]
    assert imports_inside_functions(found) == []


def test_the_emulator_may_not_import_the_product(tmp_path):
    found = parse(tmp_path, "apps/sandbox/views.py", "import apps.accounts.models\n")
    assert back_edges(found) == [
        "apps/sandbox/views.py:1 imports apps.accounts.models  (sandbox -> accounts)"
    ]
