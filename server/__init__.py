"""The service: HTTP API, SSE streams, chat, webhooks, dashboard, watcher and run store."""
