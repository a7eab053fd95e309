"""Known mistakes of TP1 (one-hidden-layer network, SoftMax, cross-entropy), each with
the wrong variants of ``solutions/mlp_softmax.py`` that make it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from autograder.mistakes import Mistake, Variant, learning_rate_flipped


def _sgd_step_ascent(original, live):
    return {"sgd_step": lambda params, grads, lr: {k: params[k] + lr * grads[k] for k in params}}


def _loss_not_averaged(original, live):
    def loss_accuracy(Y_hat, Y):
        L, acc = original["loss_accuracy"](Y_hat, Y)
        return L * len(Y), acc

    return {"loss_accuracy": loss_accuracy}


def _accuracy_counted(original, live):
    def loss_accuracy(Y_hat, Y):
        L, acc = original["loss_accuracy"](Y_hat, Y)
        return L, acc * len(Y)

    return {"loss_accuracy": loss_accuracy}


def _softmax_over_columns(shift_axis: int) -> Variant:
    """Probabilities normalised per column, after subtracting the maximum of each column
    (``shift_axis=0``) or of each row (``shift_axis=1``)."""

    def variant(original, live):
        def softmax(Z):
            with np.errstate(over="ignore", invalid="ignore", under="ignore"):
                Z = np.asarray(Z, dtype=np.float64)
                E = np.exp(Z - Z.max(axis=shift_axis, keepdims=True))
                return E / E.sum(axis=0, keepdims=True)

        return {"softmax": softmax}

    return variant


def _grad_logits_divided(original, live):
    return {"grad_logits": lambda Y_hat, Y: original["grad_logits"](Y_hat, Y) / len(Y)}


Orders = Callable[[np.random.Generator, int, int], list[np.ndarray]]
"""The order of the examples in each epoch: (rng, n, epochs) → one index array per epoch."""


def _fresh_each_epoch(rng: np.random.Generator, n: int, epochs: int) -> list[np.ndarray]:
    """The contract's: a new permutation at the start of each epoch."""
    return [rng.permutation(n) for _ in range(epochs)]


def _drawn_once(rng: np.random.Generator, n: int, epochs: int) -> list[np.ndarray]:
    """One permutation, drawn before the epoch loop (or the data shuffled once), for all."""
    return [rng.permutation(n)] * epochs


def _in_data_order(rng: np.random.Generator, n: int, epochs: int) -> list[np.ndarray]:
    """The examples in data order each epoch, whether a permutation was drawn or not."""
    return [np.arange(n)] * epochs


def _epochs_shifted(shift: int) -> Orders:
    """The contract's orders, for ``shift`` more epochs (range(epochs - 1), or ``<=``)."""
    return lambda rng, n, epochs: _fresh_each_epoch(rng, n, epochs + shift)


def _train_of(
    orders: Orders = _fresh_each_epoch,
    end: Callable[[int, int], int] = lambda n, batch_size: n,
    steps_activation: str | None = None,
    loss_activation: str | None = None,
) -> Variant:
    """A training loop whose epochs take the examples in ``orders``, in mini-batches
    starting below ``end(n, batch_size)`` (n: every one, the last maybe smaller), its steps
    and epoch losses computed with the activation it is given, or the one named here (a
    loop that does not pass it on: tanh, the default). Each wrong loop then differs from
    the contract's in the one place its mistake is."""

    def variant(original, live):
        def train(params, X, Y, lr, batch_size, epochs, rng, activation="tanh"):
            X, Y = np.asarray(X, dtype=np.float64), np.asarray(Y, dtype=np.float64)
            steps, last = steps_activation or activation, loss_activation or activation
            history = []
            for order in orders(rng, len(X), epochs):
                for start in range(0, end(len(X), batch_size), batch_size):
                    batch = order[start : start + batch_size]
                    _, cache = live["forward"](params, X[batch], steps)
                    grads = live["backward"](params, X[batch], Y[batch], cache, steps)
                    params = live["sgd_step"](params, grads, lr)
                Y_hat = live["forward"](params, X, last)[0]
                history.append(live["loss_accuracy"](Y_hat, Y)[0])
            return params, history

        return {"train": train}

    return variant


