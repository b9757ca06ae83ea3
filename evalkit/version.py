"""The version, in one place (pyproject reads it statically; modules import it without importing the package)."""

__version__ = "0.1.0"
