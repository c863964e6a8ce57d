plugins {
    id("com.android.application")
    id("org.jetbrains.kotlin.android")
}

val coreVersion: String = providers.gradleProperty("mmc.version").orNull
    ?: error("pass -Pmmc.version=<the core's version>")

android {
    namespace = "dev.matrixmobilecore.consumer"
    compileSdk = 35

    defaultConfig {
        applicationId = "dev.matrixmobilecore.consumer"
        minSdk = 24
        targetSdk = 35
        versionCode = 1
        versionName = "1"
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    sourceSets {
        getByName("main") { java.srcDirs("src/main/kotlin") }
    }

    // 16 KB pages: keep the libraries uncompressed and page-aligned in the APK.
    packaging {
        jniLibs { useLegacyPackaging = false }
    }
}

kotlin {
    jvmToolchain(17)
}

dependencies {
    // The only line an app needs: JNA, coroutines and rustls-platform-verifier come with it.
    implementation("dev.matrixmobilecore:core-android:$coreVersion")
}
