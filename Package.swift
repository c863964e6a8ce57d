// swift-tools-version:5.9
//
// MatrixMobileCore: the Swift face of the Rust core. Resolve it by URL:
//
//     .package(url: "https://github.com/matrix-mobile-core/matrix-mobile-core", from: "<version>")
//
// The Swift sources are under `swift/`; the bindings that UniFFI generates
// from the core are committed there (`swift/Sources/MatrixMobileCore/Generated/`,
// `swift/Sources/MatrixMobileCoreFFI/`), so resolving the package needs no
// Rust toolchain. The C side of the core, the module `MatrixMobileCoreFFI`,
// depends on the platform that evaluates this manifest:
//
// - Apple, release mode (the default): the binary target at `releaseURL`,
//   checked against `releaseChecksum`. Both constants are rewritten by
//   `.github/workflows/release.yml` for every release tag; the zip comes from
//   `cargo xtask release-local` on macOS.
// - Apple, local mode (development in this repository): when
//   `swift/Frameworks/MatrixMobileCoreFFI.xcframework` exists (written by
//   `cargo xtask apple`, git-ignored), that XCFramework is used instead.
//   `MMC_SWIFT_BINARY=release` forces release mode even then.
// - Linux: a system-library target whose module map links
//   `libmatrix_mobile_core`; pass its directory with `-Xlinker -L<dir>` and
//   put it on `LD_LIBRARY_PATH` (`cargo xtask test swift` does both).

import Foundation
import PackageDescription

/// The zipped XCFramework of the latest release, and the checksum that
/// `swift package compute-checksum` printed for it. Rewritten by the release
/// workflow; do not edit by hand.
let releaseURL = "https://github.com/matrix-mobile-core/matrix-mobile-core/releases/download/v0.1.0/MatrixMobileCoreFFI.xcframework.zip"
let releaseChecksum = "0000000000000000000000000000000000000000000000000000000000000000"

let localXCFramework = "swift/Frameworks/MatrixMobileCoreFFI.xcframework"

#if os(macOS)
let useLocalBinary = Context.environment["MMC_SWIFT_BINARY"] != "release"
    && FileManager.default.fileExists(atPath: Context.packageDirectory + "/" + localXCFramework)
let ffiTarget: Target = useLocalBinary
    ? .binaryTarget(name: "MatrixMobileCoreFFI", path: localXCFramework)
    : .binaryTarget(name: "MatrixMobileCoreFFI", url: releaseURL, checksum: releaseChecksum)
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
    ]
)
