"""The application factory: `create_app(settings)` wires lifespan, routers and error handlers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from sqlalchemy.engine import Engine

from service.acceptance.router import router as acceptance_router
from service.accounts.router import router as accounts_router
from service.audit.router import router as audit_router
from service.core.byte_cache import ByteCache
from service.core.cluster import LEAKPROOF_SQL
from service.core.db import Database, make_engine
from service.core.settings import Settings
from service.coverage.router import router as coverage_router
from service.divisions.router import router as divisions_router
from service.http.errors import register_error_handlers
from service.http.middleware import RegistryMiddleware
from service.http.ops import router as ops_router
from service.maps.router import router as maps_router
from service.offices.router import router as offices_router
from service.ogc.edit_router import router as ogc_edit_router
from service.ogc.router import router as ogc_router
from service.ogc.tiles_router import router as ogc_tiles_router
from service.pages.access_tokens_page import router as access_tokens_page_router
from service.pages.dashboard import router as dashboard_router
from service.pages.details_form import router as details_form_router
from service.pages.evidence_form import router as evidence_form_router
from service.pages.facilities_form import router as facilities_form_router
from service.pages.gaps import router as gaps_router
from service.pages.office_list import router as office_list_router
from service.pages.office_page import router as office_page_router
from service.pages.regions import router as regions_router
from service.pages.router import router as pages_router
from service.pages.staff_form import router as staff_form_router
from service.pages.work_form import router as work_form_router
from service.records.router import router as records_router
from service.records.work_router import router as work_records_router
from service.standards.router import router as standards_router

API_DESCRIPTION = """
司法所登记系统 API — registry of township-level judicial offices (司法所), tied to the
polygons of the divisions they serve. Authenticate at `/api/v1/auth/token`.
Township boundaries in the demo data are generated from county polygons, not official.
"""


STATIC_DIR = Path(__file__).resolve().parent / "pages" / "static"


def warn_if_indexes_unusable(db: Database) -> None:
    """Spatial indexes work under row-level security only if PostGIS's bounding-box operators
    are LEAKPROOF (a superuser step of the cluster set-up); say so loudly if they are not."""
    try:
        with db.engine.connect() as conn:
            missing = conn.scalar(
                text(
                    "SELECT count(*) FROM pg_proc WHERE proname IN ('geometry_overlaps',"
                    " 'geometry_contains', 'geometry_within', 'geometry_distance_centroid')"
                    " AND NOT proleakproof"
                )
            )
    except Exception:  # the database may be down at start; /readyz will tell
        return
    if missing:
        logging.getLogger("registry").warning(
            "PostGIS bounding-box operators are not LEAKPROOF: spatial queries will not use "
            "their indexes under row-level security and will be slow. As a superuser run: %s",
            LEAKPROOF_SQL.replace("\n", " "),
        )


def create_app(settings: Settings | None = None, *, database: Database | None = None) -> FastAPI:
    """Build the app; tests pass their own settings (and may share a Database)."""
    settings = settings or Settings()

    def primary(*, on_loop: bool = False) -> Engine:
        return make_engine(
            settings.database_url,
            pool_size=settings.db_pool_size,
            echo=settings.log_sql,
            prepared_statements=settings.db_prepared_statements,
            on_loop=on_loop,
        )

    def replica(*, on_loop: bool = False) -> Engine:
        return make_engine(
            settings.database_read_url,
            pool_size=settings.db_pool_size,
            echo=settings.log_sql,
            name="replica",
            prepared_statements=settings.db_prepared_statements,
            on_loop=on_loop,
        )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = database is None
        app.state.db = database or Database(
            primary(),
            replica() if settings.database_read_url else None,
            # the attempt counters' own connections (Database: a request holding one of the
            # pool's may need one for a counter); at most 2 per worker, opened when first used
            make_engine(
                settings.database_url,
                pool_size=1,
                echo=settings.log_sql,
                name="counters",
                prepared_statements=settings.db_prepared_statements,
            ),
            # the event loop's lane (service/http/hop.py): the same databases, on connections
            # that wait without a thread
            loop_engine=primary(on_loop=True) if settings.db_loop_lane else None,
            loop_read_engine=replica(on_loop=True)
            if settings.db_loop_lane and settings.database_read_url
            else None,
        )
        warn_if_indexes_unusable(app.state.db)
        try:
            yield
        finally:
            if owned:
                app.state.db.dispose()
                await app.state.db.dispose_loop_lane()

    app = FastAPI(
        title="司法所登记系统 (Judicial office registry)",
        version="0.1.0",
        description=API_DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served below from local assets, not from a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.tile_cache = ByteCache(settings.tile_cache_mb, "tiles")
    app.state.page_cache = ByteCache(settings.page_cache_mb, "pages")
    # logins and password changes queue here for a worker thread that checks the hash
    app.state.password_limiter = anyio.CapacityLimiter(settings.password_hash_workers)
    if database is not None:
        app.state.db = database
    register_error_handlers(app)
    app.add_middleware(
        RegistryMiddleware,
        max_body=settings.max_body_kb * 1024,
        max_upload=settings.max_upload_mb * 1024 * 1024,
        tile_hosts=settings.tile_hosts(),
    )
    if settings.cors_origins:  # off unless origins are configured
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "If-Match", "If-None-Match"],
            expose_headers=["ETag", "Location", "X-Request-ID"],
        )
    # The OGC API first: FastAPI tries the routes in order, and desktop clients ask for
    # features and tiles at a rate no page is asked (its paths, all under /ogc, meet no other)
    app.include_router(ogc_router)
    app.include_router(ogc_edit_router)
    app.include_router(ogc_tiles_router)
    app.include_router(accounts_router)
    app.include_router(divisions_router)
    app.include_router(offices_router)
    app.include_router(audit_router)
    app.include_router(coverage_router)
    app.include_router(records_router)
    app.include_router(work_records_router)
    app.include_router(standards_router)
    app.include_router(acceptance_router)
    app.include_router(maps_router)
    app.include_router(pages_router)
    app.include_router(office_list_router)
    app.include_router(dashboard_router)
    app.include_router(gaps_router)
    app.include_router(regions_router)
    app.include_router(office_page_router)
    app.include_router(work_form_router)
    app.include_router(details_form_router)
    app.include_router(facilities_form_router)
    app.include_router(staff_form_router)
    app.include_router(evidence_form_router)
    app.include_router(access_tokens_page_router)
    app.include_router(ops_router)
    # front-end packages from assets/ (npm ci), mounted before /static, which would
    # otherwise answer for them
    for name, folder in (
        ("leaflet", "leaflet/dist"),
        ("vectorgrid", "leaflet.vectorgrid/dist"),
        ("htmx", "htmx.org/dist"),
        ("swagger-ui", "swagger-ui-dist"),
    ):
        path = settings.assets_dir / folder
        if path.is_dir():
            app.mount(f"/static/vendor/{name}", StaticFiles(directory=path), name=name)
        else:
            logging.getLogger("registry").warning(
                "%s is not installed in %s (scripts/run installs it)", name, path
            )

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="司法所登记系统 API",
            swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/favicon.ico",
        )

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    return app
