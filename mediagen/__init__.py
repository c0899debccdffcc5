"""mediagen: a Markdown newsletter issue in, a podcast episode and a narrated slide video out, offline."""

__version__ = "0.1.0"
