package dev.matrixmobilecore

import android.content.Context

/**
 * Android set-up of the core: call [init] once, before the first [Client.create].
 *
 * The core verifies TLS certificates with Android's own trust manager (through
 * rustls-platform-verifier), which needs the application [Context]. Without
 * this call, the first HTTPS request to a homeserver fails. `Application.onCreate`
 * is the natural place:
 *
 * ```
 * class App : Application() {
 *     override fun onCreate() {
 *         super.onCreate()
 *         AndroidPlatform.init(this)
 *     }
 * }
 * ```
 */
object AndroidPlatform {
    @Volatile
    private var initialized = false

    /**
     * Hands [context]'s application context to the core's TLS verifier.
     *
     * Guarantee: when this returns, HTTPS requests of every client verify
     * against the system trust store (and user-added CAs the app trusts).
     * Thread-safe and idempotent: later calls return at once.
     *
     * @throws RuntimeException if the native side could not keep the context.
     */
    @JvmStatic
    fun init(context: Context) {
        if (initialized) return
        synchronized(this) {
            if (initialized) return
            // JNA loads the same library for the generated bindings; this load
            // makes its JNI entry point visible to the runtime. Both share one handle.
            System.loadLibrary("matrix_mobile_core")
            nativeInit(context.applicationContext ?: context)
            initialized = true
        }
    }

    /** Implemented in core/src/platform/android.rs. */
    @JvmStatic
    private external fun nativeInit(context: Context)
}
