"""vocmine: Voice-of-Customer text mining."""

__version__ = "0.1.0"
