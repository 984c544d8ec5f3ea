"""appctl: compile an application's surface into a committed contract of LLM tools."""

__version__ = "0.1.0"
