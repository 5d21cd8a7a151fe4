"""Typed settings for the service, read from REGISTRY_* environment variables (and DATABASE_URL)."""

from __future__ import annotations

import ipaddress
import os
import secrets
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]  # (service/core/settings.py)
DEFAULT_VAR_DIR = PROJECT_ROOT / "var"
_WEAK_SECRETS = {"", "secret", "changeme", "change-me", "development"}


class Settings(BaseSettings):
    """Everything the service needs to start; `create_app(settings)` takes one of these."""

    model_config = SettingsConfigDict(env_prefix="REGISTRY_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    database_url: str = Field(
        default="",
        validation_alias=AliasChoices("DATABASE_URL", "REGISTRY_DATABASE_URL"),
        description="SQLAlchemy URL the service connects with (postgresql+psycopg://...).",
    )
    database_read_url: str = Field(
        default="",
        validation_alias=AliasChoices("DATABASE_READ_URL", "REGISTRY_DATABASE_READ_URL"),
        description="a streaming replica of the database, as the service role: GET requests "
        "read there once it has replayed the primary's writes (empty: none)",
    )
    migration_database_url: str = Field(
        default="",
        description="URL of the schema owner, used for migrations; defaults to database_url.",
    )
    secret_key: SecretStr = SecretStr("")
    token_ttl_minutes: int = Field(default=30, ge=1, le=24 * 60)
    refresh_ttl_hours: int = Field(default=12, ge=1, le=24 * 30)
    max_body_kb: int = Field(default=1024, ge=16, le=100 * 1024, description="JSON body limit")
    cors_origins: list[str] = Field(default_factory=list, description="empty: CORS off")
    log_json: bool = True
    var_dir: Path = DEFAULT_VAR_DIR
    max_upload_mb: int = Field(default=100, ge=1, le=2048)
    max_evidence_mb: int = Field(default=20, ge=1, le=2048)
    db_pool_size: int = Field(default=10, ge=1, le=200)
    db_prepared_statements: bool = Field(
        default=True,
        description="let psycopg prepare a statement a connection runs often; false behind a "
        "pooler in transaction mode that does not keep them (PgBouncer before 1.21)",
    )
    db_loop_lane: bool = Field(
        default=True,
        description="let the OGC API's reads wait for the database on the event loop, on "
        "connections of their own (db_pool_size more per worker), instead of in a thread",
    )
    tile_cache_mb: int = Field(
        default=16,
        ge=0,
        le=4096,
        description="vector tiles kept by each worker, by ETag (0: none kept)",
    )
    page_cache_mb: int = Field(
        default=32,
        ge=0,
        le=4096,
        description="map pages, their offices and report exports kept by each worker, by "
        "ETag (data versions, tenant, region, role, query, day); 0: none kept",
    )
    password_hash_workers: int = Field(
        default_factory=lambda: max(1, (os.cpu_count() or 2) // 2),
        ge=1,
        le=64,
        description="password hashes checked at once (argon2 is CPU-bound; the rest waits)",
    )
    assets_dir: Path = Field(
        default=PROJECT_ROOT / "assets" / "node_modules",
        description="front-end packages installed from assets/package-lock.json",
    )
    basemap: Literal["none", "tianditu", "xyz"] = Field(
        default="none", description="what maps draw under the data"
    )
    basemap_url: str | None = Field(default=None, description="XYZ tile URL template")
    print_font: Path = Field(
        default=Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
        description="the CJK font of printed maps (Debian fonts-noto-cjk; scripts/lib.sh "
        "and docker/Dockerfile install it)",
    )
    basemap_attribution: str = ""
    tianditu_key: SecretStr | None = None
    log_sql: bool = False
    forwarded_allow_ips: str = Field(
        default="",
        description="addresses of reverse proxies whose X-Forwarded-For is trusted (comma "
        "separated); empty: the connecting address is the client's",
    )
    metrics_allow: str = Field(
        default="127.0.0.1/32,::1/128",
        description="networks (comma separated, CIDR) whose clients may read /metrics, e.g. "
        "the Prometheus server's; everyone else gets 403",
    )

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if self.database_url.startswith("postgresql://"):
            self.database_url = "postgresql+psycopg://" + self.database_url[len("postgresql://") :]
        if self.database_read_url.startswith("postgresql://"):
            self.database_read_url = (
                "postgresql+psycopg://" + self.database_read_url[len("postgresql://") :]
            )
        if self.migration_database_url.startswith("postgresql://"):
            self.migration_database_url = (
                "postgresql+psycopg://" + self.migration_database_url[len("postgresql://") :]
            )
        if not self.migration_database_url:
            self.migration_database_url = self.database_url
        if self.basemap == "xyz" and not self.basemap_url:
            raise ValueError("REGISTRY_BASEMAP=xyz needs REGISTRY_BASEMAP_URL")
        if self.basemap == "tianditu" and not self.tianditu_key:
            raise ValueError("REGISTRY_BASEMAP=tianditu needs REGISTRY_TIANDITU_KEY")
        try:
            self.metrics_networks()
        except ValueError as exc:
            raise ValueError(f"REGISTRY_METRICS_ALLOW: {exc}") from exc
        key = self.secret_key.get_secret_value()
        if self.env == "production" and (key in _WEAK_SECRETS or len(key) < 32):
            raise ValueError(
                "REGISTRY_SECRET_KEY must be set to a random string of at least 32 characters "
                "in production"
            )
        return self

    def tile_hosts(self) -> list[str]:
        """Origins the map pages may load tiles from (for their Content-Security-Policy)."""
        if self.basemap == "tianditu":
            return ["https://*.tianditu.gov.cn"]
        if self.basemap == "xyz" and self.basemap_url:
            from urllib.parse import urlsplit

            parts = urlsplit(self.basemap_url)
            if parts.scheme and parts.netloc:  # "{s}.tiles.example" → "*.tiles.example"
                return [f"{parts.scheme}://{parts.netloc.replace('{s}', '*')}"]
        return []

    def metrics_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        """The networks of `metrics_allow` (ValueError naming one that is not a network)."""
        return [
            ipaddress.ip_network(part.strip(), strict=False)
            for part in self.metrics_allow.split(",")
            if part.strip()
        ]

    def signing_key(self) -> str:
        """The token signing key; outside production an unset key is generated and kept in var/."""
        key = self.secret_key.get_secret_value()
        if key:
            return key
        path = self.var_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        new = secrets.token_urlsafe(48)
        path.write_text(new)
        path.chmod(0o600)
        self.secret_key = SecretStr(new)
        return new
