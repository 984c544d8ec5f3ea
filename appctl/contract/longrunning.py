"""How a long-running operation is followed to its end: ``Action.long_running``.

Sync records it (``sync/openapi/longrunning.py``) when the source says an operation starts
work that ends later; the executor's poller (``execute/http/poll.py``) reads it. Four
shapes are told apart (``pattern``):

- ``location``: a documented ``202`` with a ``Location`` header; the status URL answers
  ``202`` while the work runs and the result (``200``/``201``/``204``, or a redirect to it)
  once it is done.
- ``azure``: ``x-ms-long-running-operation``, or a documented ``Operation-Location`` /
  ``Azure-AsyncOperation`` header; the status monitor's body has ``status`` (``Succeeded``,
  ``Failed``, ``Canceled`` end it) and, on failure, ``error``; ``final_state_via`` says where
  the final resource is.
- ``google``: the answer is an operation resource (``name``, ``done``, ``response`` or
  ``error``), read again at ``operation_path`` (a ``GET …/operations/{name}`` route).
- ``job``: the answer is a job resource whose ``status_field`` enum has terminal values.

Nothing here does I/O; the poller follows ``status_headers`` in order, then ``operation_path``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PField

Pattern = Literal["location", "azure", "google", "job"]
# where the final resource is, as x-ms-long-running-operation-options names it
FinalVia = Literal["location", "operation-location", "azure-async-operation", "original-uri"]
# the usual terminal values of a status field (compared case-insensitively)
DONE_VALUES = ("succeeded", "success", "successful", "completed", "complete", "done", "finished")
FAILED_VALUES = ("failed", "failure", "error", "errored", "canceled", "cancelled", "aborted")
AZURE_HEADERS = ("azure-asyncoperation", "operation-location", "location")


class LongRunning(BaseModel):
    """Where to find an operation's status, how to tell it ended, where its result is."""

    model_config = ConfigDict(extra="forbid")

    pattern: Pattern
    # response headers that may hold the status URL, lower-case, the first present wins
    status_headers: list[str] = PField(default_factory=list)
    # a GET route that reads the operation again, its one placeholder filled from the
    # answer's ``id_field`` (Google: ``name``; a job: ``id``); without an ``id_field``, the
    # operation's own path: the job is read again at the URL that started it
    operation_path: str | None = None
    id_field: str | None = None
    # the status monitor's body: a status field with terminal values, or a done flag
    status_field: str | None = None
    done_values: list[str] = PField(default_factory=list)
    failed_values: list[str] = PField(default_factory=list)
    done_field: str | None = None  # Google: ``done``
    error_field: str | None = None  # where a failed operation says why
    result_field: str | None = None  # Google: ``response``: the final resource inside
    final_state_via: FinalVia | None = None
