"""Few-shot examples in evalkit's own kinds (mcq, posix, formatspread): seeded per (seed, task, sample), never
the sample itself, shown in the prompt, recorded, unchanged by a resume."""

import json

import pytest

import evalkit
from evalkit.errors import EvalkitError
from evalkit.fewshot import FewShot
from evalkit.registry import KINDS
from evalkit.tasks import load_task

ROWS = [{"id": f"q{k}", "question": f"What is {k} plus {k}?", "options": [str(2 * k), str(2 * k + 1), "7"], "gold": 0}
        for k in range(6)]


def _task(tmp_path, body: str, rows=ROWS, name="fs.yaml"):
    (tmp_path / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / name).write_text(body)
    return tmp_path / name


def _kind(path, seed=0, **overrides):
    spec = load_task(str(path), overrides)
    return KINDS.get(spec.config.kind)(spec, seed)


def _records(out):
    return [json.loads(line) for line in (out / "records.jsonl").read_text().splitlines()]


def test_draws_are_seeded_per_sample_and_never_the_sample_itself(tmp_path):
    path = _task(tmp_path, "task: fs\nkind: mcq\ndata: data.jsonl\nnum_fewshot: 2\n")
    draw = lambda kind: {s["id"]: [e["id"] for e in FewShot(kind, "question").examples(s)] for s in ROWS}  # noqa: E731
    a = draw(_kind(path))
    assert a == draw(_kind(path))  # the same seed: the same examples
    assert all(len(ids) == 2 == len(set(ids)) and sid not in ids for sid, ids in a.items())
    assert draw(_kind(path, seed=1)) != a  # another run seed, other examples
    assert draw(_kind(path, seed=1, fewshot_seed=0)) == a  # fewshot_seed, when given, is the seed of the draw
    # one sample's draw does not depend on the others (a --limit subset, a resume, another order)
    kind = _kind(path)
    assert [e["id"] for e in FewShot(kind, "question").examples(ROWS[3])] == a["q3"]
    # a pool of one other sample: exactly that one
    (tmp_path / "s").mkdir()
    small = _task(tmp_path / "s", "task: fs\nkind: mcq\ndata: data.jsonl\nnum_fewshot: 1\n", ROWS[:2])
    k2 = _kind(small)
    assert [e["id"] for e in FewShot(k2, "question").examples(ROWS[0])] == ["q1"]
    with pytest.raises(EvalkitError, match=r"data\.jsonl: field 'num_fewshot': 2 examples for sample 'q0', but only 1 other examples"):
        FewShot(_kind(small, num_fewshot=2), "question").examples(ROWS[0])


def test_a_fewshot_file_and_its_errors(tmp_path):
    shots = [{"id": "s1", "question": ROWS[0]["question"], "options": ["0", "1"], "gold": 0},  # the same question as q0
             {"id": "q0", "question": "Is the sky blue?", "options": ["yes", "no"], "gold": 0}]  # an id only: another item
    (tmp_path / "shots.jsonl").write_text("".join(json.dumps(r) + "\n" for r in shots))
    path = _task(tmp_path, "task: fs\nkind: mcq\ndata: data.jsonl\nnum_fewshot: 1\nfewshot: shots.jsonl\n")
    fs = FewShot(_kind(path), "question")
    assert [e["id"] for e in fs.examples(ROWS[0])] == ["q0"]  # never the sample's own question
    h1 = load_task(str(path)).content_hash
    (tmp_path / "shots.jsonl").write_text(json.dumps(shots[1]) + "\n")
    assert load_task(str(path)).content_hash != h1  # the examples are part of the task's identity
    with pytest.raises(EvalkitError, match=r"fs\.yaml: field 'fewshot': file not found: .*nope\.jsonl"):
        load_task(str(path), {"fewshot": "nope.jsonl"})
    with pytest.raises(EvalkitError, match=r"fs\.yaml: field 'num_fewshot': Input should be greater than or equal to 0"):
        load_task(str(path), {"num_fewshot": -1})
    # kinds that build no prompt from a sample have no few-shot fields
    csd = tmp_path / "csd.yaml"
    csd.write_text("task: c\nkind: csd\ndata: s.csv\nrounds: [[a]]\nnum_fewshot: 2\n")
    (tmp_path / "s.csv").write_text("model,a\nm1,1\nm2,2\n")
    with pytest.raises(EvalkitError, match=r"csd\.yaml: field 'num_fewshot': Extra inputs are not permitted"):
        load_task(str(csd))


def test_framing_raw_and_chat(tmp_path):
    path = _task(tmp_path, "task: fs\nkind: mcq\ndata: data.jsonl\nsystem_prompt: Be brief.\n")
    c = _kind(path).config
    shots = (("Q: a?\nA:", "x"), ("Q: b?\nA:", "y"))
    assert c.framed("Q: c?\nA:", shots) == "Be brief.\n\nQ: a?\nA: x\n\nQ: b?\nA: y\n\nQ: c?\nA:"
    assert c.framed("Q: c?\nA:") == "Be brief.\n\nQ: c?\nA:"  # zero-shot: as before
    chat = _kind(path, prompt_format="chat").config
    assert chat.framed("Q: c?", shots) == (("system", "Be brief."), ("user", "Q: a?\nA:"), ("assistant", "x"),
                                           ("user", "Q: b?\nA:"), ("assistant", "y"), ("user", "Q: c?"))


