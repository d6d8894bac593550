"""Autograd's speed: dl-core's small GPT against the same model in PyTorch, and the book's MLP
through autograd against the same MLP through dl-core's hand-written layers.

dl-core runs with the allocator settings the kernel gives a session (`--default-malloc`
for glibc's defaults). Same model, batch, optimiser (Adam 1e-3), threads (2, then 1: `taskset -c 0` and each
library's own setting); each run in its own process, alternating, in an order that rotates
each round. Prints every measurement, then medians and ratios. A benchmark, not a test.

    python bench/autograd_bench.py --dl-core target/release/examples/bench_autograd \\
        --torch-python bench/.venv-peers/bin/python [--rounds 3 --seconds 4]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

# The small GPT of dl-core's models::Gpt, written in PyTorch: pre-norm blocks, one qkv
# projection, causal attention, a ReLU feed-forward of width 4w, learned positions, a final
# layer norm and a linear head.
TORCH_GPT = r'''
import json, sys, time, torch
threads, seconds = int(sys.argv[1]), float(sys.argv[2])
torch.set_num_threads(threads); torch.manual_seed(0)
V, T, W, H, B, N = 65, 64, 128, 4, 4, 32 * 8
class Block(torch.nn.Module):
    def __init__(s):
        super().__init__()
        s.n1, s.n2 = torch.nn.LayerNorm(W), torch.nn.LayerNorm(W)
        s.qkv, s.out = torch.nn.Linear(W, 3 * W), torch.nn.Linear(W, W)
        s.up, s.down = torch.nn.Linear(W, 4 * W), torch.nn.Linear(4 * W, W)
    def forward(s, x):
        n, t, w = x.shape
        q, k, v = s.qkv(s.n1(x)).split(w, dim=2)
        heads = lambda z: z.view(n, t, H, w // H).transpose(1, 2)
        a = torch.nn.functional.scaled_dot_product_attention(heads(q), heads(k), heads(v), is_causal=True)
        x = x + s.out(a.transpose(1, 2).reshape(n, t, w))
        return x + s.down(torch.relu(s.up(s.n2(x))))
class Gpt(torch.nn.Module):
    def __init__(s):
        super().__init__()
        s.tok, s.pos = torch.nn.Embedding(V, W), torch.nn.Parameter(torch.randn(T, W) * 0.02)
        s.blocks = torch.nn.Sequential(*[Block() for _ in range(B)])
        s.norm, s.head = torch.nn.LayerNorm(W), torch.nn.Linear(W, V)
    def forward(s, ids):
        return s.head(s.norm(s.blocks(s.tok(ids) + s.pos[: ids.shape[1]])))
model = Gpt(); opt = torch.optim.Adam(model.parameters(), 1e-3)
x = torch.randint(0, V, (N, T)); y = torch.randint(0, V, (N, T))
def epoch():
    perm = torch.randperm(N)
    for i in range(0, N, 32):
        idx = perm[i:i + 32]
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x[idx]).reshape(-1, V), y[idx].reshape(-1))
        loss.backward(); opt.step()
    return loss.item()
epoch()
start, samples = time.perf_counter(), 0
while time.perf_counter() - start < seconds:
    last = epoch(); samples += N
print(json.dumps({"framework": "torch", "workload": "gpt", "value": samples / (time.perf_counter() - start), "loss": last}))
'''

RUNS = {"gpt": ["dl-core", "torch"], "mlp": ["mlp_layers", "mlp_autograd"]}


def command(args, who, workload, threads):
    if who == "torch":
        cmd = [args.torch_python, "-c", TORCH_GPT, str(threads), str(args.seconds)]
    else:
        name = "gpt" if workload == "gpt" else who
        cmd = [args.dl_core, name, str(args.seconds)]
    if threads == 1 and shutil.which("taskset"):
        cmd = ["taskset", "-c", "0"] + cmd
    return cmd


# What the kernel sets for a session's process (kernel/src/session/worker.rs): glibc keeps
# freed buffers for reuse instead of returning them to the system at every batch.
KERNEL_MALLOC = {"MALLOC_MMAP_THRESHOLD_": "16777216", "MALLOC_TRIM_THRESHOLD_": "67108864"}


def run(args, who, workload, threads):
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    if who != "torch" and not args.default_malloc:
        env.update(KERNEL_MALLOC)
    out = subprocess.run(command(args, who, workload, threads), env=env, capture_output=True, text=True,
                         timeout=args.seconds * 20 + 120)
    for line in reversed(out.stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)["value"]
    sys.exit(f"{who} {workload}: no result\n{out.stderr[-2000:]}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dl-core", required=True)
    p.add_argument("--torch-python", default=sys.executable)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seconds", type=float, default=4)
    p.add_argument("--threads", default="2,1")
    p.add_argument("--default-malloc", action="store_true",
                   help="run dl-core with glibc's default allocator settings, not the kernel's")
    args = p.parse_args()
    results = {}
    for threads in [int(t) for t in args.threads.split(",")]:
        for r in range(args.rounds):
            for workload, who in RUNS.items():
                order = who[r % 2:] + who[:r % 2]
                for w in order:
                    v = run(args, w, workload, threads)
                    results.setdefault((threads, workload, w), []).append(v)
                    load = os.getloadavg()[0]
                    print(f"threads {threads} round {r + 1} {workload:4} {w:13} {v:10.1f} samples/s"
                          f"   (load average {load:.1f})", flush=True)
    print("\nmedians (samples/s) and ratios")
    print(f"{'threads':>7} {'workload':9} {'dl-core':>10} {'peer':>10} {'ratio':>7}")
    for threads in [int(t) for t in args.threads.split(",")]:
        for workload, (ours, peer) in [("gpt", ("dl-core", "torch")), ("mlp", ("mlp_autograd", "mlp_layers"))]:
            a = statistics.median(results[(threads, workload, ours)])
            b = statistics.median(results[(threads, workload, peer)])
            label = "gpt vs torch" if workload == "gpt" else "mlp autograd vs layers"
            print(f"{threads:>7} {label:24} {a:10.1f} {b:10.1f} {a / b:6.2f}x")


if __name__ == "__main__":
    main()
