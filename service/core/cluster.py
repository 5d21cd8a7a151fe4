"""The embedded PostgreSQL + PostGIS cluster: create, start, stop and describe a private cluster.

`scripts/run` uses it under var/pg (the embedded default); the test suite makes a throwaway one.
PostgreSQL refuses to run as root, so when we are root the server runs as the unprivileged
`postgres` OS user (created by the Debian package) and the data directory belongs to it.
"""

from __future__ import annotations

import glob
import json
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

# Under row-level security PostgreSQL may use a condition as an index condition only if its
# function is LEAKPROOF. PostGIS's bounding-box operators are not marked so, which turns every
# spatial lookup of the service role into a sequential scan (0.3 ms → 40 ms per point).
# They only compare boxes (or box centres) and cannot raise a data-dependent error — all our
# geometries are SRID 4326 by column type — so marking them is safe. Only a superuser may.
LEAKPROOF_FUNCTIONS = (
    "geometry_overlaps(geometry, geometry)",  # &&
    "geometry_contains(geometry, geometry)",  # ~
    "geometry_within(geometry, geometry)",  # @
    "geometry_distance_centroid(geometry, geometry)",  # <-> (nearest neighbour)
)
LEAKPROOF_SQL = "".join(f"ALTER FUNCTION {f} LEAKPROOF;\n" for f in LEAKPROOF_FUNCTIONS)

APP_ROLE = "registry_app"
OWNER_ROLE = "registry_owner"
DEFAULT_DB = "registry"


class ClusterError(RuntimeError):
    """The local cluster could not be created, started or reached."""