def test_mcq_prompt_shows_the_examples_records_carry_them_and_resume_keeps_them(tmp_path, tiny):
    path = _task(tmp_path, "task: fs\nkind: mcq\ndata: data.jsonl\ntemplate: \"Q: {question}\\nA:\"\nnum_fewshot: 2\n")
    full = evalkit.run(str(path), "tiny-random", out=tmp_path / "run", cache=False)
    recs = {r["id"]: r for r in _records(full.out)}
    by_id = {r["id"]: r for r in ROWS}
    for sid, r in recs.items():
        assert len(r["fewshot"]) == 2 and sid not in r["fewshot"]
        shown = "".join(f"Q: {by_id[e]['question']}\nA: {by_id[e]['options'][0]}\n\n" for e in r["fewshot"])
        assert r["prompt"] == shown + f"Q: {by_id[sid]['question']}\nA:"
    # an interrupted run resumes with the same examples for the samples still to do
    lines = (full.out / "records.jsonl").read_text().splitlines(keepends=True)
    (full.out / "records.jsonl").write_text("".join(lines[:2]))
    manifest = json.loads((full.out / "manifest.json").read_text())
    (full.out / "manifest.json").write_text(json.dumps({**manifest, "status": "running"}))
    resumed = evalkit.run(str(path), "tiny-random", out=tmp_path / "run", cache=False)
    again = {r["id"]: r for r in _records(resumed.out)}
    assert {i: (r["prompt"], r["fewshot"]) for i, r in again.items()} == {i: (r["prompt"], r["fewshot"]) for i, r in recs.items()}
    for i, r in again.items():  # other batches: the same numbers up to float noise
        assert r["loglikelihoods"] == pytest.approx(recs[i]["loglikelihoods"], abs=1e-4)
    zero = evalkit.run(str(path), "tiny-random", out=tmp_path / "zero", cache=False, overrides={"num_fewshot": 0}, limit=1)
    assert _records(zero.out)[0]["fewshot"] == [] and _records(zero.out)[0]["prompt"] == f"Q: {ROWS[0]['question']}\nA:"


def test_formatspread_shows_the_examples_in_each_format(tmp_path, tiny):
    path = _task(tmp_path, "task: fs\nkind: formatspread\ndata: data.jsonl\nn_formats: 2\nnum_fewshot: 1\n"
                           "instruction: \"Pick {labels}.\"\n")
    run = evalkit.run(str(path), "tiny-random", out=tmp_path / "run", cache=False, limit=2)
    kind = _kind(path)
    formats, _ = kind.formats(run.out, 3)
    by_id = {r["id"]: r for r in ROWS}
    recs = _records(run.out)
    assert len(recs) == 4
    for r in recs:
        f, (ex,) = formats[r["format"]], r["fewshot"]
        e = by_id[ex]
        assert ex != r["id"] and [x["fewshot"] for x in recs if x["id"] == r["id"]] == [[ex], [ex]]  # one draw per sample
        body = f.render(by_id[r["id"]]["question"], by_id[r["id"]]["options"])
        shot = f.render(e["question"], e["options"])
        lead = "" if shot[-1:].isspace() else " "
        instr = f.render(e["question"], e["options"], "Pick {labels}.")[: -len(shot)]
        assert r["prompt"] == instr + shot + lead + f.labels(3)[0] + "\n\n" + body


def test_posix_examples_lead_every_prompt_of_a_set(tmp_path, tiny):
    rows = [{"id": f"i{k}", "instruction": f"Name a colour number {k}.", "response": f"Colour {k}."} for k in range(3)]
    path = _task(tmp_path, "task: px\nkind: posix\ndata: data.jsonl\ninput: instruction\nperturbations: [spelling]\n"
                           "n_variants: 2\nmax_tokens: 3\nnum_fewshot: 1\nbootstrap: 100\n", rows)
    run = evalkit.run(str(path), "tiny-random", out=tmp_path / "run", cache=False, limit=2)
    kind = _kind(path)
    fs = FewShot(kind, "instruction")
    for r in _records(run.out):
        ids, pairs = kind.fewshot_examples(fs, next(x for x in rows if x["id"] == r["id"]))
        assert r["fewshot"] == ids and r["id"] not in ids
        ex = next(x for x in rows if x["id"] == ids[0])
        for p in r["prompts"]:  # the plain template does not end in ':': the response follows on the next line
            assert kind._generate_request(p, pairs).prompt == f"{ex['instruction']}\n{ex['response']}\n\n{p}"
    (tmp_path / "data.jsonl").write_text("".join(json.dumps({k: v for k, v in x.items() if k != "response"}) + "\n" for x in rows))
    with pytest.raises(EvalkitError, match=r"data\.jsonl: sample 'i\d': field 'response': a few-shot example needs its answer"):
        evalkit.run(str(path), "tiny-random", out=tmp_path / "run2", cache=False, limit=1)
