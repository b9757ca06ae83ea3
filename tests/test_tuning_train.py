"""TRL + peft LoRA training on tiny-random (every adapter weight moves, no base weight does), the
adapter round trip into the evaluation backend, and sweep-config validation."""

import subprocess

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("trl")
pytest.importorskip("peft")

from conftest import EVALKIT  # noqa: E402

ROWS = [{"prompt": f"What is {i} + {i}?", "chosen": f"{2 * i}.", "rejected": f"{2 * i + 1}, I believe, but I am not sure."}
        for i in range(8)]
PARAMS = {"dpo": {"beta": 0.1}, "ln_dpo": {"beta": 2.5}, "ipo": {"tau": 0.1}, "simpo": {"beta": 2.0, "gamma": 1.0}}


# IPO runs through the same DPOTrainer path as DPO and LN-DPO (only loss_type differs; its formula is in
# test_tuning_losses.py); SimPO is TRL's other trainer.
@pytest.mark.parametrize("loss", ["dpo", "ln_dpo", "simpo"])
def test_lora_training_moves_every_adapter_weight_and_no_base_weight(tiny, tmp_path, loss):
    from transformers import AutoModelForCausalLM, AutoTokenizer, set_seed

    from evalkit.tuning.config import LoRASpec, TrainingSpec
    from evalkit.tuning.train import build_trainer, preference_dataset, torch_dtype, trainer_args

    set_seed(0)
    # lr 0.1: TRL's own tests' rate for tiny models (gradients are tiny); 3 steps, since LoRA's B starts
    # at zero and A only gets a gradient once B has moved.
    args = trainer_args(loss, {**PARAMS[loss], "learning_rate": 0.1}, TrainingSpec(batch_size=2, max_steps=3, max_length=64),
                        tmp_path, 0, torch_dtype("float32"))
    model = AutoModelForCausalLM.from_pretrained(tiny.path)
    trainer = build_trainer(loss, model, AutoTokenizer.from_pretrained(tiny.path), preference_dataset(ROWS, "chat"), args,
                            LoRASpec(r=4, alpha=8))
    before = {n: p.detach().clone() for n, p in trainer.model.named_parameters()}
    trainer.train()
    after = dict(trainer.model.named_parameters())
    lora = [n for n in before if "lora_" in n]
    assert len(lora) == 2 * 7 * 2  # A and B of 7 linear layers x 2 blocks ("all-linear" minus lm_head)
    for n in lora:
        assert not torch.equal(before[n], after[n]), f"adapter weight {n} did not change"
    base = [n for n in before if "lora_" not in n]
    assert base
    for n in base:
        assert torch.equal(before[n], after[n]), f"base weight {n} changed"
    assert "rewards/margins" in trainer.state.log_history[0]


