package dev.matrixmobilecore

import android.content.Context
import androidx.startup.Initializer

/**
 * Runs [AndroidPlatform.init] when the app starts, through androidx.startup,
 * so that an app that depends on `core-android` needs no set-up code for TLS.
 *
 * Guarantee: unless the app opts out, [AndroidPlatform.init] has run with the
 * application context before `Application.onCreate`, so the first
 * `Client.create` finds the TLS verifier ready.
 *
 * The library's manifest registers it as meta-data of androidx.startup's
 * `InitializationProvider`. To opt out (to initialise later, or in a process
 * of your own choosing), remove that entry in the app's manifest and call
 * [AndroidPlatform.init] yourself before the first `Client.create`:
 *
 * ```xml
 * <provider
 *     android:name="androidx.startup.InitializationProvider"
 *     android:authorities="${applicationId}.androidx-startup"
 *     android:exported="false"
 *     tools:node="merge">
 *     <meta-data
 *         android:name="dev.matrixmobilecore.MatrixCoreInitializer"
 *         tools:node="remove" />
 * </provider>
 * ```
 *
 * With it removed, `AppInitializer.getInstance(context)
 * .initializeComponent(MatrixCoreInitializer::class.java)` runs it lazily.
 */
class MatrixCoreInitializer : Initializer<AndroidPlatform> {
    override fun create(context: Context): AndroidPlatform {
        AndroidPlatform.init(context)
        return AndroidPlatform
    }

    /** Needs no other initializer. */
    override fun dependencies(): List<Class<out Initializer<*>>> = emptyList()
}
