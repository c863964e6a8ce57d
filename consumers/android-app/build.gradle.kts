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

    // `assembleRelease` shrinks and obfuscates with R8, with the keep rules that
    // core-android publishes (kotlin/consumer-rules.pro, in the AAR) and none of
    // the app's own. The Android workflow builds it; nothing runs it there.
    buildTypes {
        release {
            isMinifyEnabled = true
            proguardFiles(getDefaultProguardFile("proguard-android-optimize.txt"))
        }
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
