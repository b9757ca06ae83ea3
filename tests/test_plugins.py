"""A package installed beside evalkit adds a task kind, a backend and a metric through entry points, and
`evalkit run` uses them like built-in ones."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PYPROJECT = """\
[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"

[project]
name = "evalkit-plugin-demo"
version = "0.1"

[project.entry-points."evalkit.kinds"]
echo_rate = "evalkit_plugin_demo:EchoKind"

[project.entry-points."evalkit.backends"]
parrot = "evalkit_plugin_demo:ParrotBackend"

[project.entry-points."evalkit.metrics"]
echoed = "evalkit_plugin_demo:ECHOED"
"""

MODULE = '''\
"""A kind that asks the model to repeat a word, and a backend that repeats the prompt's last word."""
import evalkit
from evalkit.metrics import MetricInfo, mean_metric

ECHOED = MetricInfo(higher_is_better=True, unit="proportion")


class EchoConfig(evalkit.TaskConfig):
    max_tokens: int = 4


class EchoKind(evalkit.TaskKind):
    Config = EchoConfig
    primary_metric = "echoed"

    def run(self, samples, ctx: evalkit.RunContext) -> None:
        units = [(s, [evalkit.GenerateRequest(prompt="Repeat: " + s["word"],
                                               config=evalkit.GenerationConfig(max_tokens=self.config.max_tokens))])
                 for s in samples if str(s["id"]) not in ctx.done]

        def done(s, results):
            text = results[0].texts[0]
            ctx.write({"id": s["id"], "generation": text, "echoed": float(text.strip() == s["word"])})

        ctx.stage("echo", "generate", units, done)

    def summarize(self, records):
        return {"metrics": {"echoed": mean_metric([r["echoed"] for r in records], proportion=True)}}


class ParrotBackend(evalkit.Backend):
    name = "parrot"
    remote = True  # no local weights to resolve
    scores_token_ids = False

    def __init__(self, model, **options):
        super().__init__(model)
        self.calls = 0

    def generate(self, requests, on_result=None):
        out = []
        for i, r in enumerate(requests):
            word = r.prompt.split()[-1] if r.prompt.split()[-1] != "Zebra" else "zebra"  # one miss
            g = evalkit.Generation((word,), ((1,),), 1, ("stop",))
            out.append(g)
            if on_result:
                on_result(i, g)
        return out

    def loglikelihood(self, requests, on_result=None):
        raise NotImplementedError

    def render_chat(self, messages, add_generation_prompt=True):
        return "\\n".join(c for _, c in messages)

    @property
    def chat_template(self):
        return None

    def version(self):
        return "0.1"

    def dtype_name(self):
        return "none"
'''


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory) -> Path:
    """The plugin package, built and installed by pip into a site directory of its own."""
    root = tmp_path_factory.mktemp("plugin")
    pkg = root / "src"
    pkg.mkdir()
    (pkg / "pyproject.toml").write_text(PYPROJECT)
    (pkg / "evalkit_plugin_demo.py").write_text(MODULE)
    site = root / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--no-index",
                    "--target", str(site), str(pkg)], check=True, capture_output=True)
    return site


def _evalkit(site: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "evalkit.cli", *args], capture_output=True, text=True, env=env, cwd=cwd)


def test_a_plugin_kind_and_backend_run_like_built_in_ones(plugin_site, tmp_path):
    data = tmp_path / "words.jsonl"
    data.write_text("".join(json.dumps({"id": str(i), "word": w}) + "\n" for i, w in enumerate(["Apple", "Zebra", "Kiwi"])))
    (tmp_path / "echo.yaml").write_text(textwrap.dedent(f"""\
        task: echo
        kind: echo_rate
        data: {data}
        max_tokens: 3
        """))
    r = _evalkit(plugin_site, "run", "echo.yaml", "-m", "parrot-1", "-b", "parrot", "-o", "out", "--no-cache", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["kind"] == "echo_rate" and summary["primary_metric"] == "echoed"
    m = summary["metrics"]["echoed"]
    assert m["value"] == pytest.approx(2 / 3) and m["n"] == 3
    assert m["higher_is_better"] is True and m["unit"] == "proportion"  # the plugin's metric declaration
    records = [json.loads(line) for line in (tmp_path / "out" / "records.jsonl").read_text().splitlines()]
    assert [r["generation"] for r in records] == ["Apple", "zebra", "Kiwi"]

    # a resumed run reuses it; a typo names the plugin's kind among the candidates
    again = _evalkit(plugin_site, "run", "echo.yaml", "-m", "parrot-1", "-b", "parrot", "-o", "out", "--no-cache", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "out" / "records.jsonl").read_text().count("\n") == 3
    (tmp_path / "typo.yaml").write_text(f"task: echo\nkind: echo_rat\ndata: {data}\n")
    bad = _evalkit(plugin_site, "run", "typo.yaml", "-m", "parrot-1", "-b", "parrot", cwd=tmp_path)
    assert bad.returncode == 2 and "echo_rate" in bad.stderr and "typo.yaml" in bad.stderr
    # the backend list in the help derives from the registry
    assert "parrot" in _evalkit(plugin_site, "run", "--help", cwd=tmp_path).stdout


def test_without_the_plugin_its_names_are_unknown(tmp_path):
    from evalkit.errors import EvalkitError
    from evalkit.registry import BACKENDS, KINDS

    assert "echo_rate" not in KINDS and "parrot" not in BACKENDS
    with pytest.raises(EvalkitError, match="backend 'parrot'"):
        BACKENDS.get("parrot")
