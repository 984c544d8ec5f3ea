"""serve: the contract's tools for other programs, as thin adapters over the executor.

``mcp.py`` speaks the Model Context Protocol (stdio or Streamable HTTP) with the official SDK;
``rest.py`` is ``appctl serve``'s plain HTTP API (Starlette, run by uvicorn).
"""
