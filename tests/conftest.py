import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Built models persist between test sessions (tiny-random is seeded, so a rebuild is identical);
# response caches never do: each test gets its own.
os.environ.setdefault("EVALKIT_CACHE_DIR", str(Path.home() / ".cache" / "evalkit-tests"))

REPO = Path(__file__).resolve().parent.parent
EVALKIT = str(Path(sys.executable).parent / "evalkit")


def evalkit_cli(args, capsys):
    """`evalkit ARGS` in this process: (exit code, stdout, stderr)."""
    from evalkit import cli

    sys.argv = ["evalkit", *args]
    with pytest.raises(SystemExit) as exc:
        cli.main()
    captured = capsys.readouterr()
    return exc.value.code, captured.out, captured.err


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("EVALKIT_RESPONSE_CACHE", str(tmp_path / "responses.sqlite"))
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def tiny():
    from evalkit.models import resolve_model

    return resolve_model("tiny-random")


@pytest.fixture(scope="session")
def tiny_perturbed(tiny, tmp_path_factory):
    """tiny-random with seeded perturbed weights: a second checkpoint that answers differently."""
    import shutil

    import torch
    from transformers import AutoModelForCausalLM

    out = tmp_path_factory.mktemp("models") / "tiny-perturbed"
    shutil.copytree(tiny.path, out)
    model = AutoModelForCausalLM.from_pretrained(tiny.path)
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=g) * 0.05)
    model.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def hf_tiny(tiny):
    from evalkit.backends.hf import HFBackend

    return HFBackend(tiny)


@pytest.fixture(scope="session")
def smollm():
    from evalkit.models import resolve_model

    return resolve_model("smollm2-135m-instruct")


# (context, continuation) pairs that exercise lm-eval's edge cases: shared contexts, a trailing
# space in the context, an empty context, multi-token and one-token continuations.
LL_PAIRS = [
    ("Question: What is the capital of France?\nAnswer:", " Paris"),
    ("Question: What is the capital of France?\nAnswer:", " London is a big city"),
    ("Question: What is the capital of France?\nAnswer:", " Rome"),
    ("Question: What is the capital of France?\nAnswer:", " B"),
    ("The cat sat on the ", "mat"),
    ("", "hello world"),
    ("def add(a, b):\n    return", " a + b"),
    ("12 + 30 =", " 42"),
]


@pytest.fixture
def register():
    """register(registry, name, obj): an entry in one of evalkit's registries for this test only."""
    added = []

    def add(registry, name, obj):
        registry.register(name, obj, origin="a test")
        added.append((registry, name))

    yield add
    for registry, name in added:
        registry.remove(name)
