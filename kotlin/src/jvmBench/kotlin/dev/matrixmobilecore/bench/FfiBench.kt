// The FFI round-trip benchmark on the JVM: `cargo xtask bench ffi` runs this
// main with `mvn exec:java` and reads the one line that starts with MMC_FFI_BENCH.
//
// The same no-op goes through each layer of a call:
// - sync:  noopSync(), the FFI call itself;
// - bare:  noopAsyncBare(), UniFFI's future, ready at its first poll;
// - spawn: noopAsyncSpawn(), a plain task on the core's runtime;
// - async: noopAsync(), the supervised call of every exported async function;
// - inline: noopAsyncInline(), the same with its first poll on the caller's thread.
package dev.matrixmobilecore.bench

import dev.matrixmobilecore.noopAsync
import dev.matrixmobilecore.noopAsyncBare
import dev.matrixmobilecore.noopAsyncInline
import dev.matrixmobilecore.noopAsyncSpawn
import dev.matrixmobilecore.noopSync
import kotlinx.coroutines.runBlocking

private const val WARMUP = 5_000
private const val ASYNC_SAMPLES = 20_000
private const val SYNC_SAMPLES = 100_000

/** Nearest-rank percentile of sorted nanosecond samples, in microseconds. */
private fun percentileMicros(sorted: LongArray, p: Double): Double {
    val rank = Math.ceil(p / 100.0 * sorted.size).toInt().coerceIn(1, sorted.size)
    return sorted[rank - 1] / 1_000.0
}

/**
 * Times [samples] calls of [call] one by one after [WARMUP] untimed calls (JIT
 * and the core's runtime warm). Returns the sorted durations in nanoseconds.
 */
private inline fun measure(samples: Int, call: () -> Unit): LongArray {
    repeat(WARMUP) { call() }
    val durations = LongArray(samples)
    for (i in 0 until samples) {
        val start = System.nanoTime()
        call()
        durations[i] = System.nanoTime() - start
    }
    durations.sort()
    return durations
}

fun main() {
    // Each async no-op is awaited from a coroutine: suspend, the core's future polled, resume.
    val variants = linkedMapOf(
        "bare" to runBlocking { measure(ASYNC_SAMPLES) { noopAsyncBare() } },
        "spawn" to runBlocking { measure(ASYNC_SAMPLES) { noopAsyncSpawn() } },
        "async" to runBlocking { measure(ASYNC_SAMPLES) { noopAsync() } },
        "inline" to runBlocking { measure(ASYNC_SAMPLES) { noopAsyncInline() } },
        "sync" to measure(SYNC_SAMPLES) { noopSync() },
    )
    val json = buildString {
        append("{\"language\":\"kotlin-jvm\"")
        append(",\"samples\":").append(ASYNC_SAMPLES)
        for ((name, sorted) in variants) {
            append(",\"").append(name).append("_p50_us\":").append(percentileMicros(sorted, 50.0))
            append(",\"").append(name).append("_p99_us\":").append(percentileMicros(sorted, 99.0))
        }
        append("}")
    }
    println("MMC_FFI_BENCH $json")
}
