"""The version of curlx: one place, read by the build (hatch) and by the package."""

__version__ = "0.1.0"
