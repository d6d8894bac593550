"""Driver of the benchmark: runs dl-core's `bench_train` example and `peers.py` in turn.

For each thread count, each round and each workload, every framework runs once, in an order
that rotates from round to round (so that a burst of load from elsewhere does not always hit the
same one); one thread means `taskset -c 0` for everybody. It prints every measurement as it
comes, then the medians and the ratios dl-core / peer.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

TRAIN = ["cnn", "rnn_small", "rnn_large", "lstm"]
INFER = ["cnn_infer", "lstm_infer"]  # predict: inference in batches of 256
GEMM = ["gemm1024", "gemm2048"]
PEERS_TRAIN = ["torch", "keras-jax", "keras-tf"]
PEERS_GEMM = ["numpy", "torch"]
HERE = os.path.dirname(os.path.abspath(__file__))


def command(args, framework, workload, threads):
    if framework == "dl-core":
        cmd = [args.dl_core, workload, str(args.seconds)]
    else:
        py = args.torch_python if framework == "torch" else args.keras_python
        cmd = [py, os.path.join(HERE, "peers.py"), framework, workload, str(args.seconds), str(threads)]
    if threads == 1 and shutil.which("taskset"):
        cmd = ["taskset", "-c", "0"] + cmd
    return cmd


def run_one(args, framework, workload, threads):
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
               OPENBLAS_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads), TF_CPP_MIN_LOG_LEVEL="3")
    try:
        out = subprocess.run(command(args, framework, workload, threads), env=env, capture_output=True,
                             text=True, timeout=args.seconds * 10 + 120)
    except subprocess.TimeoutExpired:
        return None, "timeout"
    for line in reversed(out.stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)["value"], None
    return None, (out.stderr.strip().splitlines() or ["no output"])[-1][:160]


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--dl-core", required=True, help="path of the bench_train example binary")
    p.add_argument("--torch-python", default=sys.executable)
    p.add_argument("--keras-python", default=sys.executable)
    p.add_argument("--threads", default="2,1")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seconds", type=float, default=4.0)
    p.add_argument("--workloads", default=",".join(TRAIN + INFER + GEMM))
    p.add_argument("--frameworks", default="dl-core,torch,keras-jax,keras-tf,numpy")
    p.add_argument("--json", help="also write all measurements to this file")
    args = p.parse_args()
    frameworks = args.frameworks.split(",")
    results = {}  # (threads, workload, framework) -> [values]
    print(f"load average at start: {os.getloadavg()}", flush=True)
    started = time.time()
    for threads in [int(t) for t in args.threads.split(",")]:
        for r in range(args.rounds):
            for workload in args.workloads.split(","):
                peers = PEERS_GEMM if workload.startswith("gemm") else PEERS_TRAIN
                order = ["dl-core"] + [f for f in peers if f in frameworks]
                order = order[r % len(order):] + order[:r % len(order)]
                for fw in order:
                    value, error = run_one(args, fw, workload, threads)
                    unit = "GFLOP/s" if workload.startswith("gemm") else "samples/s"
                    shown = f"{value:,.1f} {unit}" if value is not None else f"failed: {error}"
                    print(f"threads={threads} round={r + 1} {workload:10} {fw:9} {shown}", flush=True)
                    if value is not None:
                        results.setdefault((threads, workload, fw), []).append(value)
    print(f"\nload average at end: {os.getloadavg()}; {time.time() - started:.0f} s\n")
    print(f"{'threads':>7} {'workload':10} {'dl-core':>10} " + " ".join(f"{f:>16}" for f in ["torch", "keras-jax", "keras-tf", "numpy"]) + "   vs fastest peer")
    for (threads, workload, fw) in sorted({k[:2] + ("dl-core",) for k in results}):
        mine = results.get((threads, workload, "dl-core"))
        if not mine:
            continue
        m = statistics.median(mine)
        cells, best = [], None
        for peer in ["torch", "keras-jax", "keras-tf", "numpy"]:
            vals = results.get((threads, workload, peer))
            if vals:
                pm = statistics.median(vals)
                cells.append(f"{pm:>9,.0f} ({m / pm:4.2f}x)")
                best = pm if best is None else max(best, pm)
            else:
                cells.append(f"{'-':>16}")
        ratio = f"{m / best:.2f}x" if best else "-"
        print(f"{threads:>7} {workload:10} {m:>10,.0f} " + " ".join(cells) + f"   {ratio}")
    print("\n(x) = dl-core median / peer median; samples/s for training and inference (*_infer), GFLOP/s for gemm")
    if args.json:
        with open(args.json, "w") as f:
            json.dump([{"threads": k[0], "workload": k[1], "framework": k[2], "values": v} for k, v in results.items()], f, indent=1)


if __name__ == "__main__":
    main()
