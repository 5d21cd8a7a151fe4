"""Infrastructure the domain packages stand on: settings, the database and its cluster,
errors, dates, exports, logs, migrations — no web framework here (that is `service/http/`)."""
