"""Perturbations and code mutations as registered objects, drawn by name-derived seeds: adding one changes no
existing draw (and `mixed` only where the new type wins a draw); one from another package (an entry point)
runs in a posix task like a built-in one."""

import json
import os
import subprocess
import textwrap

import pytest

from conftest import EVALKIT, REPO
from evalkit.code import mutations as M
from evalkit.errors import EvalkitError
from evalkit.perturb import Perturbation, PromptBuilder, Spelling
from evalkit.registry import MUTATIONS, PERTURBATIONS
from evalkit.seeding import rng as derived_rng
from evalkit.tasks import load_task

MCQ = [json.loads(x) for x in (REPO / "tasks/data/mcq.jsonl").read_text().splitlines()[:40]]
BUILT_IN = ["spelling", "template", "paraphrase", "robustness", "mixed"]


class Shout(Perturbation):
    """A test type: one random word of the text in capitals. `won` records the draws it was picked for
    (sample id, "mixed:k:attempt"), accepted or not (a variant equal to an earlier prompt is drawn again)."""

    won: set = set()

    def variant(self, prompt, rng):
        self.won.add((prompt.sample["id"], prompt.tag))
        return super().variant(prompt, rng)

    def perturb(self, text, rng):
        words = text.split(" ")
        k = int(rng.integers(0, len(words)))
        return " ".join(w.upper() if i == k else w for i, w in enumerate(words)), {"word": k}


def _sets(builder):
    return {(p, r["id"]): builder.prompt_set(r, p, 5) for p in BUILT_IN for r in MCQ}


def test_adding_a_perturbation_changes_no_other_draw(register):
    before = _sets(PromptBuilder("mcq", "t", seed=0))
    hash_before = load_task("posix_mcq").content_hash
    register(PERTURBATIONS, "shout", Shout)
    builder = PromptBuilder("mcq", "t", seed=0)
    assert builder.mixed == ["spelling", "template", "paraphrase", "robustness", "shout"]  # a default member of mixed
    after = _sets(builder)
    # the mixed members are part of the task config, so the run id changes with them
    spec = load_task("posix_mcq")
    assert spec.config.mixed[-1] == "shout" and spec.content_hash != hash_before
    changed, won = 0, 0
    for (p, sid), new in after.items():
        old = before[(p, sid)]
        if p != "mixed":  # every draw of every other type is the same, params included
            assert [(v.prompt, v.params) for v in new] == [(v.prompt, v.params) for v in old], (p, sid)
            continue
        ks = [int(tag.split(":")[1]) for i, tag in Shout.won if i == sid]
        if not ks:  # a set the new type wins no draw of is unchanged
            assert [(v.prompt, v.params) for v in new] == [(v.prompt, v.params) for v in old], sid
        else:  # the draws before its first win are unchanged
            assert [v.prompt for v in new[: min(ks)]] == [v.prompt for v in old[: min(ks)]], sid
        won += bool(ks)
        changed += [v.prompt for v in new] != [v.prompt for v in old]
    # rendezvous: shout takes about 1/5 of the 4 draws per set, so about 1 - (4/5)^4 = 59% of the sets
    assert 0 < changed <= won < len(MCQ)
    # draw k's attempt a of a type comes from rng(seed, task, sample id, "NAME:k:a"): its name, not a position
    s = MCQ[0]
    text, _ = Spelling(0.1).perturb(s["question"], derived_rng(0, "t", str(s["id"]), "spelling:1:0"))
    assert after[("spelling", s["id"])][1].prompt == builder.render(s, builder.templates[0], text)


def test_config_names_come_from_the_registry(register, tmp_path):
    with pytest.raises(EvalkitError, match=r"posix_mcq.yaml: field 'perturbations': unknown perturbation 'shoutt'"):
        load_task("posix_mcq", {"perturbations": ["shoutt"]})
    register(PERTURBATIONS, "shout", Shout)
    with pytest.raises(EvalkitError, match=r"field 'perturbations': unknown perturbation 'shoutt'; did you mean 'shout'\?$"):
        load_task("posix_mcq", {"perturbations": ["shoutt"]})
    assert load_task("posix_mcq", {"perturbations": ["shout"], "mixed": ["shout", "spelling"]}).config.mixed == ["shout", "spelling"]
    with pytest.raises(EvalkitError, match=r"field 'mixed': perturbation 'user' cannot be a member of mixed"):
        load_task("posix_mcq", {"mixed": ["spelling", "user"]})
    task = tmp_path / "cm.yaml"
    task.write_text(f"task: cm\nkind: code_mutations\ndata: {REPO}/tasks/data/leetcode50.jsonl\nmutations: {{typoo: [1]}}\n")
    with pytest.raises(EvalkitError, match=r"cm.yaml: field 'mutations': unknown mutation 'typoo'; did you mean 'typo'\?$"):
        load_task(str(task))


