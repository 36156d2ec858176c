"""How good is a matching? Figures measured against known categories, each beside chance.

- ``precision``: share of each query's top matches whose (true) category is the one matched
  to the query's category; its chance figure is what random picks would give (the share of
  targets in the matched category, per query).
- ``purity`` (no category matching needed, so it also scores an unsupervised run): for each
  query category, the share of its top matches that fall in the one target category it is
  sent to most; chance is the same for random picks (seeded).
- ``structure`` (no categories at all): sklearn's trustworthiness (k=10) between the queries'
  own features and the features of their best match: 1 when queries that are neighbours in
  the query space got targets that are neighbours, about 0.5 for random picks (computed
  beside it with the same targets shuffled), on at most 2,000 queries (a seeded subsample).
"""

from __future__ import annotations

import numpy as np

from instrument.learn.metrics import subsample, trustworthiness

MAX_QUERIES = 2000   # structure is measured on at most this many queries (a seeded subsample)


def precision(best: np.ndarray, query_truth: np.ndarray, target_truth: np.ndarray,
              pairs: list[tuple[int, int]]) -> dict:
    """Category precision of the matches and its chance level.

    Args:
        best: (Nq, top) target indices per query.
        query_truth, target_truth: True category index of every query and target.
        pairs: (query category, target category) of the matching.

    Returns:
        {"mean", "at_least_90" (share of queries with >= 90% right), "chance" (of the mean),
        "at_least_90_chance", "queries"}.
    """
    matched = dict(pairs)
    want = np.array([matched.get(int(c), -2) for c in query_truth])
    scored = want != -2
    right = (target_truth[best[scored]] == want[scored, None]).mean(axis=1)
    share = np.array([(target_truth == w).mean() for w in want[scored]])
    # Chance of >= 90% right by random picks: the binomial tail (picks with replacement).
    from scipy.stats import binom

    top = best.shape[1]
    need = int(np.ceil(0.9 * top - 1e-9))
    tail = binom.sf(need - 1, top, share)
    return {"mean": float(right.mean()), "at_least_90": float((right >= 0.9 - 1e-9).mean()),
            "chance": float(share.mean()), "at_least_90_chance": float(tail.mean()),
            "queries": int(scored.sum())}


def purity(best: np.ndarray, query_truth: np.ndarray, target_truth: np.ndarray,
           seed: int = 0) -> dict:
    """Share of each query category's matches in its most frequent target category, and chance."""
    def score(choice: np.ndarray) -> float:
        values = []
        for c in np.unique(query_truth):
            picked = target_truth[choice[query_truth == c]].ravel()
            values.append(np.bincount(picked[picked >= 0]).max() / max(len(picked), 1))
        return float(np.mean(values))

    rng = np.random.default_rng(seed)
    chance = np.mean([score(rng.integers(0, len(target_truth), best.shape)) for _ in range(20)])
    return {"mean": score(best), "chance": float(chance)}


def structure(query_features: np.ndarray, target_features: np.ndarray, best: np.ndarray,
              seed: int = 0, k: int = 10) -> dict:
    """Trustworthiness between the query features and their best matches' features, and chance."""
    keep = subsample(len(query_features), MAX_QUERIES, seed)  # pairwise distances: N^2 memory
    queries, best = query_features[keep], best[keep]
    k = min(k, (len(queries) - 1) // 2)
    first = target_features[best[:, 0]]
    rng = np.random.default_rng(seed)
    shuffled = target_features[rng.integers(0, len(target_features), len(queries))]
    return {"trustworthiness": trustworthiness(queries, first, k),
            "chance": trustworthiness(queries, shuffled, k), "k": k, "queries": len(queries)}
