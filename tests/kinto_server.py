"""Serve Kinto (memory backends) on 127.0.0.1 at a free port; print the port, then serve.

Run with the Python of ``.cache/kinto-venv`` (scripts/setup makes it): Kinto's dependencies
(Pyramid and friends) stay out of appctl's own environment. ``tests/execute/test_kinto.py``
starts it and ends it by its process id.
"""

import sys

import kinto
from waitress.server import create_server

SETTINGS = {
    "kinto.storage_backend": "kinto.core.storage.memory",
    "kinto.cache_backend": "kinto.core.cache.memory",
    "kinto.permission_backend": "kinto.core.permission.memory",
    "kinto.bucket_create_principals": "system.Authenticated",
    "kinto.paginate_by": "100",
    "multiauth.policies": "basicauth",
    "kinto.userid_hmac_secret": "appctl-tests-not-a-secret",
}

app = kinto.main({}, **SETTINGS)
server = create_server(app, host="127.0.0.1", port=0, threads=2)
print(server.effective_port, flush=True)
sys.stdout.close()
server.run()