def find_pg_bindir() -> Path:
    """Directory of initdb/pg_ctl for the newest installed server that has PostGIS."""
    override = os.environ.get("REGISTRY_PG_BINDIR")
    if override:
        return Path(override)
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name)
    )
    for bindir in reversed(candidates):
        version = Path(bindir).parent.name
        if glob.glob(f"/usr/share/postgresql/{version}/extension/postgis.control"):
            return Path(bindir)
    raise ClusterError(
        "no PostgreSQL server with PostGIS found; install it with "
        "`apt-get install postgresql-15-postgis-3` (scripts/run does this when run as root)"
    )


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LocalCluster:
    """A PostgreSQL cluster living in `base_dir` (data/, run/, log, credentials.json)."""

    base_dir: Path
    port: int = 54329
    database: str = DEFAULT_DB

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def socket_dir(self) -> Path:
        return self.base_dir / "run"

    @property
    def log_file(self) -> Path:
        return self.base_dir / "postgres.log"

    @property
    def credentials_file(self) -> Path:
        return self.base_dir / "credentials.json"

    # -- running commands as the right OS user ---------------------------------------------

    def _server_user(self) -> str | None:
        """The OS user that runs the server: `postgres` when we are root, else ourselves."""
        if os.geteuid() != 0:
            return None
        try:
            pwd.getpwnam("postgres")
        except KeyError as exc:
            raise ClusterError("running as root needs the `postgres` OS user") from exc
        return "postgres"

    def _run(self, args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        user = self._server_user()
        cmd = ["runuser", "-u", user, "--", *args] if user else args
        try:
            return subprocess.run(cmd, check=True, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]
        except subprocess.CalledProcessError as exc:
            raise ClusterError(f"{' '.join(args[:2])} failed: {exc.stderr or exc.stdout}") from exc

    # -- lifecycle ---------------------------------------------------------------------------

    def exists(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def is_running(self) -> bool:
        if not self.exists():
            return False
        bindir = find_pg_bindir()
        user = self._server_user()
        args = [str(bindir / "pg_ctl"), "status", "-D", str(self.data_dir)]
        cmd = ["runuser", "-u", user, "--", *args] if user else args
        return subprocess.run(cmd, capture_output=True).returncode == 0

    def init(self, *, fast: bool = False) -> None:
        """initdb a new cluster with scram passwords; `fast` trades durability for speed (tests)."""
        bindir = find_pg_bindir()
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        creds = {
            "superuser": "postgres",
            "superuser_password": secrets.token_urlsafe(24),
            OWNER_ROLE: secrets.token_urlsafe(24),
            APP_ROLE: secrets.token_urlsafe(24),
            "port": self.port,
            "database": self.database,
        }
        pwfile = self.base_dir / ".initdb-pw"
        pwfile.write_text(str(creds["superuser_password"]))
        user = self._server_user()
        if user:
            # The server user must own its directories and be able to walk down to them.
            for path in (self.base_dir, self.socket_dir, pwfile):
                shutil.chown(path, user=user)
            self._make_traversable(self.base_dir)
        try:
            self._run(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    "postgres",
                    "--auth=scram-sha-256",
                    f"--pwfile={pwfile}",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                ]
            )
        finally:
            pwfile.unlink(missing_ok=True)
        conf = [
            "listen_addresses = '127.0.0.1'",
            f"port = {self.port}",
            f"unix_socket_directories = '{self.socket_dir}'",
            "shared_buffers = 256MB",
            "work_mem = 32MB",
            "maintenance_work_mem = 256MB",
            "max_connections = 100",
            "jit = off",
        ]
        if fast:
            # (synchronous commit stays on, as in production: without fsync a flush is cheap,
            # and a read replica then sees every commit once it has returned)
            conf += ["fsync = off", "full_page_writes = off"]
        with open(self.data_dir / "postgresql.auto.conf", "a") as fh:
            fh.write("\n".join(conf) + "\n")
        self.credentials_file.write_text(json.dumps(creds, indent=2))
        self.credentials_file.chmod(0o600)

    @staticmethod
    def _make_traversable(path: Path) -> None:
        """Give others execute permission on the parents so the server user can reach `path`."""
        for parent in [path, *path.parents]:
            mode = parent.stat().st_mode
            if not mode & 0o001:
                parent.chmod(mode | 0o001)

    def start(self) -> None:
        if self.is_running():
            return
        bindir = find_pg_bindir()
        self.port = int(str(self.credentials()["port"]))
        self._run(
            [
                str(bindir / "pg_ctl"),
                "start",
                "-w",
                "-t",
                "60",
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
            ]
        )

    def stop(self) -> None:
        if not self.is_running():
            return
        bindir = find_pg_bindir()
        self._run([str(bindir / "pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(self.data_dir)])

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.base_dir, ignore_errors=True)

    # -- a streaming replica ---------------------------------------------------------------------

    def replica(self, base_dir: Path, port: int) -> LocalCluster:
        """A hot standby of this (running) cluster in `base_dir`, on `port`: made by
        pg_basebackup -R (streaming from this one, as its superuser), started, and described
        by its own credentials.json (the same roles and passwords: they are replicated). An
        existing standby there is only started."""
        replica = LocalCluster(base_dir=base_dir, port=port, database=self.database)
        if not replica.exists():
            creds = self.credentials()
            bindir = find_pg_bindir()
            base_dir.mkdir(parents=True, exist_ok=True)
            replica.socket_dir.mkdir(parents=True, exist_ok=True)
            user = self._server_user()
            if user:
                for path in (base_dir, replica.socket_dir):
                    shutil.chown(path, user=user)
                self._make_traversable(base_dir)
            self._run(
                [
                    str(bindir / "pg_basebackup"),
                    *("-h", "127.0.0.1", "-p", str(creds["port"]), "-U", "postgres"),
                    *("-D", str(replica.data_dir), "-R", "-X", "stream", "--checkpoint=fast"),
                    "--no-password",
                ],
                env={**os.environ, "PGPASSWORD": str(creds["superuser_password"])},
            )
            with open(replica.data_dir / "postgresql.auto.conf", "a") as fh:
                fh.write(
                    f"port = {port}\nunix_socket_directories = '{replica.socket_dir}'\n"
                    "hot_standby = on\nhot_standby_feedback = on\n"
                )
            replica.credentials_file.write_text(json.dumps({**creds, "port": port}, indent=2))
            replica.credentials_file.chmod(0o600)
        replica.start()
        return replica

    # -- database setup ------------------------------------------------------------------------

    def credentials(self) -> dict[str, object]:
        if not self.credentials_file.exists():
            raise ClusterError(f"{self.credentials_file} is missing: the cluster was not created")
        return dict(json.loads(self.credentials_file.read_text()))

    def url(self, role: str = APP_ROLE, database: str | None = None) -> str:
        creds = self.credentials()
        password = creds["superuser_password"] if role == "postgres" else creds[role]
        db = database or str(creds["database"])
        return f"postgresql+psycopg://{role}:{password}@127.0.0.1:{creds['port']}/{db}"

    def bootstrap(self) -> None:
        """Create the owner and service roles, the database and the extensions (idempotent)."""
        import psycopg
        from psycopg import sql

        creds = self.credentials()
        admin = self.url("postgres", "postgres").replace("postgresql+psycopg", "postgresql")
        with psycopg.connect(admin, autocommit=True) as conn:
            for role in (OWNER_ROLE, APP_ROLE):
                exists = conn.execute(
                    "SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)
                ).fetchone()
                verb = sql.SQL("ALTER" if exists else "CREATE")
                conn.execute(
                    sql.SQL(
                        "{} ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE PASSWORD {}"
                    ).format(verb, sql.Identifier(role), sql.Literal(str(creds[role])))
                )
            db = str(creds["database"])
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db,)).fetchone():
                conn.execute(f'CREATE DATABASE "{db}" OWNER "{OWNER_ROLE}"')
        with psycopg.connect(
            self.url("postgres").replace("postgresql+psycopg", "postgresql"), autocommit=True
        ) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            conn.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
            conn.execute(LEAKPROOF_SQL)
            conn.execute(f'GRANT CONNECT ON DATABASE "{db}" TO "{APP_ROLE}"')

    def ensure(self, *, fast: bool = False) -> None:
        """Create (if missing), start and bootstrap the cluster; safe to call every time."""
        if not self.exists():
            if self.base_dir.exists() and any(self.base_dir.iterdir()):
                leftovers = [p.name for p in self.base_dir.iterdir()]
                if "data" in leftovers:
                    raise ClusterError(f"{self.data_dir} exists but is not a cluster")
            self.init(fast=fast)
        self.start()
        deadline = time.monotonic() + 30
        while True:
            try:
                self.bootstrap()
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
