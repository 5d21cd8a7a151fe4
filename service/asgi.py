"""ASGI entry point for uvicorn: the app built from environment settings."""

from service.main import create_app

app = create_app()
