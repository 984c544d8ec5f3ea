"""OpenAPI → contract: load (file/URL, JSON/YAML, budgets), refs, swagger2, jsonschema, parse."""
