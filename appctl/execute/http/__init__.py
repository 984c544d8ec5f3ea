"""Calls over HTTP: the request built from an action and its arguments, the bodies and
encodings, the pooled httpcore transport, and the answer read back."""
