"""The HTTP API's routers, one module per resource; `server.app.create_app` mounts them under /api/v1."""
