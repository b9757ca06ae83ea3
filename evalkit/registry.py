"""One registry mechanism for everything a user can add: task kinds, backends, perturbations, code
mutations and metrics.

evalkit's own entries are registered where they are defined, with a decorator (`@register_kind("mcq")`),
or as a lazy "module:object" string where importing the module is costly (a backend pulls in torch or
vllm). Other installed packages add entries through Python entry points in the groups below, e.g. in
their pyproject.toml:

    [project.entry-points."evalkit.kinds"]
    my_kind = "my_package.kinds:MyKind"

Entry points are read on the first lookup; lists, Literal-like validations and CLI help derive from
`names()`, and an unknown name is a one-line "did you mean" error.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import warnings
from typing import Any, Callable, Generic, TypeVar

from .errors import EvalkitError, did_you_mean

T = TypeVar("T")


def load_object(ref: str) -> Any:
    """The object a "package.module:attr" string names."""
    module, _, attr = ref.partition(":")
    obj = importlib.import_module(module)
    for part in attr.split(".") if attr else ():
        obj = getattr(obj, part)
    return obj


class Registry(Generic[T]):
    """Names -> objects of one sort. `modules` are evalkit's own modules whose decorators fill the
    registry; they are imported (with the entry points) on the first lookup, so importing evalkit stays
    cheap."""

    def __init__(self, what: str, group: str, modules: tuple[str, ...] = ()):
        self.what = what  # "task kind", for messages
        self.group = group  # the entry point group
        self._modules = modules
        self._entries: dict[str, Any] = {}  # name -> object, or a lazy "module:object" string
        self._origin: dict[str, str] = {}  # name -> where it came from, for conflict messages
        self._loaded = False

    def register(self, name: str, obj: T | str | None = None, *, origin: str = "evalkit") -> Callable[[T], T] | None:
        """`registry.register("name", obj_or_"module:obj")`, or as a decorator `@registry.register("name")`."""
        if obj is None:
            def decorator(o: T) -> T:
                self._add(name, o, origin)
                return o
            return decorator
        self._add(name, obj, origin)
        return None

    def remove(self, name: str) -> None:
        """Forget `name` (a notebook or a test that registered something for a while)."""
        self._entries.pop(name, None)
        self._origin.pop(name, None)

    def _add(self, name: str, obj: Any, origin: str) -> None:
        old = self._entries.get(name)
        if old is not None and old != obj and self._resolved(old) != self._resolved(obj):
            raise EvalkitError(f"{self.what} '{name}' is registered twice ({self._origin[name]} and {origin})")
        self._entries[name] = obj
        self._origin[name] = origin

    @staticmethod
    def _resolved(obj: Any) -> Any:
        return load_object(obj) if isinstance(obj, str) else obj

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for m in self._modules:
            importlib.import_module(m)
        for ep in importlib.metadata.entry_points(group=self.group):
            origin = f"entry point '{ep.name} = {ep.value}'" + (f" of {ep.dist.name}" if ep.dist else "")
            if ep.name in self._entries:  # evalkit's own entry wins; say so instead of failing every run
                warnings.warn(f"{self.group}: {origin} ignored: '{ep.name}' is taken by {self._origin[ep.name]}", stacklevel=2)
                continue
            self._entries[ep.name] = ep.value
            self._origin[ep.name] = origin

    def names(self) -> list[str]:
        self._load()
        return list(self._entries)

    def __contains__(self, name: str) -> bool:
        self._load()
        return name in self._entries

    def __iter__(self):
        return iter(self.names())

    def __getitem__(self, name: str) -> T:
        return self.get(name)

    def get(self, name: str, where: str = "") -> T:
        """The object registered as `name` (imported now if lazy); an unknown name is an EvalkitError with
        the closest known names, prefixed by `where` (a file and field)."""
        self._load()
        if name not in self._entries:
            err = did_you_mean(self.what, name, self._entries)
            raise EvalkitError(f"{where}: {err}" if where else str(err))
        obj = self._entries[name]
        if isinstance(obj, str):
            try:
                obj = load_object(obj)
            except (ImportError, AttributeError) as e:
                raise EvalkitError(f"{self.what} '{name}' ({self._origin[name]}): cannot be loaded: {e}") from None
            self._entries[name] = obj
        return obj

    def items(self) -> list[tuple[str, T]]:
        return [(n, self.get(n)) for n in self.names()]

    def help(self) -> str:
        """'a | b | c', for CLI help."""
        return " | ".join(self.names())


KINDS: Registry = Registry("task kind", "evalkit.kinds")
BACKENDS: Registry = Registry("backend", "evalkit.backends")
PERTURBATIONS: Registry = Registry("perturbation", "evalkit.perturbations", ("evalkit.perturb",))
MUTATIONS: Registry = Registry("mutation", "evalkit.mutations", ("evalkit.code.mutations",))
METRICS: Registry = Registry("metric", "evalkit.metrics", ("evalkit.metrics",))


def register_kind(name: str, obj: Any = None):
    """Register a TaskKind subclass under `name` (decorator, or a lazy "module:Class" string)."""
    return KINDS.register(name, obj)


def register_backend(name: str, obj: Any = None):
    """Register a Backend subclass under `name` (decorator, or a lazy "module:Class" string)."""
    return BACKENDS.register(name, obj)


def register_perturbation(name: str, obj: Any = None):
    """Register an intent-preserving prompt perturbation (an object with `perturb(text, rng) -> (text, params)`)."""
    return PERTURBATIONS.register(name, obj)


def register_mutation(name: str, obj: Any = None):
    """Register a code-problem mutation."""
    return MUTATIONS.register(name, obj)


# evalkit's own kinds and backends: lazy, so `evalkit --help` imports neither torch nor any kind
for _name, _ref in [
    ("mcq", "evalkit.kinds.mcq:MCQKind"),
    ("posix", "evalkit.kinds.posix:PosixKind"),
    ("formatspread", "evalkit.kinds.formatspread:FormatSpreadKind"),
    ("judge", "evalkit.kinds.judge:JudgeKind"),
    ("tournament", "evalkit.kinds.tournament:TournamentKind"),
    ("code_mutations", "evalkit.kinds.code_mutations:CodeMutationsKind"),
    ("code_agent", "evalkit.kinds.code_agent:CodeAgentKind"),
    ("csd", "evalkit.kinds.csd:CSDKind"),
    ("lm_eval", "evalkit.kinds.lmeval:LmEvalKind"),
]:
    KINDS.register(_name, _ref)
for _name, _ref in [
    ("hf", "evalkit.backends.hf:HFBackend"),
    ("vllm", "evalkit.backends.vllm:VLLMBackend"),
    ("openai", "evalkit.backends.openai:OpenAIBackend"),
]:
    BACKENDS.register(_name, _ref)
