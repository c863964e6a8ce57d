// matrix-mobile-core as an Android library (AAR).
//
// `cargo xtask android` is the usual entry point: it cross-compiles the core with
// cargo-ndk into src/main/jniLibs/<abi>/, generates the bindings into generated/,
// then runs this build with -Pmmc.skipCargo=true. Run on its own, this build
// generates the bindings itself (task `generateBindings`), but expects jniLibs
// to be there.
//
// Source sets (shared with the JVM build in pom.xml):
//   generated/            UniFFI's matrix_mobile_core.kt (git-ignored)
//   src/main/kotlin       the hand-written idiomatic layer, platform-neutral
//   src/android/kotlin    Android-only code (AndroidPlatform)
//   src/sharedTest/kotlin the tests, run here as instrumented tests and on the JVM by Maven
//   src/androidTest/kotlin  the Android side of the tests' environment (TestEnv)
import org.jetbrains.kotlin.gradle.dsl.JvmTarget

plugins {
    id("com.android.library")
    id("org.jetbrains.kotlin.android")
}

val repoRoot: File = rootDir.parentFile
val generatedDir: File = layout.projectDirectory.dir("generated").asFile
val skipCargo: Boolean = providers.gradleProperty("mmc.skipCargo").map { it.toBoolean() }.getOrElse(false)

android {
    namespace = "dev.matrixmobilecore"
    compileSdk = 35

    defaultConfig {
        minSdk = 24
        testInstrumentationRunner = "androidx.test.runner.AndroidJUnitRunner"
        consumerProguardFiles("consumer-rules.pro")
        ndk {
            abiFilters += listOf("arm64-v8a", "armeabi-v7a", "x86_64", "x86")
        }
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
            java.srcDirs("src/main/kotlin", "src/android/kotlin", generatedDir)
            // jniLibs: the default src/main/jniLibs, filled by cargo-ndk.
        }
        getByName("androidTest") {
            java.srcDirs("src/sharedTest/kotlin", "src/androidTest/kotlin")
        }
    }
}

kotlin {
    compilerOptions {
        jvmTarget.set(JvmTarget.JVM_17)
    }
}

// rustls-platform-verifier's Kotlin component must be the exact version that
// matches the Rust crate in Cargo.lock (`rustls-platform-verifier-android`),
// as its documentation prescribes; a mismatch fails at run time, not at build time.
abstract class RustlsVerifierVersion : ValueSource<String, RustlsVerifierVersion.Params> {
    interface Params : ValueSourceParameters {
        val lockFile: RegularFileProperty
    }

    override fun obtain(): String {
        val lines = parameters.lockFile.get().asFile.readLines()
        val at = lines.indexOfFirst { it.trim() == "name = \"$CRATE\"" }
        check(at >= 0) { "$CRATE not found in Cargo.lock; is rustls-platform-verifier still a dependency?" }
        return lines.drop(at + 1)
            .first { it.trimStart().startsWith("version = ") }
            .substringAfter('"')
            .substringBefore('"')
    }

    companion object {
        const val CRATE = "rustls-platform-verifier-android"
    }
}

val rustlsVerifierVersion = providers.of(RustlsVerifierVersion::class.java) {
    parameters.lockFile.set(File(repoRoot, "Cargo.lock"))
}

configurations.configureEach {
    resolutionStrategy.eachDependency {
        if (requested.group == "rustls" && requested.name == "rustls-platform-verifier") {
            useVersion(rustlsVerifierVersion.get())
            because("the Kotlin component must match ${RustlsVerifierVersion.CRATE} in Cargo.lock")
        }
    }
}

dependencies {
    // The generated bindings load the core through JNA; the AAR carries its native part.
    api("net.java.dev.jna:jna:5.17.0@aar")
    // suspend functions and Flow are part of the public API.
    api("org.jetbrains.kotlinx:kotlinx-coroutines-android:1.10.2")
    // Version chosen above from Cargo.lock.
    implementation("rustls:rustls-platform-verifier")

    androidTestImplementation("androidx.test:runner:1.6.2")
    androidTestImplementation("androidx.test:core:1.6.1")
    androidTestImplementation("org.jetbrains.kotlin:kotlin-test-junit:2.2.20")
    androidTestImplementation("junit:junit:4.13.2")
}

// The bindings are generated from the host build of the core (library mode), so
// they match the Rust sources exactly; the Android .so files are built from the
// same sources by cargo-ndk.
val generateBindings by tasks.registering(Exec::class) {
    description = "Generates the Kotlin bindings into generated/ (cargo xtask bindings kotlin)."
    workingDir = repoRoot
    commandLine("cargo", "xtask", "bindings", "kotlin", "--out", generatedDir.absolutePath)
    inputs.dir(File(repoRoot, "core/src"))
    inputs.file(File(repoRoot, "Cargo.lock"))
    inputs.file(File(repoRoot, "core/uniffi.toml"))
    outputs.dir(generatedDir)
}

val jniLibsDir: File = layout.projectDirectory.dir("src/main/jniLibs").asFile

tasks.named("preBuild") {
    if (!skipCargo) dependsOn(generateBindings)
    // A local copy, so that the action does not capture the script (configuration cache).
    val jniLibs = jniLibsDir
    doFirst {
        check(jniLibs.isDirectory && (jniLibs.listFiles()?.isNotEmpty() == true)) {
            "src/main/jniLibs is empty: run `cargo xtask android` from the repository root"
        }
    }
}
