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


@pytest.fixture
def model_copy(tmp_path, tiny):
    import shutil

    d = tmp_path / "copy"
    shutil.copytree(tiny.path, d)
    return d


@pytest.mark.parametrize("name,edit", [
    ("config.json", lambda t: t.replace('"rms_norm_eps": 1e-06', '"rms_norm_eps": 1e-01')),
    ("generation_config.json", lambda t: t.replace("{", '{\n  "temperature": 0.5,', 1)),
    ("tokenizer_config.json", lambda t: t.replace("{", '{\n  "clean_up_tokenization_spaces": true,', 1)),
    ("tokenizer.json", lambda t: t.replace('"<|im_end|>"', '"<|im_stop|>"', 1)),
    ("chat_template.jinja", lambda t: t.replace("assistant", "helper")),
])
def test_model_identity_covers_config_tokenizer_and_template(model_copy, tiny, name, edit):
    assert weights_hash(model_copy) == tiny.weights_hash
    path = model_copy / name
    text = path.read_text()
    assert edit(text) != text, f"the edit of {name} changed nothing"
    path.write_text(edit(text))
    assert weights_hash(model_copy) != tiny.weights_hash


def test_weights_memo_is_not_fooled_by_kept_size_and_mtime(model_copy, tiny):
    import os

    w = model_copy / "model.safetensors"
    st = w.stat()
    data = bytearray(w.read_bytes())
    data[-1] ^= 0xFF  # the same size
    with open(w, "r+b") as f:
        f.write(data)
    os.utime(w, ns=(st.st_atime_ns, st.st_mtime_ns))  # and the same mtime
    assert w.stat().st_size == st.st_size and w.stat().st_mtime_ns == st.st_mtime_ns
    assert weights_hash(model_copy) != tiny.weights_hash


def test_edited_config_is_a_new_model_for_the_response_cache(model_copy):
    import evalkit

    first = evalkit.run("mcq", str(model_copy), limit=3, out=model_copy.parent / "a")
    cfg = model_copy / "config.json"
    cfg.write_text(cfg.read_text().replace('"rms_norm_eps": 1e-06', '"rms_norm_eps": 1e-01'))
    second = evalkit.run("mcq", str(model_copy), limit=3, out=model_copy.parent / "b")
    manifest = json.loads((second.out / "manifest.json").read_text())
    assert manifest["cache_hits"] == 0 and manifest["run_id"] != first.summary["run_id"]


def test_cache_dir_on_a_file_is_one_line(tmp_path, monkeypatch):
    from evalkit.models import cache_dir

    (tmp_path / "f").write_text("x")
    monkeypatch.setenv("EVALKIT_CACHE_DIR", str(tmp_path / "f"))
    with pytest.raises(EvalkitError, match=r"EVALKIT_CACHE_DIR=.*/f: not a directory"):
        cache_dir()
