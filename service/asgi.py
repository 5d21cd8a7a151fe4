"""ASGI entry point for uvicorn: the app built from environment settings."""

from service.logs import configure_logging
from service.main import create_app
from service.settings import Settings

settings = Settings()
configure_logging(json_lines=settings.log_json)
app = create_app(settings)
