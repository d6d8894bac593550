"""One peer measurement: `python peers.py <framework> <workload> <seconds> <threads>`.

framework: torch | keras-jax | keras-tf | numpy (gemm only)
workload:  cnn | rnn_small | rnn_large | lstm | gemm1024 | gemm2048 | cnn_infer | lstm_infer
Prints one JSON line like dl-core's `bench_train` example. Data are synthetic, as in dl-core's
benchmark: the same shapes, batch sizes, models, optimiser (Adam 1e-3) and losses.
"""
import json
import os
import sys
import time

framework, workload, seconds, threads = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
# "<model>_infer": inference (predict) of the training workload's model on INFER_N samples.
inference = workload.endswith("_infer")
model_name = workload[:-len("_infer")] if inference else workload
INFER_N, INFER_BATCH = 4096, 256
os.environ.setdefault("OMP_NUM_THREADS", str(threads))
os.environ.setdefault("OPENBLAS_NUM_THREADS", str(threads))
os.environ.setdefault("MKL_NUM_THREADS", str(threads))
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
if threads == 1:
    os.environ["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"

import numpy as np  # noqa: E402

rng = np.random.default_rng(0)

# (n samples per epoch, batch size, input shape per sample, output) for each workload.
SPECS = {
    "cnn": (64 * 16, 64),
    "rnn_small": (32 * 64, 32),
    "rnn_large": (64 * 8, 64),
    "lstm": (64 * 8, 64),
}


def data(workload, channels_last):
    n, batch = SPECS[model_name]
    if inference:
        n, batch = INFER_N, INFER_BATCH
    if model_name == "cnn":
        x = rng.random((n, 28, 28, 1) if channels_last else (n, 1, 28, 28), dtype=np.float32)
        y = rng.integers(0, 10, n)
    elif model_name == "rnn_small":
        x = rng.standard_normal((n, 10, 1), dtype=np.float32)
        y = rng.standard_normal((n, 1), dtype=np.float32)
    else:
        x = rng.standard_normal((n, 50, 32), dtype=np.float32)
        y = rng.standard_normal((n, 1), dtype=np.float32)
    return x, y, batch


def report(value, unit):
    print(json.dumps({"framework": framework, "workload": workload, "threads": threads,
                      "value": round(value, 1), "unit": unit}))


def timed_epochs(run_epoch, n):
    run_epoch()  # warm-up (compilation, allocation)
    samples, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        run_epoch()
        samples += n
    return samples / (time.perf_counter() - start)


if workload.startswith("gemm"):
    size = int(workload[4:])
    a = rng.random((size, size), dtype=np.float32)
    b = rng.random((size, size), dtype=np.float32)
    if framework == "torch":
        import torch
        torch.set_num_threads(threads)
        a, b = torch.from_numpy(a), torch.from_numpy(b)
    a @ b
    times, start = [], time.perf_counter()
    while time.perf_counter() - start < seconds or len(times) < 3:
        t = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t)
    times.sort()
    report(2 * size ** 3 / times[len(times) // 2] / 1e9, "GFLOP/s")

elif framework == "torch":
    import torch
    from torch import nn
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    x, y, batch = data(workload, channels_last=False)
    if model_name == "cnn":
        model = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
                              nn.MaxPool2d(2), nn.Flatten(), nn.Linear(1600, 128), nn.ReLU(), nn.Linear(128, 10))
        loss_fn = nn.CrossEntropyLoss()  # softmax fused into the loss, PyTorch's idiom
        y_t = torch.from_numpy(y)
    else:
        d, h = (1, 32) if model_name == "rnn_small" else (32, 128)
        cell = nn.LSTM if model_name == "lstm" else nn.RNN

        class Last(nn.Module):
            def __init__(self):
                super().__init__()
                self.rnn, self.out = cell(d, h, batch_first=True), nn.Linear(h, 1)

            def forward(self, x):
                return self.out(self.rnn(x)[0][:, -1, :])

        model, loss_fn = Last(), nn.MSELoss()
        y_t = torch.from_numpy(y)
    x_t = torch.from_numpy(x)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    n = len(x)

    def epoch():
        perm = torch.randperm(n)
        for i in range(0, n, batch):
            idx = perm[i:i + batch]
            opt.zero_grad()
            loss = loss_fn(model(x_t[idx]), y_t[idx])
            loss.backward()
            opt.step()

    def predict():
        # Inference in batches, no autograd graph (PyTorch's idiom for predicting).
        with torch.inference_mode():
            for i in range(0, n, batch):
                model(x_t[i:i + batch])

    if inference:
        model.eval()
    report(timed_epochs(predict if inference else epoch, n), "samples/s")

else:
    os.environ["KERAS_BACKEND"] = {"keras-jax": "jax", "keras-tf": "tensorflow"}[framework]
    if framework == "keras-tf":
        import tensorflow as tf
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    import keras
    from keras import layers
    keras.utils.set_random_seed(0)
    x, y, batch = data(workload, channels_last=True)
    if model_name == "cnn":
        model = keras.Sequential([
            keras.Input((28, 28, 1)),
            layers.Conv2D(32, (3, 3), activation="relu"), layers.MaxPooling2D((2, 2)),
            layers.Conv2D(64, (3, 3), activation="relu"), layers.MaxPooling2D((2, 2)),
            layers.Flatten(), layers.Dense(128, activation="relu"), layers.Dense(10, activation="softmax")])
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    else:
        shape = (10, 1) if model_name == "rnn_small" else (50, 32)
        units = 32 if model_name == "rnn_small" else 128
        cell = layers.LSTM if model_name == "lstm" else layers.SimpleRNN
        model = keras.Sequential([keras.Input(shape), cell(units), layers.Dense(1)])
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    n = len(x)
    if inference:
        # predict over the whole set, batch by batch (compiled once, on the first call).
        report(timed_epochs(lambda: model.predict(x, batch_size=batch, verbose=0), n), "samples/s")
        sys.exit(0)
    model.fit(x, y, batch_size=batch, epochs=1, verbose=0)  # warm-up: tracing and compilation
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
    # One fit call over many epochs, so that Keras' per-call set-up is not counted.
    epochs = max(1, int(seconds / (time.perf_counter() - start)))
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch, epochs=epochs, verbose=0)
    report(n * epochs / (time.perf_counter() - start), "samples/s")
