#!/usr/bin/env python3
"""PyTorch CPU reference of the benchmark step in docs (method.md, "The benchmark step").

One first-order mavrl meta-step at robust-meta's defaults (src/core/config.ts): for each of B
tasks, two augmented views; one inner SGD step per view on its support set that adapts the encoder
only (innerUpdate 'body', lr 0.4; the randomly initialised head stays); the per-view label-free
attack (mavrlAttack 'per-view', RoCL-style: 3 PGD steps that push each view's projection through
its adapted encoder away from the other clean view's, NT-Xent, tau 0.5); the TRADES outer loss
(outerLoss 'trades'): per view CE(clean) + beta * KL(clean || adversarial), beta 1, plus lambda *
NT-Xent between the two adversarial views' projections, lambda 4; its gradient at the fast weights
added to the meta-gradient, then Adam. Like robust-meta, each task also computes the diagnostics
it logs: the meta-parameters' query accuracy before adaptation and the two adapted encoders'
feature cosine (three forward passes, no gradient). Random data, warm-up step excluded. Prints one
JSON object like `robust-meta bench --json`.

With --eval: evaluation episodes instead, like `robust-meta bench --eval`: per episode, 10 SGD
steps of the encoder and head on the clean support set, the clean query's predictions, PGD-20
(L-inf, 8/255, step 2/255, random start, cross-entropy through the adapted model) on the query,
and its predictions.

    /usr/bin/python3 bench/pytorch_step.py [--image-size 32 --channels 3 --width 64 --steps 5]
    /usr/bin/python3 bench/pytorch_step.py --eval --image-size 28 --channels 1 --episodes 20
(Debian's python3-torch installs for /usr/bin/python3.)
"""
import argparse
import json
import os
import resource
import time

import torch
import torch.nn.functional as F


def conv4_params(c, w, feat, ways, proj):
    p = {}
    cin = c
    for i in range(4):
        p[f"conv{i}"] = torch.randn(w, cin, 3, 3) * (2.0 / (9 * cin)) ** 0.5
        p[f"g{i}"] = torch.ones(w)
        p[f"b{i}"] = torch.zeros(w)
        cin = w
    p["head_w"] = torch.randn(ways, feat) * 0.01
    p["head_b"] = torch.zeros(ways)
    p["p1_w"] = torch.randn(feat, feat) * 0.01
    p["p1_b"] = torch.zeros(feat)
    p["p2_w"] = torch.randn(proj, feat) * 0.01
    p["p2_b"] = torch.zeros(proj)
    for t in p.values():
        t.requires_grad_(True)
    return p


def encode(p, x):
    h = x
    for i in range(4):
        h = F.conv2d(h, p[f"conv{i}"], padding=1)
        h = F.batch_norm(h, None, None, p[f"g{i}"], p[f"b{i}"], training=True)
        h = F.max_pool2d(F.relu(h), 2)
    return h.flatten(1)


def classify(p, f):
    return F.linear(f, p["head_w"], p["head_b"])


def project(p, f):
    return F.linear(F.relu(F.linear(f, p["p1_w"], p["p1_b"])), p["p2_w"], p["p2_b"])


def nt_xent(z1, z2, tau=0.5):
    n = z1.shape[0]
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    sim = z @ z.t() / tau
    sim = sim - torch.eye(2 * n) * 1e9
    pos = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(sim, pos)


def augment(x, pad=4):
    n, c, h, w = x.shape
    xp = F.pad(x, (pad, pad, pad, pad))
    out = torch.empty_like(x)
    for i in range(n):
        dy, dx = torch.randint(0, 2 * pad + 1, (2,)).tolist()
        img = xp[i, :, dy:dy + h, dx:dx + w]
        if torch.rand(()) < 0.5:
            img = img.flip(2)
        out[i] = (img * torch.empty(()).uniform_(0.8, 1.2)).clamp(max=1)
    return out


ENC = [f"{k}{i}" for i in range(4) for k in ("conv", "g", "b")]
HEAD = ["head_w", "head_b"]
PROJ = ["p1_w", "p1_b", "p2_w", "p2_b"]


def adapt(p, xs, ys, lr, keys):
    loss = F.cross_entropy(classify(p, encode(p, xs)), ys)
    grads = torch.autograd.grad(loss, [p[k] for k in keys])
    q = dict(p)
    for k, g in zip(keys, grads):
        q[k] = (p[k] - lr * g).detach().requires_grad_(True)
    return q


def pgd_view(p, q, target, eps, steps, tau=0.5):
    """One view's label-free PGD: its projection pushed away from the other clean view's."""
    a = 2.5 * eps / steps
    d = torch.empty_like(q).uniform_(-eps, eps)
    d = (q + d).clamp(0, 1) - q
    for _ in range(steps):
        d.requires_grad_(True)
        loss = nt_xent(project(p, encode(p, q + d)), target, tau)
        (g,) = torch.autograd.grad(loss, [d])
        d = ((q + (d + a * g.sign()).clamp(-eps, eps)).clamp(0, 1) - q).detach()
    return (q + d).clamp(0, 1)


def kl(clean, adv):
    return F.kl_div(F.log_softmax(adv, 1), F.log_softmax(clean, 1), log_target=True, reduction="batchmean")


