//! Android glue: hands the app's `Context` to rustls-platform-verifier.
//!
//! On Android, matrix-sdk's HTTP client (reqwest on rustls) verifies server
//! certificates with Android's own trust manager, reached through JNI. That
//! verifier needs the JVM and the application `Context` before the first TLS
//! handshake; without them the first HTTPS request fails inside the verifier.
//! The Kotlin side calls `dev.matrixmobilecore.AndroidPlatform.init(context)`
//! once, which lands here. The verifier's Kotlin classes
//! (`org.rustls.platformverifier`) come with the AAR as its dependency
//! `dev.matrixmobilecore:rustls-platform-verifier-android` (kotlin/platform-verifier).
//!
//! The core is loaded through JNA for everything else; this one function is a
//! plain JNI native method, because a `Context` cannot cross UniFFI.

use jni::errors::ThrowRuntimeExAndDefault;
use jni::objects::{JClass, JObject};
use jni::EnvUnowned;

/// `AndroidPlatform.nativeInit(context: Context)` (a `@JvmStatic external fun`).
///
/// Stores the JVM, a global reference to `context` and its class loader for the
/// life of the process. Calling it again is harmless: the first context wins.
/// A JNI failure is thrown to Kotlin as a `RuntimeException`; a panic inside
/// is caught and thrown the same way, never unwound across the JNI boundary.
#[unsafe(no_mangle)]
pub extern "system" fn Java_dev_matrixmobilecore_AndroidPlatform_nativeInit<'caller>(
    mut unowned_env: EnvUnowned<'caller>,
    _class: JClass<'caller>,
    context: JObject<'caller>,
) {
    unowned_env
        .with_env(|env| rustls_platform_verifier::android::init_with_env(env, context))
        .resolve::<ThrowRuntimeExAndDefault>();
}
