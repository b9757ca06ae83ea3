"""`-b auto`: vLLM where it is installed and usable here, else hf; the run records the engine that ran."""

import json

import pytest

import evalkit

from conftest import evalkit_cli
from evalkit.backends import resolve_backend
from evalkit.backends import vllm as vllm_module


@pytest.fixture
def vllm_usable(monkeypatch):
    def set_reason(reason):
        monkeypatch.setattr(vllm_module, "unusable_reason", lambda: reason)

    return set_reason


def test_auto_resolves_to_vllm_only_when_usable(vllm_usable):
    vllm_usable(None)
    assert resolve_backend("auto") == "vllm"
    vllm_usable("vLLM is not installed")
    assert resolve_backend("auto") == "hf"
    assert [resolve_backend(b) for b in ("hf", "vllm", "openai")] == ["hf", "vllm", "openai"]


def test_unusable_reason_names_a_missing_install(monkeypatch):
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    assert vllm_module.unusable_reason.__wrapped__() == "vLLM is not installed"


def test_backend_options_are_checked_against_the_resolved_backend(vllm_usable):
    from evalkit.cli import _backend_options
    from evalkit.errors import EvalkitError

    vllm_usable(None)
    assert _backend_options("auto", ["tensor_parallel_size=1"]) == {"tensor_parallel_size": 1}
    vllm_usable("vLLM is not installed")
    with pytest.raises(EvalkitError, match="unknown option for backend 'hf'"):
        _backend_options("auto", ["tensor_parallel_size=1"])


def test_run_with_auto_records_the_backend_that_ran(vllm_usable, tmp_path, capsys):
    vllm_usable("vLLM is not installed")
    code, out, _ = evalkit_cli(["run", "mcq", "-m", "tiny-random", "-b", "auto", "--limit", "2", "--json", "-o", str(tmp_path / "r")], capsys)
    assert code == 0
    assert json.loads(out)["backend"] == "hf"
    manifest = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert manifest["backend"] == "hf"


def test_a_suite_row_says_which_backend_ran(vllm_usable, tmp_path):
    vllm_usable("vLLM is not installed")
    df = evalkit.run_suite(["mcq"], [{"model": "tiny-random", "backend": "auto"}], limit=2, out=tmp_path, quiet=True)
    assert df["status"].tolist() == ["complete"] and df["backend"].tolist() == ["hf"]
