"""The layers of docs/architecture.md, read from the code's own imports (every `import` and
`from … import`, at the top of a module or inside a function): the web framework only in
the HTTP layer, `geo/` and `maps/` free of the service, and no module reaching itself
through others."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("service", "geo", "maps")
WEB = ("fastapi", "starlette")


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module(f): f for p in PACKAGES for f in (ROOT / p).rglob("*.py")}


def _imports(path: Path) -> set[str]:
    """Every module name an import statement of the file names (with `from m import x`: m.x
    too, which is a module when x is one)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def _ours(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        targets = {_ours(n) for n in _imports(path)}
        # (a package's __init__ is not an edge from its own modules)
        graph[module] = {t for t in targets if t and t != module and not module.startswith(t + ".")}
    return graph


def http_layer(module: str) -> bool:
    """The modules that may speak HTTP: the application, the shared HTTP package, the
    routers and their request dependencies, the pages (server-rendered HTML), the OGC API
    (a protocol over HTTP: service/features holds its domain side)."""
    last = module.rpartition(".")[2]
    return (
        module in ("service.main", "service.asgi")
        or module.startswith(("service.http", "service.pages", "service.ogc"))
        or last in ("router", "dependencies")
        or last.endswith("_router")
    )


def test_only_the_http_layer_imports_the_web_framework() -> None:
    offenders = {
        module: sorted(
            n
            for n in _imports(path)
            if n.split(".")[0] in WEB or n == "service.http" or n.startswith("service.http.")
        )
        for module, path in MODULES.items()
        if not http_layer(module)
    }
    assert {m: names for m, names in offenders.items() if names} == {}


def test_geo_and_maps_stand_alone() -> None:
    """`geo/` is pure geometry and CRS (no database, no web, no service); `maps/` builds
    folium maps from data it is given."""
    for module, path in MODULES.items():
        top = module.split(".")[0]
        if top == "geo":
            banned = ("service", "maps", "sqlalchemy", "geoalchemy2", "psycopg", *WEB)
        elif top == "maps":
            banned = ("service", "sqlalchemy", "geoalchemy2", "psycopg", *WEB)
        else:
            continue
        assert not {n for n in _imports(path) if n.split(".")[0] in banned}, module


def test_no_module_reaches_itself_through_others() -> None:
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    assert cycles == []


def test_the_app_loads_no_folium_gdal_or_password_hash_until_it_needs_them() -> None:
    """A worker that serves the API, the OGC API and tiles never pays folium's 12 MB,
    matplotlib's, GDAL's bindings' 29 MB or argon2id's 64 MiB: the map pages load folium
    with the first map and matplotlib with the first printed one (service/maps/router.py;
    tests/maps draw them), the first file read loads pyogrio
    (geo/readers.py; tests/divisions read files), the first login makes the hash that an
    unknown user's login is verified against (service/accounts/security.py)."""
    code = (
        "import sys; from service.main import create_app; create_app(); print(sorted(sys.modules));"
        # (VmHWM: getrusage's peak would include this process's, the parent of a fork)
        " print(open('/proc/self/status').read().split('VmHWM:')[1].split()[0])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    modules, peak_kb = done.stdout.splitlines()
    loaded = modules.split("'")
    assert "service.maps.router" in loaded  # (the map routes are there)
    assert "geo.readers" in loaded  # (and the file imports)
    lazy = {"folium", "branca", "maps.base", "maps.themes", "maps.printed", "matplotlib"}
    assert not (lazy | {"pyogrio"}) & set(loaded)
    # argon2id's 64 MiB would show as a peak of ~175 MB (the app alone is ~130 MB)
    assert int(peak_kb) < 160 * 1024, f"peak RSS {int(peak_kb) // 1024} MB at start-up"
