package dev.matrixmobilecore.consumer

import android.app.Activity
import android.os.Bundle
import android.widget.TextView
import dev.matrixmobilecore.Client
import dev.matrixmobilecore.ClientConfig
import dev.matrixmobilecore.closing
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.launch

/**
 * Creates a client in the app's files directory and shows its sync state:
 * enough to prove that the library, its native code and its dependencies
 * resolve and load from the coordinates alone.
 */
class MainActivity : Activity() {
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.Main)

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        val status = TextView(this)
        setContentView(status)
        val dataDir = filesDir.resolve("matrix").apply { mkdirs() }.absolutePath
        scope.launch {
            val client = Client.create(ClientConfig(homeserverUrl = "https://matrix.org", dataDir = dataDir))
            client.closing {
                status.text = "core loaded; client ${it.state()}, sync ${it.syncState()}"
            }
        }
    }

    override fun onDestroy() {
        scope.cancel()
        super.onDestroy()
    }
}
