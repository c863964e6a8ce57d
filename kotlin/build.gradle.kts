// matrix-mobile-core as an Android library (AAR).
//
// `cargo xtask android` is the usual entry point: it cross-compiles the core with
// cargo-ndk into src/main/jniLibs/<abi>/, generates the bindings into generated/,
// then runs this build with -Pmmc.skipCargo=true. Run on its own, this build
// generates the bindings itself (task `generateBindings`), but expects jniLibs
// to be there.
//
// Publishing (the vanniktech maven-publish plugin): `cargo xtask android
// --publish DIR` (and `release-local`, into its staging directory) runs
// `publishMavenPublicationToReleaseDirRepository -Pmmc.releaseRepo=DIR`,
// unsigned: JReleaser signs that directory, core-jvm beside it, and uploads
// it to Maven Central as one deployment (central/jreleaser.yml).
// `publishToMavenLocal` works too. Every archive is reproducible (no file
// times, a fixed entry order). The publication is
// dev.matrixmobilecore:core-android:<version>, where <version> is the
// `[workspace.package] version` of the root Cargo.toml, read here: no version
// is written in this directory. Its POM and Gradle module metadata carry jna
// (type aar), kotlinx-coroutines-android, androidx.startup and
// dev.matrixmobilecore:rustls-platform-verifier-android (platform-verifier/,
// rustls-platform-verifier's Kotlin half at the version of Cargo.lock).
//
// Source sets (shared with the JVM build in pom.xml):
//   generated/            UniFFI's matrix_mobile_core.kt (git-ignored)
//   src/main/kotlin       the hand-written idiomatic layer, platform-neutral
//   src/android/kotlin    Android-only code (AndroidPlatform)
//   src/sharedTest/kotlin the tests, run here as instrumented tests and on the JVM by Maven
//   src/androidTest/kotlin  the Android side of the tests' environment (TestEnv)
import com.vanniktech.maven.publish.AndroidSingleVariantLibrary
import org.jetbrains.kotlin.gradle.dsl.JvmTarget

plugins {
    id("com.android.library")
    id("org.jetbrains.kotlin.android")
    id("com.vanniktech.maven.publish")
}

val repoRoot: File = rootDir.parentFile
val generatedDir: File = layout.projectDirectory.dir("generated").asFile
val skipCargo: Boolean = providers.gradleProperty("mmc.skipCargo").map { it.toBoolean() }.getOrElse(false)

// `key = "..."` under `[workspace.package]` in the root Cargo.toml.
fun workspacePackage(key: String): String =
    providers.fileContents(layout.projectDirectory.file("../Cargo.toml")).asText.map { manifest ->
        var inTable = false
        manifest.lineSequence().map { it.trim() }.firstNotNullOfOrNull { line ->
            if (line.startsWith("[")) {
                inTable = line == "[workspace.package]"
                null
            } else if (inTable && line.substringBefore('=').trim() == key) {
                line.substringAfter('=').trim().trim('"')
            } else {
                null
            }
        } ?: error("no $key under [workspace.package] in the root Cargo.toml")
    }.get()

// The one version of the project.
val coreVersion: String = workspacePackage("version")
// The project's URL, the POM's url and scm (the xtask checks the README against it).
val repositoryUrl: String = workspacePackage("repository").trimEnd('/')

group = "dev.matrixmobilecore"
version = coreVersion

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

dependencies {
    // The generated bindings load the core through JNA; the AAR carries its
    // native part. `@aar` is published as <type>aar</type> in the POM.
    api("net.java.dev.jna:jna:5.17.0@aar")
    // suspend functions and Flow are part of the public API.
    api("org.jetbrains.kotlinx:kotlinx-coroutines-android:1.10.2")
    // MatrixCoreInitializer runs AndroidPlatform.init at start-up.
    implementation("androidx.startup:startup-runtime:1.2.0")
    // rustls-platform-verifier's Kotlin half, built from the upstream commit
    // that Cargo.lock pins (platform-verifier/). The POM names it as
    // dev.matrixmobilecore:rustls-platform-verifier-android at the crate's version.
    implementation(project(":platform-verifier"))

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

// Reproducible archives, here and in platform-verifier/: the AAR, its
// classes jar, the sources and javadoc jars carry no file times and list
// their entries in a fixed order, as core-jvm's jars do
// (project.build.outputTimestamp in pom.xml).
allprojects {
    tasks.withType<AbstractArchiveTask>().configureEach {
        isPreserveFileTimestamps = false
        isReproducibleFileOrder = true
    }
}

// dev.matrixmobilecore:core-android: the release variant with its sources
// jar (the generated bindings included) and its javadoc jar (AGP's
// withJavadocJar, which renders the KDoc with Dokka). Neither signed nor
// uploaded here: JReleaser does both for the whole staging directory.
mavenPublishing {
    coordinates("dev.matrixmobilecore", "core-android", coreVersion)
    configure(AndroidSingleVariantLibrary(variant = "release", sourcesJar = true, publishJavadocJar = true))
    pom {
        name.set("matrix-mobile-core for Android")
        description.set("Kotlin bindings of matrix-mobile-core, a Rust core for Matrix chat clients, with its native libraries for every Android ABI")
        url.set(repositoryUrl)
        licenses {
            license {
                name.set("Apache-2.0")
                url.set("https://www.apache.org/licenses/LICENSE-2.0.txt")
            }
        }
        developers {
            developer {
                id.set("matrix-mobile-core")
                name.set("The matrix-mobile-core developers")
                url.set(repositoryUrl)
            }
        }
        scm {
            url.set(repositoryUrl)
            connection.set("scm:git:$repositoryUrl.git")
            developerConnection.set("scm:git:$repositoryUrl.git")
        }
    }
}

publishing {
    repositories {
        // A directory in Maven layout: `-Pmmc.releaseRepo=DIR` (the xtask passes it).
        maven {
            name = "releaseDir"
            url = uri(providers.gradleProperty("mmc.releaseRepo").getOrElse(layout.buildDirectory.dir("repo").get().asFile.path))
        }
    }
}
