"""The real app served by waitress on a free port in a daemon thread, for the browser tests."""

from __future__ import annotations

import contextlib
import threading

import web


@contextlib.contextmanager
def serve(settings):
    """The app over ``settings`` under waitress; yields its base URL."""
    import waitress

    app = web.create_app(settings)
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        server.close()
        thread.join(timeout=5)
        web.close_app(app)
