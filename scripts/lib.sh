# Shared set-up for scripts/run, scripts/test and scripts/bench (sourced, not run):
# the Debian packages, a virtualenv in .venv and the project installed from pyproject.toml.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
export PATH="$VENV/bin:$PATH"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

have_postgis() {
    compgen -G "/usr/share/postgresql/*/extension/postgis.control" >/dev/null &&
        compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
}

have_venv_module() {
    local probe
    probe="$(mktemp -d)"
    if python3 -m venv "$probe/v" >/dev/null 2>&1; then rm -rf "$probe"; return 0; fi
    rm -rf "$probe"
    return 1
}

apt_install() {
    # Install Debian packages when missing; as non-root, say what to install and stop.
    local missing=("$@")
    if [ "$(id -u)" -ne 0 ]; then
        echo "missing system packages; as root run: apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
    say "installing Debian packages: ${missing[*]}"
    if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -1)" ]; then
        apt-get update -qq
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_system_packages() {
    local missing=()
    have_postgis || missing+=(postgresql-15-postgis-3 postgresql-contrib)
    command -v python3 >/dev/null || missing+=(python3)
    have_venv_module || missing+=(python3-venv)
    # the CJK font of printed maps (/maps/{theme}.pdf; REGISTRY_PRINT_FONT) and of the
    # browser tests' screenshots
    [ -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || missing+=(fonts-noto-cjk)
    if [ "${#missing[@]}" -gt 0 ]; then apt_install "${missing[@]}"; fi
}

ensure_venv() {
    # (Re)install the project when pyproject.toml or constraints.txt changed since last time.
    if [ ! -x "$VENV/bin/python" ]; then
        say "creating virtualenv in .venv"
        python3 -m venv "$VENV"
    fi
    local stamp="$VENV/.registry-installed" want
    want="$(cat "$ROOT/pyproject.toml" "$ROOT/constraints.txt" | sha256sum | cut -d' ' -f1)"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        say "installing the project and its dependencies into .venv"
        "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
        "$VENV/bin/python" -m pip install -q -c "$ROOT/constraints.txt" -e "$ROOT[dev]"
        echo "$want" >"$stamp"
    fi
}

ensure_assets() {
    # Leaflet from the npm registry, pinned by assets/package-lock.json: the pages and maps
    # load every script and style from the service itself (no CDN, works on an intranet).
    local stamp="$ROOT/assets/node_modules/.registry-installed" want
    want="$(sha256sum "$ROOT/assets/package-lock.json" | cut -d' ' -f1)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
    command -v npm >/dev/null || apt_install nodejs npm
    say "installing front-end assets (npm ci, assets/package-lock.json)"
    # (--ignore-scripts: these are static files; swagger-ui-dist's telemetry dependency
    # would otherwise try to phone home)
    npm ci --prefix "$ROOT/assets" --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
    echo "$want" >"$stamp"
}

ensure_test_tools() {
    # Debian's Chromium and ChromeDriver, for the real-browser tests of the maps, the real
    # clients of the OGC API, and the connection pooler the service is tested through
    local missing=()
    command -v chromium >/dev/null || missing+=(chromium)
    command -v chromedriver >/dev/null || missing+=(chromium-driver)
    # GDAL's OGC API - Features client, for the tests of /ogc with a real client
    command -v ogr2ogr >/dev/null || missing+=(gdal-bin)
    # QGIS 3.22 (headless, Debian's python3), for the tests of /ogc with a desktop GIS
    [ -d /usr/lib/python3/dist-packages/qgis ] || missing+=(python3-qgis)
    # PgBouncer, for the tests of the service behind it in transaction mode
    command -v pgbouncer >/dev/null || [ -x /usr/sbin/pgbouncer ] || missing+=(pgbouncer)
    if [ "${#missing[@]}" -gt 0 ]; then apt_install "${missing[@]}"; fi
}

ensure_all() {
    ensure_system_packages
    ensure_venv
    ensure_assets
}
