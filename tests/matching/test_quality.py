"""The matching figures on hand-made matches, where the right answer is known exactly."""

from __future__ import annotations

import numpy as np
import pytest

from instrument.matching import quality


def test_precision_counts_matched_categories_and_chance():
    query_truth = np.array([0, 0, 1])
    target_truth = np.array([1, 1, 0, 0])          # targets 0,1 are category 1, targets 2,3 category 0
    pairs = [(0, 1), (1, 0)]                        # query category 0 goes with target category 1
    best = np.array([[0, 1], [0, 2], [3, 2]])
    out = quality.precision(best, query_truth, target_truth, pairs)
    assert out["mean"] == pytest.approx((1 + 0.5 + 1) / 3)
    assert out["at_least_90"] == pytest.approx(2 / 3)
    assert out["chance"] == pytest.approx(0.5) and out["queries"] == 3
    # 2 picks at p = 0.5 each: both right (>= 90%) with probability 0.25
    assert out["at_least_90_chance"] == pytest.approx(0.25)


def test_queries_of_unmatched_categories_are_not_scored():
    out = quality.precision(np.array([[0], [0]]), np.array([0, 5]), np.array([1]), [(0, 1)])
    assert out["queries"] == 1 and out["mean"] == 1.0


def test_purity_does_not_care_which_category_goes_where():
    query_truth = np.repeat([0, 1], 10)
    target_truth = np.repeat([0, 1], 10)
    swapped = np.where(query_truth[:, None] == 0, 10 + np.arange(5), np.arange(5))
    out = quality.purity(swapped, query_truth, target_truth)
    assert out["mean"] == 1.0 and 0.5 <= out["chance"] < 0.75


def test_structure_is_one_for_the_identity_and_near_half_for_random(rng):
    points = rng.normal(size=(60, 3))
    best = np.arange(60)[:, None]
    same = quality.structure(points, points * 2.0, best)
    assert same["trustworthiness"] == pytest.approx(1.0)
    assert 0.35 < same["chance"] < 0.65
