"""The ``inbound:`` config model (defined in ``appctl.contract.inbound``, below ``config``,
so that ``Config`` can hold it without importing the server layer)."""

from appctl.contract.inbound import InboundSettings, OAuthSettings, Scopes, StaticToken

__all__ = ["InboundSettings", "OAuthSettings", "Scopes", "StaticToken"]
