"""FFI round trip from Python: the same no-op through each layer of a call.

- `sync`: `noop_sync()`, the FFI call itself;
- `bare`: `noop_async_bare()`, UniFFI's future, ready at its first poll;
- `spawn`: `noop_async_spawn()`, a plain task on the core's runtime;
- `async`: `noop_async()`, the supervised call of every exported async function;
- `inline`: `noop_async_inline()`, the same with its first poll on the caller's thread.

Each async variant is awaited from asyncio. Prints one JSON line with
`<variant>_p50_us` and `<variant>_p99_us` for each.

The no-ops exist only in a core built with the cargo feature `diagnostics`:
`cargo xtask bench ffi` builds one and runs this script on bindings generated
from it.
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


async def measure_async(call):
    for _ in range(WARMUP):
        await call()
    samples = []
    for _ in range(SAMPLES):
        start = time.perf_counter_ns()
        await call()
        samples.append((time.perf_counter_ns() - start) / 1000)
    return samples


def measure_sync(call):
    for _ in range(WARMUP):
        call()
    samples = []
    for _ in range(SAMPLES):
        start = time.perf_counter_ns()
        call()
        samples.append((time.perf_counter_ns() - start) / 1000)
    return samples


def main():
    results = {"language": "python", "samples": SAMPLES}
    variants = {
        "bare": core.noop_async_bare,
        "spawn": core.noop_async_spawn,
        "async": core.noop_async,
        "inline": core.noop_async_inline,
    }
    for name, call in variants.items():
        samples = asyncio.run(measure_async(call))
        results[f"{name}_p50_us"] = statistics.median(samples)
        results[f"{name}_p99_us"] = percentile(samples, 0.99)
    samples = measure_sync(core.noop_sync)
    results["sync_p50_us"] = statistics.median(samples)
    results["sync_p99_us"] = percentile(samples, 0.99)
    core.shutdown_blocking(core.ShutdownOptions(timeout_ms=5000))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
