"""Calls to an upstream MCP server's tools: the connection (``connect``), a per-process
pool of sessions on one event-loop thread (``pool``) and the call itself (``call``)."""
