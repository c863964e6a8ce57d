// dev.matrixmobilecore:rustls-platform-verifier-android: rustls-platform-verifier's
// Kotlin half (package org.rustls.platformverifier, which the Rust crate calls
// through JNI), built from its upstream sources and published to Maven Central
// by this project, so that core-android resolves from google() and
// mavenCentral() alone: staged unsigned beside core-android, signed and
// uploaded with it by JReleaser (../central/jreleaser.yml); its archives are
// reproducible (../build.gradle.kts).
//
// Nothing of upstream is committed here. `cargo xtask android` checks out the
// commit that the `rustls-platform-verifier-android` crate in Cargo.lock was
// published from (its .cargo_vcs_info.json) into upstream/, with a PINNED file:
// the version (the crate's, so the Kotlin and Rust halves always match), the
// commit and the module's path. This build compiles that module's main source
// set's Kotlin sources and resources unchanged (with an empty manifest of its
// own), and ships upstream's licence files in the AAR.
import com.vanniktech.maven.publish.AndroidSingleVariantLibrary
import org.jetbrains.kotlin.gradle.dsl.JvmTarget

plugins {
    id("com.android.library")
    id("org.jetbrains.kotlin.android")
    id("com.vanniktech.maven.publish")
}

val upstreamDir: File = layout.projectDirectory.dir("upstream").asFile

// upstream/PINNED, written by `cargo xtask android`.
val pinned: Map<String, String> = File(upstreamDir, "PINNED").let { file ->
    check(file.isFile) {
        "kotlin/platform-verifier/upstream is not checked out: run `cargo xtask android` from the repository root"
    }
    file.readLines().filter { '=' in it }.associate { it.substringBefore('=') to it.substringAfter('=') }
}

fun pinnedValue(key: String): String = pinned[key] ?: error("upstream/PINNED has no $key")

val verifierVersion: String = pinnedValue("version")
val upstreamCommit: String = pinnedValue("commit")
val upstreamUrl: String = pinnedValue("repository")
val upstreamMain: File = File(upstreamDir, "${pinnedValue("module")}/src/main")

android {
    // The upstream namespace: the Rust crate finds its classes by these names.
    namespace = "org.rustls.platformverifier"
    compileSdk = 35

    defaultConfig {
        minSdk = 24
        consumerProguardFiles("consumer-rules.pro")
        // Upstream's code reads `BuildConfig.TEST` (true only in its own test
        // builds, where it accepts mock roots); a published build is never one.
        buildConfigField("boolean", "TEST", "false")
    }

    buildFeatures {
        buildConfig = true
    }

    buildTypes {
        release {
            isMinifyEnabled = false
        }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    sourceSets {
        getByName("main") {
            // Ours (empty), not upstream's: see src/main/AndroidManifest.xml.
            manifest.srcFile("src/main/AndroidManifest.xml")
            java.srcDirs(File(upstreamMain, "java"))
            res.srcDirs(File(upstreamMain, "res"))
            // LICENSE-MIT and LICENSE-APACHE, under META-INF/ of the classes jar.
            resources.srcDirs(layout.buildDirectory.dir("upstream-licenses"))
        }
    }
}

kotlin {
    compilerOptions {
        jvmTarget.set(JvmTarget.JVM_17)
    }
}

val upstreamLicenses by tasks.registering(Copy::class) {
    description = "Puts upstream's licence files into the AAR's classes jar."
    from(upstreamDir) {
        include("LICENSE*")
    }
    into(layout.buildDirectory.dir("upstream-licenses/META-INF/rustls-platform-verifier"))
    doLast {
        check(destinationDir.listFiles()?.isNotEmpty() == true) { "upstream has no LICENSE files at $upstreamCommit" }
    }
}

tasks.named("preBuild") { dependsOn(upstreamLicenses) }

mavenPublishing {
    coordinates("dev.matrixmobilecore", "rustls-platform-verifier-android", verifierVersion)
    configure(AndroidSingleVariantLibrary(variant = "release", sourcesJar = true, publishJavadocJar = true))
    pom {
        name.set("rustls-platform-verifier for Android (matrix-mobile-core)")
        description.set(
            "The Kotlin half of rustls-platform-verifier $verifierVersion, built unchanged from $upstreamUrl at " +
                "$upstreamCommit and published by matrix-mobile-core so that core-android resolves from Maven Central"
        )
        url.set(upstreamUrl)
        licenses {
            license {
                name.set("MIT")
                url.set("$upstreamUrl/blob/$upstreamCommit/LICENSE-MIT")
            }
            license {
                name.set("Apache-2.0")
                url.set("$upstreamUrl/blob/$upstreamCommit/LICENSE-APACHE")
            }
        }
        developers {
            developer {
                id.set("rustls")
                name.set("The rustls-platform-verifier developers")
                url.set(upstreamUrl)
            }
        }
        scm {
            url.set("$upstreamUrl/tree/$upstreamCommit")
            connection.set("scm:git:$upstreamUrl.git")
            developerConnection.set("scm:git:$upstreamUrl.git")
            tag.set(upstreamCommit)
        }
    }
}

publishing {
    repositories {
        maven {
            name = "releaseDir"
            url = uri(providers.gradleProperty("mmc.releaseRepo").getOrElse(layout.buildDirectory.dir("repo").get().asFile.path))
        }
    }
}
