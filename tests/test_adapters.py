"""LoRA adapters as players of the run's model: a peft adapter on tiny-random in a tournament (hf), its
identity in the run id and the cache, resume, bad input, and the vLLM LoRA path against HF's merged one."""

import json
import subprocess
from pathlib import Path

import pytest

from conftest import EVALKIT

pytest.importorskip("peft")


def make_adapter(base_path: str, out: Path, seed: int, scale: float = 0.5) -> Path:
    """A rank-4 LoRA on every linear layer with random B (peft initialises B at zero: a no-op adapter)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = get_peft_model(AutoModelForCausalLM.from_pretrained(base_path), LoraConfig(r=4, lora_alpha=8, target_modules="all-linear"))
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.copy_(torch.randn(p.shape, generator=g) * scale)
    model.save_pretrained(out)
    return out


def _tournament(tmp_path: Path, adapter: Path) -> Path:
    (tmp_path / "prompts.jsonl").write_text("".join(json.dumps({"id": f"p{i}", "instruction": f"Question {i}?"}) + "\n" for i in range(4)))
    path = tmp_path / "tour.yaml"
    path.write_text(
        "task: tour_lora\nkind: tournament\ndata: prompts.jsonl\nprompts_per_match: 2\nmax_tokens: 8\njudge_verdict: logprob\n"
        f"judge_combine: average\nn_boot: 20\nplayers:\n  - {{name: chat}}\n  - {{name: raw, prompt_format: raw}}\n"
        f"  - {{name: tuned, adapter: {adapter}}}\n")
    return path


def _run(*args, cwd=None):
    return subprocess.run([EVALKIT, "run", *args], capture_output=True, text=True, cwd=cwd)


def _records(out: Path) -> list[dict]:
    return [json.loads(x) for x in (out / "records.jsonl").read_text().splitlines()]


def test_adapter_player_in_a_tournament_resumes_and_is_part_of_the_run_identity(tmp_path, tiny):
    adapter = make_adapter(tiny.path, tmp_path / "adapter", seed=0)
    task = _tournament(tmp_path, adapter)
    res = _run(str(task), "-m", "tiny-random", "-q", "--json")
    assert res.returncode == 0, res.stderr
    out = Path(json.loads(res.stdout)["out"])
    summary = json.loads((out / "summary.json").read_text())
    assert sorted(e["model"] for e in summary["entries"]) == ["chat", "raw", "tuned"]
    responses = {(r["player"], r["id"]): r["response"] for r in _records(out) if r["type"] == "response"}
    # same prompts, same prompting, greedy: only the adapter's weights can make the answers differ
    assert sum(responses[("tuned", f"p{i}")] != responses[("chat", f"p{i}")] for i in range(4)) >= 3
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["adapters"]["tuned"]["path"] == str(adapter.resolve())
    assert manifest["adapters"]["tuned"]["hash"].startswith("sha256:")

    # a finished run is found again; resuming after losing the last records finishes them, nothing twice
    records = (out / "records.jsonl").read_text().splitlines()
    (out / "records.jsonl").write_text("\n".join(records[:-3]) + "\n")
    manifest["status"] = "running"
    (out / "manifest.json").write_text(json.dumps(manifest))
    res = _run(str(task), "-m", "tiny-random", "-q", "--json")
    assert res.returncode == 0, res.stderr
    again = _records(out)
    assert len(again) == len(records) and len({(r["id"], r["variant"]) for r in again}) == len(records)

    # other weights at the same path are another run (and another cache namespace)
    make_adapter(tiny.path, adapter, seed=1)
    res = _run(str(task), "-m", "tiny-random", "-q", "--json")
    assert res.returncode == 0, res.stderr
    other = Path(json.loads(res.stdout)["out"])
    assert other != out
    changed = {(r["player"], r["id"]): r["response"] for r in _records(other) if r["type"] == "response"}
    assert any(changed[("tuned", f"p{i}")] != responses[("tuned", f"p{i}")] for i in range(4))
    assert all(changed[("chat", f"p{i}")] == responses[("chat", f"p{i}")] for i in range(4))


def test_bad_adapters_are_one_line_errors(tmp_path, tiny):
    task = _tournament(tmp_path, tmp_path / "missing")
    res = _run(str(task), "-m", "tiny-random", "-q")
    assert res.returncode == 2 and "field 'players' (tuned): adapter: not a peft adapter directory" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1

    # an adapter whose recorded base is another local checkpoint
    adapter = make_adapter(tiny.path, tmp_path / "adapter", seed=0)
    other = tmp_path / "other-base"
    other.mkdir()
    (other / "model.safetensors").write_bytes(b"not the run's weights")
    cfg = json.loads((adapter / "adapter_config.json").read_text())
    (adapter / "adapter_config.json").write_text(json.dumps({**cfg, "base_model_name_or_path": str(other)}))
    res = _run(str(_tournament(tmp_path, adapter)), "-m", "tiny-random", "-q")
    assert res.returncode == 2 and "field 'base_model_name_or_path'" in res.stderr and "tiny-random" in res.stderr

    res = _run(str(task), "-m", "tiny-random", "-q", "-T", f"sweep={tmp_path}", "-T", "players=[{name: a}, {name: b}]")
    assert res.returncode == 2 and "field 'sweep'" in res.stderr

    good = make_adapter(tiny.path, tmp_path / "good", seed=0)
    res = _run(str(_tournament(tmp_path, good)), "-m", "tiny-random", "-q", "-b", "openai", "-B", "base_url=http://127.0.0.1:9/v1")
    assert res.returncode == 2 and "run on the hf or vllm backends" in res.stderr


@pytest.mark.vllm
def test_vllm_lora_generation_matches_hf_merged_adapter(tmp_path, tiny):
    pytest.importorskip("vllm")
    from evalkit.backends import lora_engine_options, with_adapter
    from evalkit.backends.hf import HFBackend
    from evalkit.backends.vllm import VLLMBackend
    from evalkit.errors import EvalkitError
    from evalkit.requests import GenerateRequest, GenerationConfig, LoglikelihoodRequest

    adapter = make_adapter(tiny.path, tmp_path / "adapter", seed=0, scale=0.2)
    gen = [GenerateRequest(prompt=p, config=GenerationConfig(max_tokens=8)) for p in ("Hello there", "def f(x):")]
    ll = [LoglikelihoodRequest("The quick brown fox", " jumps over"), LoglikelihoodRequest("Question:", " 2 + 2")]
    engine = VLLMBackend(tiny, **lora_engine_options([adapter]))
    try:
        view = with_adapter(engine, adapter, {}, lora_id=1)
        v_gen, base_gen = view.generate(gen), engine.generate(gen)
        assert view.identity()["adapter_hash"] != engine.identity().get("adapter_hash")
        with pytest.raises(EvalkitError, match="vllm#16668"):  # vLLM's prompt log-probs ignore the adapter's mapping
            view.loglikelihood(ll)
    finally:
        engine.close()
    hf = with_adapter(HFBackend(tiny), adapter, {}, lora_id=1)
    h_gen = hf.generate(gen)
    assert [g.token_ids for g in v_gen] == [g.token_ids for g in h_gen]
    assert [g.token_ids for g in base_gen] != [g.token_ids for g in v_gen]  # the adapter is applied
    assert hf.loglikelihood(ll)[0].n_tokens > 0
