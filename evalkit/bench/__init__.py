"""`evalkit bench`: tokens/s and requests/s of the hf and vllm backends over a space of their inference
options (Optuna: grid, random or TPE; resumable), the best settings as `-B` flags, and the landscape.

    from evalkit.bench import run_bench
    result = run_bench("tiny-random", ["hf"], "generate", trials=4)   # result.out / "bench.json"
"""

from .measure import measure, ratio, spread, timings
from .study import BenchResult, cli_options, run_bench

__all__ = ["run_bench", "BenchResult", "cli_options", "measure", "ratio", "spread", "timings"]
