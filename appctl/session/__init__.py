"""The call session every front end runs its tool calls through (``core.Session``), the
approval strategies (``approval``) and the one outcome table (``outcomes``)."""
