"""FFI round trip from Python: an async no-op awaited from asyncio, and a sync no-op.

Prints one JSON line: {"async_p50_us", "async_p99_us", "sync_p50_us"}.
"""

import asyncio
import json
import statistics
import time

import matrix_mobile_core as core

WARMUP = 2_000
SAMPLES = 20_000


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure_async():
    for _ in range(WARMUP):
        await core.noop_async()
    samples = []
    for _ in range(SAMPLES):
        start = time.perf_counter_ns()
        await core.noop_async()
        samples.append((time.perf_counter_ns() - start) / 1000)
    return samples


def measure_sync():
    for _ in range(WARMUP):
        core.noop_sync()
    samples = []
    for _ in range(SAMPLES):
        start = time.perf_counter_ns()
        core.noop_sync()
        samples.append((time.perf_counter_ns() - start) / 1000)
    return samples


def main():
    async_samples = asyncio.run(measure_async())
    sync_samples = measure_sync()
    core.shutdown_blocking(core.ShutdownOptions(timeout_ms=5000))
    print(json.dumps({
        "async_p50_us": statistics.median(async_samples),
        "async_p99_us": percentile(async_samples, 0.99),
        "sync_p50_us": statistics.median(sync_samples),
    }))


if __name__ == "__main__":
    main()
