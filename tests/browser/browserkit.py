"""The real app served by waitress on a free port in a daemon thread, for the browser tests."""

from __future__ import annotations

import contextlib
import threading

import web


@contextlib.contextmanager
def serve(settings):
    """The app over ``settings`` under waitress; yields its base URL."""
    import waitress
    from waitress import wasyncore

    app = web.create_app(settings)
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
    stop = threading.Event()

    def run() -> None:
        # Short loop turns, so the loop has stopped before its sockets are closed (closing them
        # under a running select() raised EBADF in the server thread now and then).
        while not stop.is_set():
            wasyncore.loop(timeout=0.05, map=server._map, count=1)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        stop.set()
        thread.join(timeout=5)
        server.close()
        web.close_app(app)
