"""evalkit's built-in task kinds (registered lazily in evalkit.registry); `kind_class` looks any kind up,
including kinds other packages register under the `evalkit.kinds` entry point group."""

from __future__ import annotations

from ..kind import TaskKind
from ..registry import KINDS


def kind_class(name: str, where: str = "") -> type[TaskKind]:
    return KINDS.get(name, where)


__all__ = ["KINDS", "TaskKind", "kind_class"]