def _softmax_without_shift(original, live):
    def softmax(Z):
        with np.errstate(over="ignore", invalid="ignore"):
            E = np.exp(np.asarray(Z, dtype=np.float64))
            return E / E.sum(axis=1, keepdims=True)

    return {"softmax": softmax}


def _batch_sum(original, live):
    def backward(params, X, Y, cache, activation="tanh"):
        grads = original["backward"](params, X, Y, cache, activation)
        return {name: len(X) * g for name, g in grads.items()}

    return {"backward": backward}


def _bias_reduced(reduce: Callable[[np.ndarray], Any]) -> Variant:
    """Each bias gradient taken from the per-example terms (already divided by n) by
    ``reduce`` instead of a sum over axis 0."""

    def variant(original, live):
        def backward(params, X, Y, cache, activation="tanh"):
            grads = original["backward"](params, X, Y, cache, activation)
            delta_y = live["grad_logits"](cache["y_hat"], Y) / len(X)
            slope = live["activation_derivative"](cache["h_tilde"], cache["h"], activation)
            delta_h = (delta_y @ params["Wy"]) * slope
            return {**grads, "by": reduce(delta_y), "bh": reduce(delta_h)}

        return {"backward": backward}

    return variant


BIAS_REDUCTIONS: tuple[Callable[[np.ndarray], Any], ...] = (
    lambda delta: delta,  # not summed: one row per example, shape (n, ·)
    lambda delta: delta.mean(axis=0),  # averaged: divided by n a second time
    lambda delta: delta.sum(axis=1),  # summed over the wrong axis: shape (n,)
    lambda delta: float(delta.sum()),  # summed over everything: one number
    lambda delta: delta[0],  # the first example's term only
)


