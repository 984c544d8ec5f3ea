"""Contract → tool definitions for each LLM API, and the compact markdown guide."""
