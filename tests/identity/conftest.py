"""Fixtures of the inbound-auth tests: the test issuer (RS256 and ES256 keys) and the
upstream API every call reaches (it records each raw request)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.identity.inbound_app import Upstream
from tests.identity.issuer import Issuer


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    with Issuer("RS256", "ES256") as running:
        yield running


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    with Upstream().running() as running:
        yield running
