"""A channel's learned preferences (bot/relevance/preferences.py) on synthetic paper vectors: papers like the
ones the channel saved rise, papers like the dismissed ones fall, papers left alone move nothing, and the
correction stays a bounded nudge."""

from __future__ import annotations

import time

import numpy as np
import pytest
from numpy.typing import NDArray

from bot.relevance import preferences
from bot.relevance.preferences import MAX_DELTA, MAX_SHIFT, ChannelModel, Example

D = 384
RNG_SEED = 7


def unit(x: NDArray[np.float64]) -> NDArray[np.float32]:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


class Space:
    """Unit vectors like a sentence encoder's for one field: a shared component, a subject direction, noise."""

    def __init__(self, seed: int = RNG_SEED) -> None:
        self.rng = np.random.default_rng(seed)
        self.field = unit(self.rng.normal(size=D))
        self.liked, self.disliked = unit(self.rng.normal(size=D)), unit(self.rng.normal(size=D))

    def around(self, subject: NDArray[np.float32] | None, n: int) -> NDArray[np.float32]:
        topic = subject if subject is not None else unit(self.rng.normal(size=(n, D)))
        return unit(0.7 * self.field + 0.5 * topic + 0.6 * self.rng.normal(size=(n, D)) / np.sqrt(D))

    def examples(self, saved: int = 12, dismissed: int = 12, ignored: int = 40, base: float = 1.5) -> list[Example]:
        found = [Example(v, base, 1.0, 1.0) for v in self.around(self.liked, saved)]
        found += [Example(v, base, 0.0, 1.0) for v in self.around(self.disliked, dismissed)]
        found += [Example(v, base, 0.0, 0.3) for v in self.around(None, ignored)]
        return found


def fitted(examples: list[Example]) -> ChannelModel:
    model = ChannelModel.fit(examples)
    assert model is not None
    return model


def test_unseen_papers_like_the_saved_ones_rise_and_like_the_dismissed_ones_fall() -> None:
    space = Space()
    model = fitted(space.examples())
    liked, disliked, other = space.around(space.liked, 50), space.around(space.disliked, 50), space.around(None, 50)
    base = np.full(50, 1.0)
    up, down, same = (model.adjust(v, base) - base for v in (liked, disliked, other))
    assert up.min() > 0.3, "every paper like the saved ones rises"
    assert down.max() < -0.3, "every paper like the dismissed ones falls"
    assert up.min() > same.max() and same.min() > down.max()
    assert abs(float(np.median(same))) < 0.35, "a paper like neither barely moves"
    assert model.similar_to_saved(liked).mean() > 0.9
    assert not model.similar_to_saved(disliked).any() and model.similar_to_saved(other).mean() < 0.1


def test_adjust_keeps_the_base_order_among_similar_papers_and_returns_one_logit_per_paper() -> None:
    space = Space()
    model = fitted(space.examples())
    papers = np.repeat(space.around(space.liked, 1), 5, axis=0)
    base = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    adjusted = model.adjust(papers, base)
    assert adjusted.shape == (5,) and np.all(np.diff(adjusted) > 0)
    assert model.adjust(np.zeros((0, D), dtype=np.float32), np.zeros(0)).shape == (0,)


def test_no_feedback_means_no_model_so_no_change() -> None:
    space = Space()
    assert ChannelModel.fit([]) is None
    assert ChannelModel.fit(space.examples(saved=1, dismissed=1, ignored=0)) is None, "too few to say anything"
    assert ChannelModel.fit(space.examples(saved=0, dismissed=0, ignored=60)) is None, \
        "papers merely left alone say nothing about what the channel wants"
    assert ChannelModel.fit(space.examples(saved=0, dismissed=4, ignored=0)) is None, "one class, and few"


def test_papers_left_alone_do_not_drag_every_paper_down() -> None:
    space = Space()
    few = fitted(space.examples(ignored=10))
    many = fitted(space.examples(ignored=200))
    assert few.shift == many.shift, "the threshold moves with explicit feedback only"
    other = space.around(None, 50)
    assert abs(float(np.median(many.delta(other, np.ones(50))))) < 0.35


def test_the_threshold_moves_with_the_balance_of_explicit_feedback_within_bounds() -> None:
    space = Space()
    picky = fitted(space.examples(saved=3, dismissed=30))
    keen = fitted(space.examples(saved=30, dismissed=3))
    assert -MAX_SHIFT <= picky.shift < -0.3 and MAX_SHIFT >= keen.shift > 0.3
    hostile = fitted(space.examples(saved=2, dismissed=400, ignored=400))
    assert hostile.shift == -MAX_SHIFT
    everything = space.around(None, 100)
    assert np.all(np.abs(hostile.delta(everything, np.linspace(-5, 5, 100))) <= MAX_DELTA + 1e-12)


def test_only_dismissals_never_raise_a_paper_and_lower_the_dismissed_kind_most() -> None:
    space = Space()
    model = fitted(space.examples(saved=0, dismissed=15, ignored=30))
    liked, disliked, other = space.around(space.liked, 40), space.around(space.disliked, 40), space.around(None, 40)
    deltas = [model.delta(v, np.ones(40)) for v in (liked, disliked, other)]
    assert all(float(d.max()) <= 0.0 for d in deltas)
    assert float(deltas[1].mean()) < float(deltas[2].mean()) - 0.3
    assert not model.similar_to_saved(liked).any()


def test_only_saves_never_lower_a_paper() -> None:
    space = Space()
    model = fitted(space.examples(saved=15, dismissed=0, ignored=0))
    for papers in (space.around(space.liked, 30), space.around(space.disliked, 30)):
        assert float(model.delta(papers, np.ones(30)).min()) >= 0.0


def test_fitting_is_deterministic() -> None:
    examples = Space().examples()
    first, second = fitted(examples), fitted(examples)
    papers = Space(seed=99).around(None, 20)
    assert np.array_equal(first.adjust(papers, np.ones(20)), second.adjust(papers, np.ones(20)))


def test_the_solver_reaches_the_optimum() -> None:
    rng = np.random.default_rng(3)
    features = np.hstack([rng.normal(size=(80, 30)), np.ones((80, 1))])
    labels = (rng.random(80) < 0.3).astype(np.float64)
    weights = rng.choice([1.0, 0.3], size=80)
    penalty = np.full(31, 0.5)
    theta = preferences._newton(features, np.zeros(80), labels, weights, penalty)
    prob = 1.0 / (1.0 + np.exp(-(features @ theta)))
    gradient = features.T @ (weights * (prob - labels)) + penalty * theta
    assert float(np.abs(gradient).max()) < 1e-5


def test_a_vector_that_is_not_finite_is_refused() -> None:
    examples = Space().examples()
    examples[3] = Example(np.full(D, np.nan, dtype=np.float32), 1.0, 1.0, 1.0)
    with pytest.raises(ValueError):
        ChannelModel.fit(examples)


def test_fast_enough_for_every_channel_at_every_digest() -> None:
    space = Space()
    examples = space.examples(saved=40, dismissed=30, ignored=130)
    fits = []
    for _ in range(5):
        started = time.perf_counter()
        model = fitted(examples)
        fits.append(time.perf_counter() - started)
    papers, base = space.around(None, 500), np.linspace(-3, 3, 500)
    adjusts = []
    for _ in range(20):
        started = time.perf_counter()
        model.adjust(papers, base)
        adjusts.append(time.perf_counter() - started)
    assert min(fits) < 0.020, f"fit of 200 examples took {min(fits) * 1000:.1f} ms"
    assert min(adjusts) < 0.001, f"adjust of 500 papers took {min(adjusts) * 1000:.2f} ms"
