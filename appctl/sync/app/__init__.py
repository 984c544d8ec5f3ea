"""Python web apps → an OpenAPI document or route facts, asked of the app's own framework.

The app is imported in the project's own interpreter, never in appctl's: ``run.probe`` runs one
of the stdlib-only scripts in ``probes/`` by path in a subprocess with a time limit, and reads
the JSON it prints after a marker line. ``source.py`` turns what a probe found into a contract
(an OpenAPI document goes through ``sync/openapi``, the one compiler).
"""
