// swift-tools-version:5.9
//
// MatrixMobileCore: the Swift face of the Rust core.
//
// The C side of the core, the module `MatrixMobileCoreFFI`, comes from two
// places, chosen by the platform that evaluates this manifest:
//
// - Apple (Xcode, `swift build` on macOS): the binary target
//   `Frameworks/MatrixMobileCoreFFI.xcframework`, built by `cargo xtask apple`
//   (which also writes `target/apple/MatrixMobileCoreFFI.xcframework`).
//   SwiftPM wants a local binary target inside the package, hence the copy.
//   For a release, zip the XCFramework, run `swift package compute-checksum`
//   on the zip, and set `releaseBinary` below to its URL and checksum.
// - Linux: a system-library target whose module map (written by
//   `cargo xtask test`) links `libmatrix_mobile_core`; pass its directory with
//   `-Xlinker -L<dir>` and put it on `LD_LIBRARY_PATH`.
//
// Either way the generated Swift bindings go to
// `Sources/MatrixMobileCore/Generated/` (git-ignored), written by the xtask.

import PackageDescription

/// Set for a release: where the zipped XCFramework is published, and the
/// checksum `swift package compute-checksum` printed for it.
let releaseBinary: (url: String, checksum: String)? = nil

#if os(macOS)
let ffiTarget: Target = {
    if let release = releaseBinary {
        return .binaryTarget(name: "MatrixMobileCoreFFI", url: release.url, checksum: release.checksum)
    }
    return .binaryTarget(name: "MatrixMobileCoreFFI", path: "Frameworks/MatrixMobileCoreFFI.xcframework")
}()
// What the Rust static library needs from the system: TLS certificate
// verification (Security) and proxy discovery (SystemConfiguration).
let coreLinkerSettings: [LinkerSetting] = [
    .linkedFramework("Security"),
    .linkedFramework("SystemConfiguration"),
    .linkedFramework("CoreFoundation"),
]
#else
let ffiTarget: Target = .systemLibrary(name: "MatrixMobileCoreFFI", path: "Sources/MatrixMobileCoreFFI")
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
            path: "Sources/MatrixMobileCore",
            linkerSettings: coreLinkerSettings
        ),
        .testTarget(
            name: "MatrixMobileCoreTests",
            dependencies: ["MatrixMobileCore"],
            path: "Tests/MatrixMobileCoreTests"
        ),
    ]
)
