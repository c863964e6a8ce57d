// The Android library of matrix-mobile-core: one module, built from this directory.
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
        // Signing and the Central Portal upload of core-android.
        id("com.vanniktech.maven.publish") version "0.34.0"
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
        // rustls-platform-verifier's Kotlin half (an AAR) is published as a Maven
        // repository on its project's `maven-archive` branch, not on Maven Central.
        // Its version is taken from Cargo.lock in build.gradle.kts.
        maven {
            url = uri("https://github.com/rustls/rustls-platform-verifier/raw/maven-archive/android-release-support/maven/")
            content { includeGroup("rustls") }
        }
    }
}

rootProject.name = "matrix-mobile-core"