def test_saved_adapter_reproduces_the_trained_policy_in_the_backend(tiny, tmp_path):
    """train() saves the adapter; the evaluation backend (peft load + in-memory merge) computes the
    same function as the trained model, and without the adapter the base model's."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from evalkit.backends.hf import HFBackend
    from evalkit.requests import LoglikelihoodRequest
    from evalkit.tuning.config import LoRASpec, TrainingSpec
    from evalkit.backends.hf import LoRAHFBackend
    from evalkit.tuning.train import train

    res = train(tiny.path, "dpo", {"beta": 0.1, "learning_rate": 0.1}, ROWS, tmp_path / "unit", 0,
                TrainingSpec(batch_size=4, max_steps=3, max_length=64), LoRASpec(r=4, alpha=8))
    assert (res.adapter_dir / "adapter_model.safetensors").exists()
    assert res.metrics["train_rewards_margins"] == res.log_history[-2]["rewards/margins"]
    # read back, not retrained
    again = train(tiny.path, "dpo", {"beta": 0.1, "learning_rate": 0.1}, ROWS, tmp_path / "unit", 0,
                  TrainingSpec(batch_size=4, max_steps=3, max_length=64), LoRASpec(r=4, alpha=8))
    assert again.seconds == res.seconds

    unmerged = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny.path), str(res.adapter_dir)).eval()
    bos = unmerged.config.bos_token_id  # an empty context is the BOS token
    ids = torch.tensor([[bos, 50, 60, 70, 80, 90]])
    with torch.no_grad():
        want = torch.log_softmax(unmerged(ids).logits[0, :-1], -1).gather(-1, ids[0, 1:, None]).sum()
    req = LoglikelihoodRequest(context="", continuation_ids=(50, 60, 70, 80, 90))
    policy = LoRAHFBackend(tiny, res.adapter_dir)
    got = policy.loglikelihood([req])[0].logprob
    base = HFBackend(tiny).loglikelihood([req])[0].logprob
    assert got == pytest.approx(float(want), abs=1e-3)
    assert abs(got - base) > 1e-3  # the adapter changed the function
    assert policy.identity()["adapter_hash"].startswith("sha256:")


def _write(tmp_path, text):
    (tmp_path / "prefs.jsonl").write_text('{"id": "a", "family": "f", "split": "train", "prompt": "p", "chosen": "c", "rejected": "r"}\n')
    p = tmp_path / "sweep.yaml"
    p.write_text(text)
    return p


GOOD = "model: tiny-random\ndata: {path: prefs.jsonl}\nmethods:\n  dpo:\n    space: {beta: [0.1, 0.5], learning_rate: [0.01]}\n"


def test_config_resolves_spaces_and_defaults(tmp_path):
    from evalkit.tuning.config import load_sweep

    sw = load_sweep(_write(tmp_path, GOOD + "  ln_dpo: {}\n  simpo:\n    space: {gamma: [0.5, 1.0]}\n"))
    by = {m.name: m for m in sw.methods}
    assert by["dpo"].grid() == {"beta": [0.1, 0.5], "learning_rate": [0.01]} and by["dpo"].n_trials == 2
    assert by["ln_dpo"].space == {"beta": 2.5, "learning_rate": 5e-5} and by["ln_dpo"].n_trials == 1
    assert by["simpo"].space["beta"] == 2.0 and by["simpo"].n_trials == 2
    assert sw.name == "sweep" and sw.data_path == (tmp_path / "prefs.jsonl").resolve()


@pytest.mark.parametrize("extra, field", [
    ("  ipo:\n    space: {beta: [0.1]}\n", "methods.ipo.space.beta"),  # IPO's parameter is tau
    ("  dpo2:\n    loss: kto\n", "methods.dpo2.loss"),
    ("  dpo3:\n    loss: dpo\n    space: {beta: {low: 0.01, high: 0.1}}\n", "methods.dpo3.space.beta"),  # a range on a grid
    ("  dpo4:\n    loss: dpo\n    space: {learning_rate: [-1]}\n", "methods.dpo4.space.learning_rate"),
    ("eval: {score: win_rate_vs_sft, judge: {enabled: false}}\n", "eval"),
    ("seeds: {tuning: [0, 1], test: [1]}\n", "seeds"),
    ("training: {batch_size: 0}\n", "training.batch_size"),
    ("sampler: {type: tpe}\n", "methods.dpo.n_trials"),
])
def test_bad_config_names_file_and_field(tmp_path, extra, field):
    from evalkit.errors import EvalkitError
    from evalkit.tuning.config import load_sweep

    with pytest.raises(EvalkitError) as e:
        load_sweep(_write(tmp_path, GOOD + extra))
    assert str(tmp_path / "sweep.yaml") in str(e.value) and f"field '{field}'" in str(e.value)


def test_cli_bad_config_exits_2_with_one_line(tmp_path):
    p = _write(tmp_path, GOOD.replace("prefs.jsonl", "missing.jsonl"))
    r = subprocess.run([EVALKIT, "sweep", str(p)], capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "field 'data.path'" in r.stderr and "Traceback" not in r.stderr
