"""api: HTTP (FastAPI), the `guji` CLI and the web pages. The only package that knows HTTP."""
