"""README command 1's suite end to end, at its tiny size on tiny-random (the real thing runs the
same script on SmolLM2 with the `small` sizes)."""

import json
import subprocess
import sys

import jsonschema
import pytest

from conftest import REPO
from evalkit.leaderboard import schema


def test_quickstart_tiny_end_to_end(tmp_path):
    res = subprocess.run([sys.executable, str(REPO / "scripts/quickstart.py"), "-m", "tiny-random", "--size", "tiny", "-o", "qs"],
                         capture_output=True, text=True, timeout=1200)
    assert res.returncode == 0, res.stderr[-3000:]
    out = tmp_path / "qs"
    kinds = {}
    for s in out.rglob("summary.json"):
        doc = json.loads(s.read_text())
        kinds.setdefault(doc["kind"], []).append(doc)
    assert set(kinds) == {"posix", "formatspread", "mcq", "csd", "code_mutations", "code_agent", "judge", "tournament"}
    # the suite's plain mcq run, and four prompting variants ranked by CSD
    assert sorted(d["task"] for d in kinds["mcq"]) == ["mcq", "mcq_chat", "mcq_concise", "mcq_expert", "mcq_raw"]
    assert len(kinds["csd"][0]["entries"]) == 4
    assert len(kinds["csd"][0]["rounds"]) == 5  # one round per MCQ category
    assert len(kinds["tournament"][0]["entries"]) == 5
    # the per-sample scores the leaderboard's paired bootstrap resamples average to each run's primary metric
    from evalkit.kinds import kind_class
    from evalkit.readers import iter_jsonl

    checked = 0
    for s in out.rglob("summary.json"):
        doc, recs = json.loads(s.read_text()), s.parent / "records.jsonl"
        scores = kind_class(doc["kind"]).sample_scores(doc, [r for _, _, r in iter_jsonl(recs)] if recs.exists() else [])
        if scores is not None:
            assert sum(scores.values()) / len(scores) == pytest.approx(doc["metrics"][doc["primary_metric"]]["value"]), s
            checked += 1
    assert checked >= 9  # mcq x5, posix x2, judge, code_mutations, code_agent
    board = json.loads((out / "leaderboard.json").read_text())
    jsonschema.validate(board, schema())
    assert board["schema"] == "evalkit.leaderboard/v2" and board["judge_quality"]["parse_failure_rate"] == 0.0
    assert board["rankings"][0]["method"]["type"] == "bt" and board["rankings"][0]["task"] == "tournament_variants"
    html = (out / "report.html").read_text()
    for section in ("task-posix_mcq", "task-formatspread_mcq", "task-code_mutations", "task-code_agent", "task-judge_pairs",
                    "task-tournament_variants", "task-csd_variants", "leaderboard"):
        assert f'id="{section}"' in html, section
    assert "report: qs/report.html" in res.stdout  # the suite says where the report is
    assert "suite demo: mcq, posix_mcq, formatspread_mcq x tiny-random" in res.stdout and "leaderboard · mean_win_rate" in res.stdout
    assert all(f"warning: {w}" in res.stdout.replace("\n", " ") or w[:60] in res.stdout for w in board["warnings"])
