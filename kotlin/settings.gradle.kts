// The Android library of matrix-mobile-core, built from this directory, and
// rustls-platform-verifier's Kotlin half in platform-verifier/.
//
// Native libraries come from `cargo xtask android` (cargo-ndk into src/main/jniLibs);
// the Kotlin bindings are generated from the host build of the core into generated/.
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
    plugins {
        id("com.android.library") version "8.7.3"
        id("org.jetbrains.kotlin.android") version "2.2.20"
        // The publications of core-android and the verifier (POM, sources and
        // javadoc jars); JReleaser signs and uploads them (central/jreleaser.yml).
        id("com.vanniktech.maven.publish") version "0.34.0"
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        // Everything core-android depends on resolves from these two; the
        // xtask checks that no other repository is declared here.
        google()
        mavenCentral()
    }
}

rootProject.name = "matrix-mobile-core"
// rustls-platform-verifier's Kotlin half, published by this project (see its build file).
include(":platform-verifier")
