# %% [markdown]
# # evalkit from a notebook
# The Python API in five steps: run a task, load its records and metrics as pandas DataFrames, compare
# two prompting variants, and draw one plot. Each `# %%` block is a notebook cell (Jupyter, VS Code),
# and the file also runs as a plain script:
#
#     python examples/notebook_api.py [MODEL]        # default: smollm2-135m-instruct; tests use tiny-random

# %%
import sys

import matplotlib

matplotlib.use("Agg")  # in a notebook, drop this line to see the figure inline
import matplotlib.pyplot as plt

import evalkit

MODEL = sys.argv[1] if len(sys.argv) > 1 else evalkit.DEFAULT_MODEL
LIMIT = 40

# %% Run the same multiple-choice task with raw prompts and with the chat template.
# A rerun of a finished run reads its summary back instead of recomputing.
runs = {fmt: evalkit.run("mcq", MODEL, limit=LIMIT, overrides={"prompt_format": fmt}, out=f"results/notebook/mcq-{fmt}")
        for fmt in ("raw", "chat")}
for fmt, r in runs.items():
    acc = r.summary["metrics"]["acc"]
    print(f"{fmt:>4}: acc = {acc['value']:.3f}  95% CI [{acc['ci_low']:.3f}, {acc['ci_high']:.3f}]  n = {acc['n']}")

# %% Records as a DataFrame: one row per question, with the prompt and every option's log-likelihood.
records = evalkit.load_results("results/notebook/mcq-*")
print(records[["run_id", "id", "category", "gold", "pred", "acc"]].head())

# %% Metrics as a DataFrame: one row per run x metric (breakdown levels carry axis/level).
metrics = evalkit.load_summaries("results/notebook/mcq-*")
by_category = metrics[(metrics.axis == "category") & (metrics.metric == "acc")]
table = by_category.pivot_table(index="level", columns="run_id", values="value")
print(table)

# %% One plot: accuracy by category for the two prompt formats, with 95% Wilson intervals.
fig, ax = plt.subplots(figsize=(6, 3.2))
for k, (fmt, r) in enumerate(runs.items()):
    cats = r.summary["breakdown"]["category"]
    names = sorted(cats)
    x = [i + 0.38 * k for i in range(len(names))]
    vals = [cats[c]["acc"]["value"] for c in names]
    err = [[v - cats[c]["acc"]["ci_low"] for v, c in zip(vals, names)], [cats[c]["acc"]["ci_high"] - v for v, c in zip(vals, names)]]
    ax.bar(x, vals, width=0.38, yerr=err, capsize=3, label=fmt)
ax.set_xticks([i + 0.19 for i in range(len(names))], names, rotation=20, fontsize=8)
ax.set_ylabel("accuracy")
ax.set_title(f"mcq by category · {MODEL} (first {LIMIT} questions)", fontsize=9)
ax.legend()
fig.tight_layout()
fig.savefig("results/notebook/mcq_by_category.png", dpi=110)
print("plot: results/notebook/mcq_by_category.png")
