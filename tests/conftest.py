"""Test-wide settings and the one local web server the download tests share."""

import functools
import http.server
import os
import threading

import pytest

# Seeded results repeat bit for bit for a given number of batch-split workers (models/split.py);
# fix it so the numbers the tests and README.md check do not depend on the machine's core count.
os.environ.setdefault("KERNELSCOPE_NUM_WORKERS", "2")


@pytest.fixture
def fast_switches_restored():
    """Turns the fast path and Winograd back on after a test that switched them off."""
    yield
    import kernelscope as ks

    ks.config.set_fast(True)
    ks.config.set_winograd(True)


@pytest.fixture
def local_http_server(tmp_path):
    """Serves tmp_path/served on 127.0.0.1 (no internet here): (folder, base URL, paths requested)."""
    folder = tmp_path / "served"
    folder.mkdir()
    requests = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            requests.append(self.path)
            super().do_GET()

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(folder)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield folder, f"http://127.0.0.1:{httpd.server_address[1]}/", requests
    httpd.shutdown()
    httpd.server_close()