def _tanh_derivative(wrong: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Variant:
    """tanh' written ``wrong(h_tilde, h)`` instead of 1 − h²."""

    def variant(original, live):
        def activation_derivative(h_tilde, h, activation):
            if activation == "tanh":
                return wrong(h_tilde, h)
            return original["activation_derivative"](h_tilde, h, activation)

        return {"activation_derivative": activation_derivative}

    return variant


TANH_DERIVATIVES: tuple[Callable[[np.ndarray, np.ndarray], np.ndarray], ...] = (
    lambda h_tilde, h: 1.0 - h,  # the square forgotten
    lambda h_tilde, h: 1.0 - np.tanh(h) ** 2,  # tanh applied twice: h is already tanh(h̃)
    lambda h_tilde, h: 1.0 - h_tilde**2,  # squared before the activation
)


def _relu_derivative(at_zero: float) -> Variant:
    """ReLU's derivative worth ``at_zero`` where h̃ is exactly 0 instead of 0 (h̃ >= 0 gives
    1, np.heaviside(h̃, 0.5) gives ½)."""

    def variant(original, live):
        def activation_derivative(h_tilde, h, activation):
            if activation == "relu":
                return np.heaviside(np.asarray(h_tilde, dtype=np.float64), at_zero)
            return original["activation_derivative"](h_tilde, h, activation)

        return {"activation_derivative": activation_derivative}

    return variant


def _softmax_shifted_by_global_max(original, live):
    """The maximum of the whole array subtracted, not each row's: a row far below the
    others underflows to 0/0."""

    def softmax(Z):
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            Z = np.asarray(Z, dtype=np.float64)
            E = np.exp(Z - Z.max())
            return E / E.sum(axis=1, keepdims=True)

    return {"softmax": softmax}


MISTAKES = (
    Mistake(
        "gradient_ascent",
        {
            "fr": "Montée de gradient au lieu d'une descente",
            "en": "Gradient ascent instead of descent",
        },
        {
            "fr": (
                "La mise à jour ajoute le gradient (θ + lr·∇L) : c'est une montée de gradient. "
                "Pour faire baisser la perte, θ ← θ − lr·∇L."
            ),
            "en": (
                "The update adds the gradient (θ + lr·∇L): that is gradient ascent. To decrease "
                "the loss, θ ← θ − lr·∇L."
            ),
        },
        (_sgd_step_ascent, learning_rate_flipped("train")),
    ),
    Mistake(
        "loss_not_averaged",
        {"fr": "Perte non divisée par n", "en": "Loss not divided by n"},
        {
            "fr": (
                "La perte L est la moyenne des entropies croisées des n exemples, "
                "L = −(1/n) Σᵢ Σⱼ yᵢⱼ log ŷᵢⱼ : la division par n manque."
            ),
            "en": (
                "The loss L is the mean of the n examples' cross-entropies, "
                "L = −(1/n) Σᵢ Σⱼ yᵢⱼ log ŷᵢⱼ: the division by n is missing."
            ),
        },
        (_loss_not_averaged,),
        cost=1,
    ),
    Mistake(
        "softmax_wrong_axis",
        {"fr": "SoftMax sur le mauvais axe", "en": "SoftMax over the wrong axis"},
        {
            "fr": (
                "La SoftMax est calculée par colonne : chaque ligne de Z est un exemple, et ses "
                "probabilités doivent sommer à 1 sur la ligne. Prenez le maximum et la somme sur "
                "axis=1, avec keepdims=True."
            ),
            "en": (
                "The SoftMax is computed per column: each row of Z is an example, whose "
                "probabilities must sum to 1 along the row. Take the maximum and the sum over "
                "axis=1, with keepdims=True."
            ),
        },
        (_softmax_over_columns(0), _softmax_over_columns(1)),
    ),
    Mistake(
        "grad_logits_divided",
        {"fr": "grad_logits divisé par n", "en": "grad_logits divided by n"},
        {
            "fr": (
                "grad_logits renvoie la dérivée de la perte de chaque exemple, ∂ℓᵢ/∂ỹᵢ = ŷᵢ − yᵢ, "
                "sans la division par n : le 1/n de la moyenne se met dans backward."
            ),
            "en": (
                "grad_logits returns the derivative of each example's loss, ∂ℓᵢ/∂ỹᵢ = ŷᵢ − yᵢ, "
                "without the division by n: the 1/n of the mean belongs in backward."
            ),
        },
        (_grad_logits_divided,),
    ),
    Mistake(
        "last_batch_dropped",
        {"fr": "Dernier mini-batch incomplet oublié", "en": "Last, incomplete mini-batch dropped"},
        {
            "fr": (
                "Le dernier mini-batch, incomplet, est oublié. Les mini-batchs sont "
                "perm[s:s + batch_size] pour s = 0, batch_size, 2·batch_size, … tant que s < n : "
                "le dernier peut être plus petit, et il sert aussi."
            ),
            "en": (
                "The last, incomplete mini-batch is dropped. The mini-batches are "
                "perm[s:s + batch_size] for s = 0, batch_size, 2·batch_size, … while s < n: the "
                "last one may be smaller, and it is used too."
            ),
        },
        (_train_of(end=lambda n, batch_size: n - batch_size + 1),),
        cost=1,
    ),
    Mistake(
        "permutation_drawn_once",
        {
            "fr": "Une seule permutation pour toutes les epochs",
            "en": "One permutation for all epochs",
        },
        {
            "fr": (
                "La permutation est tirée une seule fois, avant la boucle des epochs : chaque "
                "epoch parcourt alors les exemples dans le même ordre (votre première epoch est "
                "juste, les suivantes non). Tirez perm = rng.permutation(n) au début de chaque "
                "epoch, dans la boucle : un nouvel ordre à chaque passage sur les données, "
                "c'est ce qui rend la descente stochastique."
            ),
            "en": (
                "The permutation is drawn only once, before the epoch loop: every epoch then "
                "goes through the examples in the same order (your first epoch is right, the "
                "next ones are not). Draw perm = rng.permutation(n) at the start of each epoch, "
                "inside the loop: a new order at each pass over the data is what makes the "
                "descent stochastic."
            ),
        },
        (_train_of(orders=_drawn_once),),
        cost=1,
    ),
    Mistake(
        "permutation_unused",
        {
            "fr": "Mini-batchs pris dans l'ordre des données",
            "en": "Mini-batches taken in data order",
        },
        {
            "fr": (
                "Les mini-batchs sont pris dans l'ordre des données (X[s:s + batch_size], ou "
                "np.arange(n)[s:s + batch_size]), pas dans l'ordre de la permutation : même "
                "tirée, perm = rng.permutation(n) ne sert à rien, et chaque epoch voit les "
                "mêmes batchs. Prenez les indices de chaque batch dans la permutation, "
                "batch = perm[s:s + batch_size], puis X[batch] et Y[batch]."
            ),
            "en": (
                "The mini-batches are taken in data order (X[s:s + batch_size], or "
                "np.arange(n)[s:s + batch_size]), not in the permutation's order: even drawn, "
                "perm = rng.permutation(n) is of no use, and every epoch sees the same batches. "
                "Take each batch's indices from the permutation, batch = perm[s:s + batch_size], "
                "then X[batch] and Y[batch]."
            ),
        },
        (_train_of(orders=_in_data_order),),
        cost=1,
    ),
    Mistake(
        "epochs_off_by_one",
        {"fr": "Une epoch de trop ou de moins", "en": "One epoch too many or too few"},
        {
            "fr": (
                "train ne fait pas exactement epochs passages sur les données : un de moins "
                "(range(epochs - 1), range(1, epochs)) ou un de plus (range(epochs + 1), une "
                "condition en <=). history a alors une valeur de trop ou de moins, et les "
                "paramètres ne sont pas ceux de la fin de la dernière epoch. for epoch in "
                "range(epochs) fait le compte juste."
            ),
            "en": (
                "train does not make exactly epochs passes over the data: one fewer "
                "(range(epochs - 1), range(1, epochs)) or one more (range(epochs + 1), a <= "
                "condition). history then has one value too many or too few, and the "
                "parameters are not those of the end of the last epoch. for epoch in "
                "range(epochs) makes the right count."
            ),
        },
        (_train_of(orders=_epochs_shifted(-1)), _train_of(orders=_epochs_shifted(1))),
        cost=1,
    ),
    Mistake(
        "accuracy_as_count",
        {
            "fr": "Précision comptée au lieu d'une proportion",
            "en": "Accuracy counted instead of a proportion",
        },
        {
            "fr": (
                "acc compte les exemples bien classés au lieu d'en donner la proportion : il "
                "manque la division par n. La précision est le nombre de bonnes prédictions "
                "divisé par le nombre d'exemples, entre 0 et 1 (np.mean(pred == vrai) la donne "
                "directement)."
            ),
            "en": (
                "acc counts the examples classified right instead of giving their share: the "
                "division by n is missing. The accuracy is the number of right predictions "
                "divided by the number of examples, between 0 and 1 (np.mean(pred == true) "
                "gives it directly)."
            ),
        },
        (_accuracy_counted,),
        cost=1,
    ),
    Mistake(
        "activation_not_passed",
        {"fr": "Activation non transmise", "en": "Activation not passed on"},
        {
            "fr": (
                "train appelle forward et backward sans leur donner activation : ils prennent "
                'alors leur valeur par défaut, tanh, et train(..., activation="relu") '
                "entraîne en fait un réseau tanh. Transmettez activation à chaque appel."
            ),
            "en": (
                "train calls forward and backward without their activation: they then take "
                'their default, tanh, and train(..., activation="relu") actually trains a '
                "tanh network. Pass activation on to every call."
            ),
        },
        (
            _train_of(steps_activation="tanh"),
            _train_of(steps_activation="tanh", loss_activation="tanh"),  # the epoch's loss too
        ),
        cost=1,
    ),
    Mistake(
        "softmax_overflow",
        {"fr": "SoftMax qui déborde", "en": "SoftMax overflow"},
        {
            "fr": (
                "La SoftMax déborde : exp(1000) vaut inf en float64, et inf/inf donne NaN. "
                "SoftMax(z) = SoftMax(z − max(z)) : soustraire le maximum de chaque ligne avant "
                "l'exponentielle ne change pas le résultat et évite le débordement. Le maximum "
                "de chaque ligne, pas celui de tout le tableau : une ligne bien plus basse que "
                "les autres donnerait exp(−1200) = 0 partout, et 0/0 = NaN."
            ),
            "en": (
                "The SoftMax overflows: exp(1000) is inf in float64, and inf/inf gives NaN. "
                "SoftMax(z) = SoftMax(z − max(z)): subtracting each row's maximum before the "
                "exponential leaves the result unchanged and avoids the overflow. Each row's "
                "maximum, not the whole array's: a row far below the others would give "
                "exp(−1200) = 0 everywhere, and 0/0 = NaN."
            ),
        },
        (_softmax_without_shift, _softmax_shifted_by_global_max),
    ),
    Mistake(
        "missing_batch_mean",
        {"fr": "Gradients non divisés par n", "en": "Gradients not divided by n"},
        {
            "fr": (
                "Les gradients ne sont pas divisés par n. La perte L est une moyenne sur les n "
                "exemples du batch, donc son gradient aussi : il manque le facteur 1/n."
            ),
            "en": (
                "The gradients are not divided by n. The loss L is a mean over the batch's n "
                "examples, and so is its gradient: the 1/n factor is missing."
            ),
        },
        (_batch_sum,),
        cost=2,
    ),
    Mistake(
        "bias_not_summed",
        {
            "fr": "Gradient d'un biais non sommé sur le batch",
            "en": "Bias gradient not summed over the batch",
        },
        {
            "fr": (
                "Le gradient d'un biais n'a pas été sommé sur les exemples du batch. Le biais est "
                "ajouté à chaque ligne : sa dérivée reçoit une contribution par exemple, d'où une "
                "somme sur l'axe 0 et la forme (n_y,) ou (n_h,). Une somme, pas une moyenne : "
                "les termes de chaque exemple sont déjà divisés par n (L est une moyenne), les "
                "moyenner les diviserait une seconde fois."
            ),
            "en": (
                "A bias gradient was not summed over the batch's examples. The bias is added to "
                "every row: its derivative gets one term per example, hence a sum over axis 0 "
                "and the shape (n_y,) or (n_h,). A sum, not a mean: each example's term is "
                "already divided by n (L is a mean), averaging would divide it a second time."
            ),
        },
        tuple(_bias_reduced(reduce) for reduce in BIAS_REDUCTIONS),
        cost=2,
    ),
    Mistake(
        "tanh_derivative",
        {"fr": "Dérivée de tanh fausse", "en": "Wrong derivative of tanh"},
        {
            "fr": (
                "La dérivée de tanh est fausse : tanh'(z) = 1 − tanh²(z). Avec h = tanh(h̃), "
                "σ'(h̃) = 1 − h² (ou 1 − tanh(h̃)²) : ni 1 − h, ni 1 − tanh(h)² (h est déjà "
                "passé par tanh), ni 1 − h̃²."
            ),
            "en": (
                "The derivative of tanh is wrong: tanh'(z) = 1 − tanh²(z). With h = tanh(h̃), "
                "σ'(h̃) = 1 − h² (or 1 − tanh(h̃)²): neither 1 − h, nor 1 − tanh(h)² (h has "
                "already been through tanh), nor 1 − h̃²."
            ),
        },
        tuple(_tanh_derivative(wrong) for wrong in TANH_DERIVATIVES),
        cost=3,
    ),
    Mistake(
        "relu_derivative_at_zero",
        {
            "fr": "Dérivée de ReLU fausse en 0",
            "en": "Wrong derivative of ReLU at 0",
        },
        {
            "fr": (
                "Là où h̃ vaut exactement 0, votre dérivée de ReLU vaut 1 (ou ½) au lieu de 0 : "
                "c'est ce que donne h̃ >= 0 au lieu de h̃ > 0, ou np.heaviside(h̃, 0.5). La "
                "dérivée de ReLU est 𝟙(h̃ > 0) : en 0, l'unité cachée est éteinte et ne transmet "
                "aucun gradient. Un exemple nul avec un biais nul donne ce cas, il n'est pas rare."
            ),
            "en": (
                "Where h̃ is exactly 0, your ReLU derivative is 1 (or ½) instead of 0: that is "
                "what h̃ >= 0 instead of h̃ > 0 gives, or np.heaviside(h̃, 0.5). ReLU's "
                "derivative is 𝟙(h̃ > 0): at 0 the hidden unit is off and passes no gradient "
                "back. A zero example with a zero bias gives this case; it is not rare."
            ),
        },
        (_relu_derivative(1.0), _relu_derivative(0.5)),
    ),
)
