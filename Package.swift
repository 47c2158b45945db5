// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Luminal",
    products: [
        .library(name: "Luminal", targets: ["Luminal"]),
        .library(name: "LuminalPhoton", targets: ["LuminalPhoton"]),
        .executable(name: "luminal", targets: ["luminal"]),
    ],
    targets: [
        // Wire format shared by host and worker: framing, JSON values, messages.
        .target(name: "LuminalWire"),
        // Libc calls that Glibc does not import into Swift, and the contained spawn.
        .target(name: "_LuminalCShims"),
        // Worker SDK: a Swift photon in a few lines, no Foundation.
        .target(name: "LuminalPhoton", dependencies: ["LuminalWire"]),
        // The supervisor library: Loader, Handler, process layer.
        .target(name: "Luminal", dependencies: ["LuminalWire", "_LuminalCShims"], exclude: ["ARCHITECTURE.md"]),
        // The `luminal` command.
        .executableTarget(name: "luminal", dependencies: ["Luminal", "LuminalWire"]),
        // Example photon written with the SDK.
        .executableTarget(name: "swift-greeter", dependencies: ["LuminalPhoton"], path: "photons/swift-greeter/Sources"),
        // Misbehaving and instrumented photons for the test suite.
        .executableTarget(name: "chaos-photon", dependencies: ["LuminalPhoton", "LuminalWire"], path: "Tests/ChaosPhoton"),
        // The measurements Scripts/bench runs (release builds).
        .executableTarget(name: "luminal-bench", dependencies: ["Luminal", "LuminalWire", "_LuminalCShims"], path: "Scripts/Bench"),
        // The soak test run by Scripts/torture.
        .executableTarget(name: "luminal-torture", dependencies: ["Luminal", "LuminalWire"], path: "Scripts/Torture"),
        .testTarget(name: "LuminalWireTests", dependencies: ["LuminalWire"]),
        .testTarget(name: "LuminalTests", dependencies: ["Luminal", "LuminalWire", "chaos-photon", "swift-greeter"]),
    ]
)
