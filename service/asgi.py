"""ASGI entry point for uvicorn: the app built from environment settings, in a worker whose
garbage collector stalls its requests far less (service/core/heap.py)."""

from service.core import heap
from service.core.logs import configure_logging
from service.core.settings import Settings
from service.main import create_app

settings = Settings()
configure_logging(json_lines=settings.log_json)
app = create_app(settings)
heap.settle()
