// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Luminal",
    products: [
        .library(name: "Luminal", targets: ["Luminal"]),
        // What `luminal run` adds around the library, for a host that wants it too: the control
        // socket (`ControlServer`) and the metrics endpoint (`MetricsServer`).
        .library(name: "LuminalDaemon", targets: ["LuminalDaemon"]),
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
        // The supervisor in layers, each using only those below it (Sources/Luminal/ARCHITECTURE.md).
        // System: everything that talks to the kernel (processes, pipes, the event loop, cgroups, /proc).
        .target(name: "LuminalSystem", dependencies: ["LuminalWire", "_LuminalCShims"]),
        // Worker: a photon file as found on disk, and one generation's worker process.
        .target(name: "LuminalWorker", dependencies: ["LuminalSystem", "LuminalWire", "_LuminalCShims"]),
        // The supervisor library: Loader, Handler, lifecycles, supervision, watching, metrics, log files.
        .target(name: "Luminal", dependencies: ["LuminalWorker", "LuminalSystem", "LuminalWire", "_LuminalCShims"], exclude: ["ARCHITECTURE.md"]),
        // The daemon's parts: the control socket (server and client), the metrics endpoint, systemd.
        .target(name: "LuminalDaemon", dependencies: ["Luminal", "LuminalWorker", "LuminalSystem", "LuminalWire", "_LuminalCShims"]),
        // Doubles the tests drive the library with.
        .target(name: "LuminalTestKit", dependencies: ["Luminal"]),
        // The `luminal` command.
        .executableTarget(name: "luminal", dependencies: ["LuminalDaemon", "Luminal", "LuminalWorker", "LuminalSystem", "LuminalWire", "_LuminalCShims"]),
        // Example photon written with the SDK.
        .executableTarget(name: "swift-greeter", dependencies: ["LuminalPhoton"], path: "photons/swift-greeter/Sources"),
        // Misbehaving and instrumented photons for the test suite.
        .executableTarget(name: "chaos-photon", dependencies: ["LuminalPhoton", "LuminalWire"], path: "Tests/ChaosPhoton"),
        // The measurements Scripts/bench runs (release builds).
        .executableTarget(name: "luminal-bench", dependencies: ["LuminalDaemon", "Luminal", "LuminalTestKit", "LuminalWorker", "LuminalSystem", "LuminalWire", "_LuminalCShims"], path: "Scripts/Bench"),
        // The soak test run by Scripts/torture.
        .executableTarget(name: "luminal-torture", dependencies: ["LuminalDaemon", "Luminal", "LuminalTestKit", "LuminalWorker", "LuminalSystem", "LuminalWire"], path: "Scripts/Torture"),
        .testTarget(name: "LuminalWireTests", dependencies: ["LuminalWire", "LuminalTestKit"]),
        .testTarget(name: "LuminalTests", dependencies: ["LuminalTestKit", "LuminalDaemon", "Luminal", "LuminalWorker", "LuminalSystem", "LuminalWire", "_LuminalCShims", "chaos-photon", "swift-greeter"]),
    ]
)
