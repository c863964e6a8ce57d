// The FFI round-trip benchmark on the JVM: `cargo xtask bench ffi` runs this
// main with `mvn exec:java` and reads the one line that starts with MMC_FFI_BENCH.
package dev.matrixmobilecore.bench

import dev.matrixmobilecore.noopAsync
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
    // An async no-op awaited from a coroutine: suspend, the core's future polled, resume.
    val async = runBlocking { measure(ASYNC_SAMPLES) { noopAsync() } }
    val sync = measure(SYNC_SAMPLES) { noopSync() }
    val json = buildString {
        append("{\"language\":\"kotlin-jvm\"")
        append(",\"async_samples\":").append(ASYNC_SAMPLES)
        append(",\"async_p50_us\":").append(percentileMicros(async, 50.0))
        append(",\"async_p99_us\":").append(percentileMicros(async, 99.0))
        append(",\"sync_samples\":").append(SYNC_SAMPLES)
        append(",\"sync_p50_us\":").append(percentileMicros(sync, 50.0))
        append(",\"sync_p99_us\":").append(percentileMicros(sync, 99.0))
        append("}")
    }
    println("MMC_FFI_BENCH $json")
}