def test_entry_point_perturbation_in_a_posix_run(tmp_path):
    """A package that declares `shout` under the entry point group evalkit.perturbations (a dist-info on the
    path, as pip would install it) is a perturbation of `evalkit run` like a built-in one."""
    pkg = tmp_path / "site"
    (pkg / "shout_pkg").mkdir(parents=True)
    (pkg / "shout_pkg/__init__.py").write_text(textwrap.dedent('''
        class Shout:  # no evalkit base class: perturb(text, rng) is all a perturbation needs
            def perturb(self, text, rng):
                words = text.split(" ")
                k = int(rng.integers(0, len(words)))
                return " ".join(w.upper() if i == k else w for i, w in enumerate(words)), {"word": k}
    '''))
    info = pkg / "shout_pkg-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: shout-pkg\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[evalkit.perturbations]\nshout = shout_pkg:Shout\n")
    env = {**os.environ, "PYTHONPATH": str(pkg)}
    res = subprocess.run([EVALKIT, "run", "posix_mcq", "-m", "tiny-random", "--limit", "2", "-q", "-o", "p",
                          "-T", "perturbations=[shout]", "-T", "n_variants=3", "-T", "max_tokens=4"],
                         capture_output=True, text=True, env=env)
    assert res.returncode == 0, res.stderr
    summary = json.loads((tmp_path / "p/summary.json").read_text())
    assert set(summary["breakdown"]["perturbation"]) == {"shout"}
    assert summary["breakdown"]["perturbation"]["shout"]["posix"]["n"] == 2
    records = [json.loads(x) for x in (tmp_path / "p/records.jsonl").read_text().splitlines()]
    shout = [r for r in records if r["variant"] == "shout"]
    assert len(shout) == 2 and all(p["type"] == "shout" and "word" in p for r in shout for p in r["variant_params"][1:])
    assert all(any(w.isupper() and len(w) > 1 for w in r["prompts"][1].split()) for r in shout)
    manifest = json.loads((tmp_path / "p/manifest.json").read_text())
    assert manifest["task"]["config"]["mixed"] == ["spelling", "template", "paraphrase", "robustness", "shout"]
    res = subprocess.run([EVALKIT, "run", "posix_mcq", "-m", "tiny-random", "-q", "-T", "perturbations=[shuot]"],
                         capture_output=True, text=True, env=env)
    assert res.returncode == 2 and "did you mean 'shout'?" in res.stderr and len(res.stderr.strip().splitlines()) == 1


class SwapCase(M.Mutation):
    """A test mutation: one random word of the statement with its case swapped."""

    levels, level_meaning = (0, 1), "ignored"

    def perturb(self, text, rng):
        words = text.split(" ")
        k = int(rng.integers(0, len(words)))
        return " ".join(w.swapcase() if i == k else w for i, w in enumerate(words)), {"word": k}


def test_adding_a_mutation_changes_no_other_draw(register, tmp_path):
    rows = [json.loads(x) for x in (REPO / "tasks/data/leetcode50.jsonl").read_text().splitlines()[:12]]

    def draws():
        return {(r["task_id"], n, lv, v): M.mutate(r, n, lv, seed=0, variant=v).to_dict()
                for r in rows for n in list(MUTATIONS) if n != "swapcase" and M.applicable(r, n)
                for lv in MUTATIONS[n].levels for v in (0, 1)}

    before = draws()
    register(MUTATIONS, "swapcase", SwapCase)
    assert draws() == before
    assert "swapcase" in M.preserving()
    mp = M.mutate(rows[0], "swapcase", 1, seed=0)
    assert mp.statement != rows[0]["statement"] and mp.oracle == "original" and mp.record["word"] >= 0
    assert mp.statement == SwapCase(1).perturb(rows[0]["statement"], derived_rng(0, rows[0]["task_id"], "swapcase", "L1:v0"))[0]
    with pytest.raises(EvalkitError, match=r"mutation 'swapcase': level must be one of \[0, 1\]"):
        M.mutate(rows[0], "swapcase", 2)
    # ... and runs in a code_mutations task: generated, executed, scored and reported per mutation
    import evalkit

    task = tmp_path / "cm.yaml"
    task.write_text(f"task: cm\nkind: code_mutations\ndata: {REPO}/tasks/data/leetcode50.jsonl\n"
                    "mutations: {swapcase: [0], typo: [1]}\nmax_tokens: 8\n")
    s = evalkit.run(str(task), "tiny-random", limit=1, out=tmp_path / "cm").summary
    assert set(s["breakdown"]["mutation"]) == {"swapcase", "typo"} and "robust_pass@1" in s["breakdown"]["mutation"]["swapcase"]