def meta_step(p, opt, args, beta=1.0, lam=4.0, inner_lr=0.4):
    opt.zero_grad()
    s, c, w = args.image_size, args.channels, args.width
    for _ in range(args.meta_batch):
        xs = torch.rand(args.ways * args.shots, c, s, s)
        ys = torch.arange(args.ways).repeat_interleave(args.shots)
        xq = torch.rand(args.ways * args.queries, c, s, s)
        yq = torch.arange(args.ways).repeat_interleave(args.queries)
        s1, s2, q1, q2 = augment(xs), augment(xs), augment(xq), augment(xq)
        p1 = adapt(p, s1, ys, inner_lr, ENC)
        p2 = adapt(p, s2, ys, inner_lr, ENC)
        with torch.no_grad():
            t1, t2 = project(p1, encode(p1, q1)), project(p2, encode(p2, q2))
        a1 = pgd_view(p1, q1, t2, 8 / 255, args.attack_steps)
        a2 = pgd_view(p2, q2, t1, 8 / 255, args.attack_steps)
        with torch.no_grad():  # the logged diagnostics: accuracy before adaptation, encoder cosine
            (classify(p, encode(p, q1)).argmax(1) == yq).float().mean()
            F.cosine_similarity(encode(p1, q1), encode(p2, q1)).mean()
        f1, f2 = encode(p1, a1), encode(p2, a2)
        c1, c2 = classify(p1, encode(p1, q1)), classify(p2, encode(p2, q2))
        v1, v2 = classify(p1, f1), classify(p2, f2)
        loss = F.cross_entropy(c1, yq) + F.cross_entropy(c2, yq) + beta * (kl(c1, v1) + kl(c2, v2)) + lam * nt_xent(project(p1, f1), project(p2, f2))
        # First order: the gradient at each view's fast weights is applied to the meta-parameters;
        # the head and projection are not adapted, so their gradients are taken at the meta-parameters.
        shared = HEAD + PROJ
        grads = torch.autograd.grad(loss, [p1[k] for k in ENC] + [p2[k] for k in ENC] + [p[k] for k in shared])
        n = len(ENC)
        for i, k in enumerate(ENC):
            g = grads[i] + grads[n + i]
            p[k].grad = g if p[k].grad is None else p[k].grad + g
        for i, k in enumerate(shared):
            g = grads[2 * n + i]
            p[k].grad = g if p[k].grad is None else p[k].grad + g
    opt.step()


def eval_episode(p, args):
    s, c = args.image_size, args.channels
    xs = torch.rand(args.ways * args.shots, c, s, s)
    ys = torch.arange(args.ways).repeat_interleave(args.shots)
    xq = torch.rand(args.ways * args.queries, c, s, s)
    yq = torch.arange(args.ways).repeat_interleave(args.queries)
    q = p
    for _ in range(args.inner_steps_test):
        q = adapt(q, xs, ys, 0.4, ENC)
    with torch.no_grad():
        clean = classify(q, encode(q, xq)).argmax(1)
    eps, a = 8 / 255, 2 / 255
    d = torch.empty_like(xq).uniform_(-eps, eps)
    d = ((xq + d).clamp(0, 1) - xq)
    for _ in range(20):
        d.requires_grad_(True)
        loss = F.cross_entropy(classify(q, encode(q, xq + d)), yq)
        (g,) = torch.autograd.grad(loss, [d])
        d = ((xq + (d + a * g.sign()).clamp(-eps, eps)).clamp(0, 1) - xq).detach()
    with torch.no_grad():
        robust = classify(q, encode(q, xq + d)).argmax(1)
    return clean, robust


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--image-size", type=int, default=32)
    ap.add_argument("--channels", type=int, default=3)
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--ways", type=int, default=5)
    ap.add_argument("--shots", type=int, default=1)
    ap.add_argument("--queries", type=int, default=15)
    ap.add_argument("--meta-batch", type=int, default=4)
    ap.add_argument("--attack-steps", type=int, default=3)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--eval", action="store_true", help="time evaluation episodes instead of meta-steps")
    ap.add_argument("--episodes", type=int, default=20, help="with --eval: timed episodes (after one warm-up episode)")
    ap.add_argument("--inner-steps-test", type=int, default=10)
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="intra-op threads (default: every core, as robust-meta uses)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    s = args.image_size
    for _ in range(4):
        s //= 2
    p = conv4_params(args.channels, args.width, s * s * args.width, args.ways, 128)
    if args.eval:
        eval_episode(p, args)  # warm-up
        t0 = time.perf_counter()
        for _ in range(args.episodes):
            eval_episode(p, args)
        wall = time.perf_counter() - t0
        print(json.dumps({
            "ms_per_episode": round(wall * 1000 / args.episodes, 1),
            "episodes": args.episodes,
            "backend": f"pytorch-{torch.__version__}-cpu",
            "threads": torch.get_num_threads(),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "setting": vars(args),
        }))
        return
    opt = torch.optim.Adam(p.values(), lr=1e-3)
    meta_step(p, opt, args)  # warm-up
    times = []
    for _ in range(args.steps):
        t0 = time.perf_counter()
        meta_step(p, opt, args)
        times.append((time.perf_counter() - t0) * 1000)
    print(json.dumps({
        "ms_per_step": round(sum(times) / len(times), 1),
        "ms_min": round(min(times), 1),
        "steps": len(times),
        "backend": f"pytorch-{torch.__version__}-cpu",
        "threads": torch.get_num_threads(),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "setting": vars(args),
    }))


if __name__ == "__main__":
    main()
