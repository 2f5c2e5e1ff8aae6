"""View helpers for the server-rendered dashboard (`server.routes.dashboard`)."""
