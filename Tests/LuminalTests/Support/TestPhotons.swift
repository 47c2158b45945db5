#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
@testable import LuminalWorker

/// Where the package's built executables are: beside the test bundle.
enum BuildProducts {
    static let directory: String = {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX))
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        let exe = String(decoding: buffer.prefix(max(0, n)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return Paths.parent(exe)
    }()

    static var chaosPhoton: String { Paths.join(directory, "chaos-photon") }

    /// The repository root, from this file's path.
    static let repository: String = Paths.absolute(Paths.join(Paths.parent(#filePath), "../../.."))
}

/// A temporary folder of photon files, removed with everything in it by `remove()`.
struct PhotonFolder {
    let path: String

    init() {
        var template = Array("/tmp/luminal-test-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Writes an executable script `name` that runs the chaos photon in `mode`, its photon named `photon`.
    @discardableResult
    func chaos(_ name: String, mode: String = "serve", photon: String? = nil) -> String {
        script(name, "exec '\(BuildProducts.chaosPhoton)' \(mode) \(photon ?? Paths.name(name))")
    }

    /// Writes an executable shell script.
    @discardableResult
    func script(_ name: String, _ body: String, executable: Bool = true) -> String {
        write(name, "#!/bin/sh\n\(body)\n", mode: executable ? 0o755 : 0o644)
    }

    /// Writes a file (creating folders) and returns its path.
    @discardableResult
    func write(_ name: String, _ text: String, mode: mode_t = 0o644) -> String {
        write(name, bytes: Array(text.utf8), mode: mode)
    }

    /// Writes a file of `bytes` (creating folders) and returns its path.
    @discardableResult
    func write(_ name: String, bytes: [UInt8], mode: mode_t = 0o644) -> String {
        let file = Paths.join(path, name)
        mkdirAll(Paths.parent(file))
        let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        precondition(fd >= 0, "cannot write \(file)")
        bytes.withUnsafeBytes { _ = Glibc.write(fd, $0.baseAddress, $0.count) }
        fchmod(fd, mode)
        close(fd)
        return file
    }

    func mkdirAll(_ directory: String) {
        if Paths.kind(directory) == .directory { return }
        mkdirAll(Paths.parent(directory))
        mkdir(directory, 0o755)
    }

    func remove() {
        remove(path)
    }

    /// Removes `path` and, for a folder, what is in it; symlinks go as links.
    func remove(_ path: String) {
        var info = stat()
        // lstat: a symlink to a folder (even one to `..`) goes as a link, never as what it names.
        if lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR, let names = Paths.entries(of: path) {
            names.forEach { remove(Paths.join(path, $0)) }
            rmdir(path)
        } else {
            unlink(path)
        }
    }
}

/// Runs `body` with a fresh folder and a loader (logging to `logSink`, if given), then unloads
/// everything and removes the folder.
func withLoader<T>(configuration: LoaderConfiguration = .fast, suppressErrors: Bool = false, logSink: LogSink? = nil,
                   _ body: (Loader, PhotonFolder) async throws -> T) async throws -> T {
    let folder = PhotonFolder()
    let loader = Loader(logging: logSink != nil, suppressErrors: suppressErrors, configuration: configuration, logSink: logSink)
    defer { folder.remove() }
    do {
        let result = try await body(loader, folder)
        await loader.unloadAll(forceStop: true)
        return result
    } catch {
        await loader.unloadAll(forceStop: true)
        throw error
    }
}

extension LoaderConfiguration {
    /// `fast`, with crashed workers left crashed, for tests that examine a crash itself.
    static var fastWithoutRestarts: LoaderConfiguration {
        var configuration = LoaderConfiguration.fast
        configuration.restart = RestartPolicy(.never)
        return configuration
    }

    /// `fastWithoutRestarts`, with a loader handshake timeout longer than any test: a load
    /// waiting for a hello holds its bring-up place for good, so a test that fills every place
    /// finds them still full however slowly it gets there.
    static var placesHeldForGood: LoaderConfiguration {
        var configuration = LoaderConfiguration.fastWithoutRestarts
        configuration.handshakeTimeout = .seconds(3600)
        return configuration
    }

    /// Short stop and kill timeouts, so escalation tests finish quickly; the handshake keeps its room.
    static var fast: LoaderConfiguration {
        var configuration = LoaderConfiguration()
        configuration.stopTimeout = .seconds(2)
        configuration.killTimeout = .seconds(1)
        configuration.drainTimeout = .seconds(2)
        return configuration
    }
}

/// True while `pid` exists and is not a zombie.
func isAlive(_ pid: pid_t) -> Bool {
    guard let stat = Procfs.stat(pid) else { return false }
    return stat.state != "Z"
}

/// True while `pid` exists at all (alive or zombie).
func exists(_ pid: pid_t) -> Bool {
    Procfs.stat(pid) != nil
}

extension PhotonFolder {
    /// Writes an executable Python photon file that imports the repository's runtime; `body`
    /// follows `from luminal_photon import Photon, PhotonError, run`.
    @discardableResult
    func python(_ name: String, _ body: String) -> String {
        let runtime = Paths.join(BuildProducts.repository, "protocol/python")
        return write(name, "#!/usr/bin/env python3\nimport sys\nsys.path.insert(0, '\(runtime)')\nfrom luminal_photon import Photon, PhotonError, run\n\(body)\n", mode: 0o755)
    }
}
