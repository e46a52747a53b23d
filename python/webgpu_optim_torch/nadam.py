"""NAdam's mu_product as torch.optim.NAdam computes it: the float32 product of every step's momentum
factor mu_t = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay)), each factor and each product
rounded to float32. A file's mu_product must equal it (the file format's rule 2.3)."""
import numpy as np


def _mu(beta1, momentum_decay, t):
    return beta1 * (1.0 - 0.5 * 0.96 ** (t * momentum_decay))


def mu_product(beta1, momentum_decay, step):
    """The product after `step` steps. mu_t never decreases with t and stays below 1, so once
    f32(value * f32(mu_t+1)) == value the product is fixed for every later step: the fold stops
    there (a few hundred steps for usual settings)."""
    f32 = np.float32
    value = f32(1.0)
    for t in range(1, int(step) + 1):
        value = f32(value * f32(_mu(beta1, momentum_decay, t)))
        if value == 0 or f32(value * f32(_mu(beta1, momentum_decay, t + 1))) == value:
            break
    return float(value)
