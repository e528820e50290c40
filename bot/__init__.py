"""Chat assistant for Vietnam's commune-level community digital technology teams."""

__version__ = "0.1.0"
