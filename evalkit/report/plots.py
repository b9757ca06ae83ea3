"""The report's images: PNGs the commands wrote, checked and inlined as data URIs, and the ones that are
missing drawn again from the stored summaries by the same plotting code that wrote them in the first
place (each kind's `plot`)."""

from __future__ import annotations

import base64
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..readers import iter_jsonl
from .sources import Source

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Image:
    name: str  # file stem: 'posix_by_perturbation', 'fsa_scatter', ...
    png: bytes
    origin: str  # 'stored' (read from the results) or 'drawn' (by the report, from the summary)
    width: int
    height: int

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


def png_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from the IHDR chunk, or None when the bytes are not a PNG."""
    if len(data) < 33 or not data.startswith(PNG_MAGIC) or data[12:16] != b"IHDR":
        return None
    w, h = struct.unpack(">II", data[16:24])
    return (w, h) if w > 0 and h > 0 else None


def read_png(path: Path, name: str | None = None, origin: str = "stored") -> Image | None:
    """The file as an Image; None when it is missing or not a valid PNG (then the caller draws it)."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    size = png_size(data)
    if size is None:
        return None
    return Image(name or path.stem, data, origin, *size)


def _records(src: Source) -> list[dict]:
    path = src.dir / "records.jsonl"
    return [doc for _, _, doc in iter_jsonl(path)] if path.is_file() else []


class DrawError(Exception):
    """A missing plot could not be drawn from the stored data; the report says so where it would be."""


def _draw(src: Source, what: str, write) -> dict[str, Image]:
    """Run a writer that saves PNGs into a directory; return the PNGs it wrote, by stem."""
    with tempfile.TemporaryDirectory(prefix="evalkit-report-") as tmp:
        try:
            write(Path(tmp))
        except KeyError as e:
            raise DrawError(f"could not draw {what} from {src.path}: field {e} is missing") from None
        except (TypeError, ValueError, IndexError, AttributeError, ZeroDivisionError) as e:
            raise DrawError(f"could not draw {what} from {src.path}: {type(e).__name__}: {e}") from None
        out = {}
        for p in sorted(Path(tmp).rglob("*.png")):
            img = read_png(p, origin="drawn")
            if img is not None:
                out[img.name] = img
        return out


def redraw(src: Source, plot, what: str) -> dict[str, Image]:
    """The PNGs a presentation's `plot(summary, records, out)` writes, drawn again from the stored summary
    and records (the plots read only those)."""
    return _draw(src, what, lambda tmp: plot(src.doc, _records(src), tmp))


def redraw_ratings(src: Source, entries: list[dict], title: str, xlabel: str = "rating") -> dict[str, Image]:
    from ..tournaments.plots import ratings_plot

    return _draw(src, "the ratings plot", lambda tmp: ratings_plot(entries, tmp / "ratings.png", title, xlabel=xlabel))
