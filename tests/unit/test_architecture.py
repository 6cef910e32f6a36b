"""The layout's rules, read from the code itself: the trainer imports nothing of the web app, no
import cycles among app modules (imports inside functions counted too), files under 450 lines,
route functions under 25 lines."""

import ast
from collections.abc import Iterator
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"
MAX_FILE_LINES = 450
MAX_ROUTE_LINES = 25
ROUTE_DECORATORS = {"get", "post", "put", "patch", "delete", "api_route"}


def module_name(path: Path, root: Path) -> str:
    """app/lab/worker.py -> app.lab.worker; app/lab/__init__.py -> app.lab."""
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def python_files(root: Path) -> list[Path]:
    """Every module under the package root."""
    return sorted(root.rglob("*.py"))


def imported_modules(path: Path, root: Path) -> Iterator[tuple[str, int]]:
    """(imported module, line) for every import in the file, at any depth, relative ones resolved."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module_name(path, root)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base, node.lineno
            for alias in node.names:  # `from app.lab import job_store` imports a module
                yield f"{base}.{alias.name}", node.lineno


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the app modules it imports (a name that is not a module counts as its module)."""
    modules = {module_name(p, root): p for p in python_files(root)}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for target, _ in imported_modules(path, root):
            if target in modules and target != name:
                graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def trainer_imports_of_the_web_app(root: Path) -> list[str]:
    """`module:line imported` for every app.* import in app/trainer outside app.trainer."""
    found: dict[str, str] = {}
    for path in python_files(root / "trainer"):
        for target, line in imported_modules(path, root):
            if (target == "app" or target.startswith("app.")) and not (
                target == "app.trainer" or target.startswith("app.trainer.")
            ):
                found.setdefault(f"{module_name(path, root)}:{line}", target)  # the module, not its names
    return sorted(f"{where} {target}" for where, target in found.items())


def long_files(root: Path, limit: int = MAX_FILE_LINES) -> list[str]:
    """`path lines` for every file past the limit."""
    found = []
    for path in python_files(root):
        lines = len(path.read_text().splitlines())
        if lines > limit:
            found.append(f"{path.relative_to(root.parent)} {lines}")
    return found


def _is_route(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for decorator in node.decorator_list:
        call = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(call, ast.Attribute) and call.attr in ROUTE_DECORATORS:
            return True
    return False


def long_routes(root: Path, limit: int = MAX_ROUTE_LINES) -> list[str]:
    """`module.function lines` for every route function past the limit (decorators not counted)."""
    found = []
    for path in python_files(root):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and _is_route(node):
                lines = node.end_lineno - node.lineno + 1
                if lines > limit:
                    found.append(f"{module_name(path, root)}.{node.name} {lines}")
    return sorted(found)


# ---- the rules on the real code ----


def test_the_trainer_imports_nothing_of_the_web_app():
    assert trainer_imports_of_the_web_app(APP) == []


def test_no_import_cycle_among_app_modules():
    assert cycles(import_graph(APP)) == []


def test_no_file_in_app_passes_450_lines():
    assert long_files(APP) == []


def test_no_route_function_passes_25_lines():
    assert long_routes(APP) == []


# ---- each rule catches a violation (on a small package written here) ----


def _package(root: Path, files: dict[str, str]) -> Path:
    app = root / "app"
    for name, text in files.items():
        path = app / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for folder in [app, *[p for p in app.rglob("*") if p.is_dir()]]:
        (folder / "__init__.py").touch()
    return app


def test_a_trainer_import_of_the_web_app_is_caught(tmp_path):
    app = _package(
        tmp_path,
        {"trainer/loop.py": "def f():\n    from app.config import Settings\n", "config.py": ""},
    )
    assert trainer_imports_of_the_web_app(app) == ["app.trainer.loop:2 app.config"]


def test_a_cycle_through_an_import_inside_a_function_is_caught(tmp_path):
    app = _package(
        tmp_path,
        {
            "a.py": "from app import b\n",
            "b.py": "def g():\n    from app.a import x\n",
            "c.py": "import app.a\n",
        },
    )
    assert cycles(import_graph(app)) == [["app.a", "app.b"]]


def test_a_long_file_is_caught(tmp_path):
    app = _package(tmp_path, {"big.py": "x = 1\n" * 451, "small.py": "x = 1\n" * 450})
    assert long_files(app) == ["app/big.py 451"]


def test_a_long_route_is_caught(tmp_path):
    body = "".join(f"    x{i} = {i}\n" for i in range(25))
    app = _package(
        tmp_path,
        {
            "router.py": f"@router.post('/a')\ndef long_one():\n{body}\n"
            f"@router.get('/b')\ndef short_one():\n    return 1\n\ndef helper():\n{body}{body}"
        },
    )
    assert long_routes(app) == ["app.router.long_one 26"]
