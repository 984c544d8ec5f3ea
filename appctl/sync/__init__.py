"""Sources → contract: OpenAPI documents (``openapi/``); databases come later."""
