"""Run actions: validate arguments → policy gate → transport → ``ToolResult`` (never raises)."""
