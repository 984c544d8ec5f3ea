"""An MCP server as a source: its tool list read with the official client (``listing``)
and turned into the contract (``tools``)."""
