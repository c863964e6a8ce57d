// swift-tools-version:6.0
//
// MatrixMobileCore: the Swift face of the Rust core. Resolve it by URL, at a
// release tag:
//
//     .package(url: "https://github.com/matrix-mobile-core/matrix-mobile-core", from: "<version>")
//
// Tools 6.0: every target builds in the Swift 6 language mode, with complete
// strict concurrency checking.
//
// The Swift sources are under `swift/`; the bindings that UniFFI generates
// from the core are committed there (`swift/Sources/MatrixMobileCore/Generated/`,
// `swift/Sources/MatrixMobileCoreFFI/`), so resolving the package needs no
// Rust toolchain. The C side of the core, the module `MatrixMobileCoreFFI`,
// depends on the platform that evaluates this manifest:
//
// - Apple, release mode: the binary target at `releaseURL`, checked against
//   `releaseChecksum`. Only a release commit sets the three `release*`
//   constants: `.github/workflows/release.yml` builds the XCFramework from a
//   commit of the default branch, commits the constants on top of it and tags
//   THAT commit `vX.Y.Z` (a tag is created once and never moved). On the
//   default branch they stay `nil`, so its bindings can never be paired with
//   a binary built from other sources.
// - Apple, local mode (development in this repository): when
//   `swift/Frameworks/MatrixMobileCoreFFI.xcframework` exists (written by
//   `cargo xtask apple`, git-ignored), that XCFramework is used instead.
//   `MMC_SWIFT_BINARY=release` forces release mode even then.
// - Linux: a system-library target whose module map links
//   `libmatrix_mobile_core`; pass its directory with `-Xlinker -L<dir>` and
//   put it on `LD_LIBRARY_PATH` (`cargo xtask test swift` does both).
//
// `releaseBindings` is the SHA-256 of the committed generated files (Swift,
// C header, module map) that the release binary was built with. `cargo xtask
// test swift` and `cargo test -p xtask` fail when it is set and differs from
// the committed files (xtask/src/swift/pin.rs), or when only some of the
// three constants are set.

import Foundation
import PackageDescription

/// The zipped XCFramework of this release, the checksum `swift package
/// compute-checksum` printed for it, and the hash of the bindings it was
/// built with. Written by the release workflow on the release commit only
/// (`cargo xtask swift-pin`); `nil` everywhere else. Do not edit by hand.
let releaseURL: String? = nil
let releaseChecksum: String? = nil
let releaseBindings: String? = nil

let localXCFramework = "swift/Frameworks/MatrixMobileCoreFFI.xcframework"

#if os(macOS)
let useLocalBinary = Context.environment["MMC_SWIFT_BINARY"] != "release"
    && FileManager.default.fileExists(atPath: Context.packageDirectory + "/" + localXCFramework)
let ffiTarget: Target = {
    if useLocalBinary {
        return .binaryTarget(name: "MatrixMobileCoreFFI", path: localXCFramework)
    }
    guard let url = releaseURL, let checksum = releaseChecksum, releaseBindings != nil else {
        fatalError("""
            MatrixMobileCore: this commit is not a release, so it pins no binary of the core. \
            Depend on a release tag (`from: "<version>"`), or build the XCFramework of this \
            commit with `cargo xtask apple` (it lands in \(localXCFramework)).
            """)
    }
    return .binaryTarget(name: "MatrixMobileCoreFFI", url: url, checksum: checksum)
}()
// What the Rust static library needs from the system: TLS certificate
// verification (Security) and proxy discovery (SystemConfiguration).
let coreLinkerSettings: [LinkerSetting] = [
    .linkedFramework("Security"),
    .linkedFramework("SystemConfiguration"),
    .linkedFramework("CoreFoundation"),
]
#else
let ffiTarget: Target = .systemLibrary(name: "MatrixMobileCoreFFI", path: "swift/Sources/MatrixMobileCoreFFI")
let coreLinkerSettings: [LinkerSetting] = []
#endif

let package = Package(
    name: "MatrixMobileCore",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "MatrixMobileCore", targets: ["MatrixMobileCore"]),
    ],
    targets: [
        ffiTarget,
        .target(
            name: "MatrixMobileCore",
            dependencies: ["MatrixMobileCoreFFI"],
            path: "swift/Sources/MatrixMobileCore",
            linkerSettings: coreLinkerSettings
        ),
        .testTarget(
            name: "MatrixMobileCoreTests",
            dependencies: ["MatrixMobileCore"],
            path: "swift/Tests/MatrixMobileCoreTests"
        ),
    ],
    swiftLanguageModes: [.v6]
)
