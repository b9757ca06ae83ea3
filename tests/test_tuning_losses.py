"""TRL's own loss code on hand-computed log-probs: LN-DPO (`sigmoid_norm`), DPO (`sigmoid`) and IPO
through DPOTrainer's loss, SimPO through CPOTrainer's, each against the formula of
research/preference_sweeps.md §1-2 written out in plain Python."""

import math

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("trl")

BETA = 2.0
# Two preference pairs. Per completion token: the policy's and the reference's log-probs
# (the reference only enters as the summed log-prob, as TRL takes it when precomputed).
CHOSEN = [[-0.5, -1.0, -0.25], [-2.0, -0.5, -0.75, -1.5, -0.25]]
REJECTED = [[-1.5, -2.0, -0.5, -1.0, -3.0], [-0.5, -1.25]]
REF_CHOSEN = [-2.5, -4.0]  # Σ log π_ref(y_w|x)
REF_REJECTED = [-6.0, -2.5]


def _logsig(x):
    return -math.log1p(math.exp(-x))


def _deltas():
    """Δ_w, Δ_l (summed log-ratios) and the completion lengths, per pair."""
    dw = [sum(c) - r for c, r in zip(CHOSEN, REF_CHOSEN)]
    dl = [sum(c) - r for c, r in zip(REJECTED, REF_REJECTED)]
    return dw, dl, [len(c) for c in CHOSEN], [len(c) for c in REJECTED]


@pytest.fixture(scope="module")
def dpo_trainer(tiny, tmp_path_factory):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from evalkit.tuning.config import TrainingSpec
    from evalkit.tuning.train import build_trainer, preference_dataset, torch_dtype, trainer_args

    rows = [{"prompt": "1+1?", "chosen": "2", "rejected": "3"}] * 2
    args = trainer_args("ln_dpo", {"beta": BETA, "learning_rate": 1e-3}, TrainingSpec(max_steps=1), tmp_path_factory.mktemp("t"), 0,
                        torch_dtype("float32"))
    model = AutoModelForCausalLM.from_pretrained(tiny.path)
    tr = build_trainer("ln_dpo", model, AutoTokenizer.from_pretrained(tiny.path), preference_dataset(rows, "chat"), args, lora=None)
    tr.precompute_ref_logps = True  # the reference log-probs come in the batch: hand-set below
    return tr


def _batch():
    """input ids / masks of [chosen..., rejected...] with a 2-token prompt, and a fake model whose
    per-token log-probs are the hand-set values at completion positions (0 elsewhere, as TRL's fused
    LM head returns them)."""
    from trl.trainer.utils import FusedCausalLMOutput

    comps = CHOSEN + REJECTED
    width = 2 + max(len(c) for c in comps)
    mask = torch.zeros(len(comps), width, dtype=torch.long)
    lp = torch.zeros(len(comps), width - 1)
    for i, c in enumerate(comps):
        mask[i, 2 : 2 + len(c)] = 1
        lp[i, 1 : 1 + len(c)] = torch.tensor(c)  # position t-1 predicts token t
    inputs = {"input_ids": torch.ones(len(comps), width, dtype=torch.long), "attention_mask": torch.ones(len(comps), width, dtype=torch.long),
              "completion_mask": mask, "ref_chosen_logps": torch.tensor(REF_CHOSEN), "ref_rejected_logps": torch.tensor(REF_REJECTED)}

    class Fake(torch.nn.Module):
        def forward(self, input_ids, labels=None, fused_lm_head=False, **kw):
            z = torch.zeros_like(lp)
            return FusedCausalLMOutput(log_probs=lp.clone(), entropy=z, mean_logits=z, is_top1=z.bool(), label_mask=(labels[:, 1:] != -100))

    return Fake(), inputs


@pytest.mark.parametrize("loss_type", ["sigmoid_norm", "sigmoid", "ipo"])
def test_dpo_family_losses_equal_the_formula(dpo_trainer, loss_type):
    dw, dl, nw, nl = _deltas()
    if loss_type == "sigmoid_norm":  # LN-DPO: each side's log-ratio divided by its own length, inside the logit
        want = [-_logsig(BETA * (w / a - lo / b)) for w, lo, a, b in zip(dw, dl, nw, nl)]
    elif loss_type == "sigmoid":  # DPO
        want = [-_logsig(BETA * (w - lo)) for w, lo in zip(dw, dl)]
    else:  # IPO with τ = beta, on length-averaged log-ratios (TRL's form)
        want = [(w / a - lo / b - 1 / (2 * BETA)) ** 2 for w, lo, a, b in zip(dw, dl, nw, nl)]
    dpo_trainer.loss_types, dpo_trainer.loss_weights = [loss_type], [1.0]
    model, inputs = _batch()
    loss = dpo_trainer._compute_loss(model, inputs, return_outputs=False)
    assert float(loss) == pytest.approx(sum(want) / len(want), rel=1e-6)


def test_ln_dpo_differs_from_dpo_on_unequal_lengths():
    dw, dl, nw, nl = _deltas()
    ln = [-_logsig(BETA * (w / a - lo / b)) for w, lo, a, b in zip(dw, dl, nw, nl)]
    plain = [-_logsig(BETA * (w - lo)) for w, lo in zip(dw, dl)]
    assert abs(sum(ln) - sum(plain)) > 0.1


def test_simpo_loss_equals_the_formula(tiny, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl.experimental.cpo import CPOTrainer

    from evalkit.tuning.config import TrainingSpec
    from evalkit.tuning.train import build_trainer, preference_dataset, torch_dtype, trainer_args

    gamma = 0.8
    args = trainer_args("simpo", {"beta": BETA, "gamma": gamma, "learning_rate": 1e-3}, TrainingSpec(max_steps=1), tmp_path, 0,
                        torch_dtype("float32"))
    assert args.loss_type == "simpo" and args.cpo_alpha == 0.0 and args.simpo_gamma == gamma
    # TRL's per-token averaging (get_batch_logps with average_log_prob=True) on hand-made logits:
    # uniform logits over a vocabulary of 4 give log(1/4) per token whatever the label.
    logits = torch.zeros(1, 4, 4)
    labels = torch.tensor([[-100, 1, 2, -100]])
    avg = CPOTrainer.get_batch_logps(logits, labels, average_log_prob=True)
    assert float(avg[0]) == pytest.approx(math.log(0.25))
    # the loss itself on the length-averaged log-probs of the two pairs
    avg_w = [sum(c) / len(c) for c in CHOSEN]
    avg_l = [sum(c) / len(c) for c in REJECTED]
    rows = [{"prompt": "1+1?", "chosen": "2", "rejected": "3"}] * 2
    trainer = build_trainer("simpo", AutoModelForCausalLM.from_pretrained(tiny.path), AutoTokenizer.from_pretrained(tiny.path),
                            preference_dataset(rows, "chat"), args, lora=None)
    losses, _, _ = trainer.cpo_loss(torch.tensor(avg_w), torch.tensor(avg_l))
    want = [-_logsig(BETA * w - BETA * lo - gamma) for w, lo in zip(avg_w, avg_l)]
    assert losses.tolist() == pytest.approx(want, rel=1e-6)
