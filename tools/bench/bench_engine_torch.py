"""PyTorch (eager, CPU) on the workloads of bench_engine, for the ratios in `make bench`.

Prints "name value unit" lines like bench_engine. Threads are limited to the same count the
engine's OpenBLAS uses (BENCH_THREADS, default 2).
"""
import os
import sys
import time

import torch


def time_steps(step, warmup, steps, reps=3):
    for _ in range(warmup):
        step()
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        best = min(best, (time.perf_counter() - t0) / steps)
    return best


def seed(quick):
    x = torch.tensor(3.0, requires_grad=True)
    opt = torch.optim.SGD([x], lr=0.1)

    def step():
        opt.zero_grad()
        f = x * x + x - 1
        f.backward()
        opt.step()

    t = time_steps(step, 100, 2000 if quick else 20000)
    print(f"seed_step {t * 1e6:.3f} us (x^2 + x - 1, SGD, eager)")


def mlp(label, widths, batch, make_opt, steps):
    torch.manual_seed(0)
    layers = []
    for i in range(1, len(widths)):
        layers.append(torch.nn.Linear(widths[i - 1], widths[i]))
        if i < len(widths) - 1:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    opt = make_opt(model.parameters())
    loss_fn = torch.nn.CrossEntropyLoss()
    x = torch.rand(batch, widths[0])
    y = torch.arange(batch) % widths[-1]

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    t = time_steps(step, 5, steps)
    print(f"{label} {t * 1e3:.3f} ms per step (batch {batch})")
    return t


def sgemm_rate(widths, batch):
    """The rate PyTorch's BLAS reaches on the big MLP's GEMMs, as bench_engine's sgemm_rate
    measures OpenBLAS's: forward, input gradient and weight gradient of every layer."""
    layers = [(torch.zeros(batch, widths[i - 1]), torch.zeros(widths[i - 1], widths[i]), torch.zeros(batch, widths[i]))
              for i in range(1, len(widths))]
    flops = sum(3 * 2 * batch * widths[i - 1] * widths[i] for i in range(1, len(widths)))

    def products():
        for x, w, y in layers:
            torch.mm(x, w, out=y)        # forward
            torch.mm(y, w.t(), out=x)    # d input
            torch.mm(x.t(), y, out=w)    # d weight

    t = time_steps(products, 1, 1, reps=5)
    print(f"sgemm_rate {flops / t * 1e-9:.2f} GFLOP/s (PyTorch's BLAS on the same GEMMs, {torch.get_num_threads()} threads)")


def init(quick):
    """Filling an 8192 x 8192 layer as bench_engine's init: Glorot uniform, and Glorot normal as
    Keras draws it (a normal truncated at two standard deviations, rescaled)."""
    side = 2048 if quick else 8192
    w = torch.empty(side, side)
    std = (2.0 / (side + side)) ** 0.5 / 0.87962566103423978
    fills = [("init_glorot_uniform", lambda: torch.nn.init.xavier_uniform_(w)),
             ("init_glorot_normal", lambda: torch.nn.init.trunc_normal_(w, 0.0, std, -2 * std, 2 * std))]
    for name, fill in fills:
        t = time_steps(fill, 1, 1)
        print(f"{name} {t * 1e3:.3f} ms (a {side} x {side} float32 tensor)")


def main():
    quick = "--quick" in sys.argv
    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))
    print(f"torch_version {torch.__version__} ({torch.get_num_threads()} threads)")
    seed(quick)
    mlp("mlp_small_adam", [784, 256, 128, 10], 128, lambda p: torch.optim.Adam(p, lr=1e-3), 50 if quick else 300)
    t = mlp("mlp_big_sgd", [2048, 2048, 2048, 10], 1024, lambda p: torch.optim.SGD(p, lr=0.01), 2 if quick else 8)
    print(f"mlp_big_samples {1024 / t:.0f} samples/s")
    sgemm_rate([2048, 2048, 2048, 10], 1024)
    init(quick)


if __name__ == "__main__":
    main()
