// A minimal Android app that depends on dev.matrixmobilecore:core-android by
// its coordinates, as an app developer would: no AAR file, no NDK, no Rust.
// Built in CI (.github/workflows/android.yml) against the repository that
// `cargo xtask android --publish DIR` fills:
//
//   gradle -p consumers/android-app assembleDebug \
//     -Pmmc.version=<version> -Pmmc.repository=file:///path/to/DIR
//
// An app of your own writes its repositories and the version literally.
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
    plugins {
        id("com.android.application") version "8.7.3"
        id("org.jetbrains.kotlin.android") version "2.2.20"
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
        // Where core-android and its rustls-platform-verifier-android were
        // published (a local directory in CI, Maven Central for an app).
        maven {
            url = uri(providers.gradleProperty("mmc.repository").orNull
                ?: error("pass -Pmmc.repository=URL of the Maven repository that holds core-android"))
        }
    }
}

rootProject.name = "matrix-mobile-core-consumer"
