"""What one channel likes, learned from its feedback: regularised logistic regressions over paper vectors.

The topic scorer gives every paper a logit saying how well it matches a channel's topics, the same for every
channel watching them (`base`). The channel's people then save some of the papers it was offered (positives),
mark some "not relevant" (dismissals) and leave the rest alone for a week (weak negatives: the background).
`ChannelModel` learns a bounded correction of the base logit from those examples:

    new_logit = base + delta,   delta = s(v) - r(v) + a * (base - mean base) + c

- `s(v) = w_s . (v - mean vector)`: a logistic regression of "saved" against every other example, over the
  paper vectors and the base logit, L2-regularised (arxiv-sanity's per-tag linear SVM is the classic reference:
  the saved papers are the tag). `r(v)` likewise for "dismissed" against every other example. Each is fit with
  its own free intercept, which only absorbs how rare its class is and is then dropped, so papers left alone
  do not drag every paper down: an average offered paper moves by `c` alone. Papers like the saved ones rise,
  papers like the dismissed ones fall, each by about as much (one regression of saved against the rest would
  barely move dismissed papers, which look like the many ignored ones).
- `a`: the two regressions' coefficients of the (centred) base logit, within ±MAX_SCALE: whether, among the
  papers it was offered, the channel liked the strongest matches more (a > 0) than the topic scorer says.
- `c`: the shift of the channel's threshold, from the balance of explicit feedback, within ±MAX_SHIFT:
  `SHIFT_GAIN * ln((saved + SHIFT_PRIOR) / (dismissed + SHIFT_PRIOR))` (weights summed). A channel that
  dismisses much of what it gets sees fewer papers; papers merely left alone do not move it.
- `delta` stays within ±MAX_DELTA: feedback nudges, it never overrides the topics. Without saved examples it
  only lowers, without any negative one it only raises.

Fitting is Newton's method on the (strictly convex) regularised loss, each step solved by conjugate gradients:
deterministic, a few milliseconds for a few hundred examples of a few hundred dimensions; `adjust` is one
matrix-vector product. `similar_to_saved` tells which papers rose mainly through `s`, for the digest's "similar
to papers this channel saved".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

MIN_EXAMPLES = 3  # fewer: no model (no change)
MIN_ONE_CLASS = 8  # examples needed when all are of one class (only ignored papers, say)
L2_VECTOR = 1.0  # penalty on w: the larger, the more feedback it takes to move a paper
L2_SCALE = 4.0  # penalty on a
L2_INTERCEPT = 1e-4  # almost free: the one-against-the-rest fits' intercepts only absorb how rare a class is
EXPLICIT_WEIGHT = 0.5  # a negative example weighing less (a paper left alone) is background, not a dismissal
SHIFT_PRIOR = 5.0  # pseudo-count of saves and of dismissals in the shift
SHIFT_GAIN = 0.5
MAX_SCALE = 0.3  # |a|: the base logit keeps between 0.7 and 1.3 times its weight (chosen on the dev topics)
MAX_SHIFT = 1.0  # |c|: the channel's threshold moves by at most one logit
MAX_DELTA = 2.5  # |delta| for any paper: feedback nudges, it never overrides the topics
BOOST_MIN = 0.5  # logits of boost from the vector part before a paper counts as "similar to saved papers"
NEWTON_STEPS = 50
CG_STEPS = 200
TOLERANCE = 1e-7

Floats = NDArray[np.float64]


@dataclass(frozen=True)
class Example:
    vector: NDArray[np.float32]  # the paper's unit vector, shape (d,)
    base: float  # the topic scorer's logit for this paper (channel-independent relevance)
    label: float  # 1.0 positive (saved), 0.0 negative (not relevant, or ignored)
    weight: float  # 1.0 for explicit feedback, e.g. 0.3 for "ignored for a week"


def _softplus(z: Floats) -> Floats:
    return np.logaddexp(0.0, z)


def _sigmoid(z: Floats) -> Floats:
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * z)), dtype=np.float64)


def _newton(features: Floats, offset: Floats, labels: Floats, weights: Floats, penalty: Floats) -> Floats:
    """argmin over theta of sum_i weights_i * logloss(labels_i, offset_i + features_i . theta)
    + 1/2 sum_j penalty_j theta_j^2. Strictly convex, so Newton's method with step halving converges from 0; each
    Newton step is solved by conjugate gradients with a diagonal preconditioner (only products with the
    features: a few hundred examples of a few hundred dimensions take milliseconds)."""
    theta = np.zeros(features.shape[1])
    squares = features * features

    def objective(t: Floats) -> float:
        z = offset + features @ t
        return float(weights @ (_softplus(z) - labels * z) + 0.5 * (penalty * t) @ t)

    current = objective(theta)
    for _ in range(NEWTON_STEPS):
        prob = _sigmoid(offset + features @ theta)
        gradient = features.T @ (weights * (prob - labels)) + penalty * theta
        curvature = weights * prob * (1.0 - prob)
        step = _conjugate_gradients(features, curvature, penalty, gradient, squares.T @ curvature + penalty)
        size, value = 1.0, objective(theta - step)
        while value > current and size > 1e-4:
            size *= 0.5
            value = objective(theta - size * step)
        if value > current:
            break  # no step lowers it: as good as floating point allows
        improvement, theta, current = current - value, theta - size * step, value
        if float(np.max(np.abs(size * step))) < TOLERANCE or improvement < TOLERANCE * max(1.0, current):
            break
    return theta


def _conjugate_gradients(features: Floats, curvature: Floats, penalty: Floats, rhs: Floats,
                         diagonal: Floats) -> Floats:
    """Solve (F' diag(curvature) F + diag(penalty)) x = rhs, preconditioned by the matrix's diagonal."""
    x = np.zeros_like(rhs)
    residual = rhs.copy()
    z = residual / diagonal
    direction = z.copy()
    rz = float(residual @ z)
    goal = (1e-10 * float(np.linalg.norm(rhs))) ** 2
    for _ in range(CG_STEPS):
        if float(residual @ residual) <= goal:
            break
        product = features.T @ (curvature * (features @ direction)) + penalty * direction
        alpha = rz / float(direction @ product)
        x += alpha * direction
        residual -= alpha * product
        z = residual / diagonal
        rz, previous = float(residual @ z), rz
        direction = z + (rz / previous) * direction
    return x


class ChannelModel:
    """A channel's learned correction of the base logits. Immutable; `fit` builds one."""

    def __init__(self, *, saved: Floats, dismissed: Floats, centre: Floats, base_centre: float, scale: float,
                 shift: float, sign: int) -> None:
        self.saved = saved  # w of "saved vs the rest", shape (d,) (zeros without saved papers)
        self.dismissed = dismissed  # w of "dismissed vs the rest" (zeros without dismissals)
        self.centre = centre  # the examples' weighted mean vector
        self.base_centre = base_centre  # the examples' weighted mean base logit
        self.scale = scale  # a
        self.shift = shift  # c
        self.sign = sign  # +1: only raises (nothing negative seen), -1: only lowers (nothing saved), 0: both

    @classmethod
    def fit(cls, examples: Sequence[Example]) -> ChannelModel | None:
        """The model of these examples; None when they say nothing (fewer than MIN_EXAMPLES, no explicit feedback,
        or fewer than MIN_ONE_CLASS all of one class): then nothing changes."""
        used = [e for e in examples if e.weight > 0 and np.isfinite(e.base) and np.isfinite(e.label)]
        if len(used) < MIN_EXAMPLES:
            return None
        vectors = np.asarray(np.stack([np.asarray(e.vector, dtype=np.float64) for e in used]))
        if vectors.ndim != 2 or not np.all(np.isfinite(vectors)):
            raise ValueError("every example needs a finite vector, all of one shape (d,)")
        base = np.array([e.base for e in used], dtype=np.float64)
        weights = np.array([e.weight for e in used], dtype=np.float64)
        saved = np.array([e.label >= 0.5 for e in used])
        dismissed = ~saved & (weights >= EXPLICIT_WEIGHT)
        if not (saved.any() or dismissed.any()):
            return None  # only papers left alone: no one said anything yet
        if (saved.all() or not saved.any()) and len(used) < MIN_ONE_CLASS:
            return None
        n, d = vectors.shape
        centre = weights @ vectors / weights.sum()
        base_centre = float(weights @ base / weights.sum())
        features = np.hstack([vectors - centre, (base - base_centre)[:, None], np.ones((n, 1))])
        penalty = np.concatenate([np.full(d, L2_VECTOR), [L2_SCALE, L2_INTERCEPT]])
        fits = {}
        for name, target in (("saved", saved), ("dismissed", dismissed)):
            # One against all the others, like a per-tag linear SVM; its intercept only absorbs how rare the
            # class is, so it is not used (the shift below says how many papers the channel wants).
            if target.any() and not target.all():
                fits[name] = _newton(features, np.zeros(n), target.astype(np.float64), weights, penalty)
        zero = np.zeros(d + 2)
        w_saved, w_dismissed = fits.get("saved", zero), fits.get("dismissed", zero)
        scale = float(np.clip(w_saved[d] - w_dismissed[d], -MAX_SCALE, MAX_SCALE))
        explicit_yes, explicit_no = float(weights[saved].sum()), float(weights[dismissed].sum())
        shift = float(np.clip(SHIFT_GAIN * np.log((explicit_yes + SHIFT_PRIOR) / (explicit_no + SHIFT_PRIOR)),
                              -MAX_SHIFT, MAX_SHIFT))
        sign = 0 if saved.any() and not saved.all() else (1 if saved.all() else -1)
        return cls(saved=w_saved[:d], dismissed=w_dismissed[:d], centre=centre, base_centre=base_centre,
                   scale=scale, shift=shift, sign=sign)

    def _parts(self, vectors: NDArray[np.floating]) -> tuple[Floats, Floats]:
        """Per paper: the boost from resembling saved papers, and the drop from resembling dismissed ones."""
        centred = np.asarray(vectors, dtype=np.float64).reshape(-1, self.centre.shape[0]) - self.centre
        return centred @ self.saved, centred @ self.dismissed

    def delta(self, vectors: NDArray[np.floating], base: NDArray[np.floating]) -> Floats:
        """How much each paper's logit moves, shape (n,)."""
        logits = np.asarray(base, dtype=np.float64).reshape(-1)
        boost, drop = self._parts(vectors)
        change = np.clip(boost - drop + self.scale * (logits - self.base_centre) + self.shift, -MAX_DELTA, MAX_DELTA)
        if self.sign > 0:
            change = np.maximum(change, 0.0)
        elif self.sign < 0:
            change = np.minimum(change, 0.0)
        return np.asarray(change, dtype=np.float64)

    def adjust(self, vectors: NDArray[np.floating], base: NDArray[np.floating]) -> Floats:
        """The channel's logits for papers with these vectors (n, d) and base logits (n,): base + delta."""
        logits = np.asarray(base, dtype=np.float64).reshape(-1)
        return logits + self.delta(vectors, logits)

    def similar_to_saved(self, vectors: NDArray[np.floating]) -> NDArray[np.bool_]:
        """Per paper: its vector raised it by at least BOOST_MIN logits, at least half of that through resembling
        papers the channel saved (rather than through not resembling dismissed ones)."""
        boost, drop = self._parts(vectors)
        return np.asarray((boost - drop >= BOOST_MIN) & (boost >= -drop), dtype=bool)
