"""The largest functions of the product code, by lines (issue 9's note: "the largest functions").

    .venv/bin/python bench/largest_functions.py [--most 10] [--under apps] [--rev REV]

Reads the source with ast (nothing is imported or run): every def and async def, methods and
nested functions too, counted from its `def` line (decorators left out) to its last line.
Migrations are left out (generated). --rev reads the files of a git revision instead of the
working tree, for a before/after table.
"""

import argparse
import ast
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def sources(under: str, rev: str | None):
    """(path, text) of every .py file below `under`, migrations left out."""
    if rev:
        names = _git("ls-tree", "-r", "--name-only", rev, under).split()
    else:
        names = [str(p.relative_to(ROOT)) for p in sorted((ROOT / under).rglob("*.py"))]
    for name in names:
        if name.endswith(".py") and "/migrations/" not in name:
            yield name, _git("show", f"{rev}:{name}") if rev else (ROOT / name).read_text()


def _git(*argv: str) -> str:
    return subprocess.run(["git", *argv], cwd=ROOT, capture_output=True, text=True, check=True).stdout


def functions(path: str, text: str):
    """(lines, "path:line name") of each function in one file."""
    for node in ast.walk(ast.parse(text, filename=path)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node.end_lineno - node.lineno + 1, f"{path}:{node.lineno} {node.name}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--most", type=int, default=10)
    parser.add_argument("--under", default="apps")
    parser.add_argument("--rev", default=None)
    args = parser.parse_args()
    found = sorted(
        (item for path, text in sources(args.under, args.rev) for item in functions(path, text)), reverse=True
    )
    for lines, where in found[: args.most]:
        print(f"{lines:5d}  {where}")


if __name__ == "__main__":
    main()
