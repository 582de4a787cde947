"""The distribution's version, in one place (the integration and user-agent headers read it)."""

__version__ = "0.1.0"
