import json

import pytest

from evalkit.errors import EvalkitError
from evalkit.models import NAMED, _build_tiny_random, resolve_model, weights_hash


def test_tiny_random_is_deterministic(tmp_path, tiny):
    again = tmp_path / "again"
    again.mkdir()
    _build_tiny_random(again)
    assert weights_hash(again) == tiny.weights_hash
    other = tmp_path / "other"
    other.mkdir()
    _build_tiny_random(other, seed=7)
    assert weights_hash(other) != tiny.weights_hash
    cfg = json.loads((again / "config.json").read_text())
    assert cfg["num_hidden_layers"] == 2 and cfg["model_type"] == "llama"


def test_resolve_names_paths_and_errors(tmp_path, tiny):
    assert resolve_model(tiny.path).weights_hash == tiny.weights_hash  # a local checkpoint directory
    with pytest.raises(EvalkitError, match="did you mean 'tiny-random'"):
        resolve_model("tiny-randm")
    with pytest.raises(EvalkitError, match="no config.json"):
        resolve_model(str(tmp_path))
    assert resolve_model("Qwen/Qwen2.5-0.5B-Instruct").source == "hub"
    assert resolve_model("gpt-4o-mini", remote=True).source == "api"
    assert set(NAMED) == {"smollm2-135m-instruct", "tiny-random"}


@pytest.mark.smollm
def test_smollm_converts_from_the_packaged_gguf(smollm):
    cfg = json.loads(open(f"{smollm.path}/config.json").read())
    assert cfg["model_type"] == "llama" and cfg["num_hidden_layers"] == 30 and "quantization_config" not in cfg
    assert smollm.weights_hash.startswith("sha256:")
