"""The HTTP layer shared by the routers: request dependencies (session, scope, settings),
middleware, error responses, file downloads and uploads."""
