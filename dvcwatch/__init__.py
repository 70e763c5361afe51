"""dvcwatch: evidence of whether citizens really get Vietnam's online public services."""

__version__ = "0.1.0"
