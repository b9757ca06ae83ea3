"""FormatSpread: a grammar of plausible prompt formats, sampling, and best/worst search."""

from .grammar import ATTRIBUTES, DEFAULT, Format, atomic_neighbours, is_valid, prefix_match, sample_formats
from .search import SearchResult, thompson_search

__all__ = ["ATTRIBUTES", "DEFAULT", "Format", "SearchResult", "atomic_neighbours", "is_valid",
           "prefix_match", "sample_formats", "thompson_search"]
