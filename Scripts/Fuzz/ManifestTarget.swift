import Glibc
@testable import LuminalWorker

// libFuzzer target: the package manifest parser (photon.json). Each input is written as the
// manifest of one package folder holding an executable `run`, and loaded; it may be refused with
// a LoaderError, and nothing may trap.

/// The package folder, made once per process and removed at exit.
let package: String = {
    var template = Array("/tmp/luminal-fuzz-XXXXXX".utf8CString)
    let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    precondition(made != nil, "mkdtemp failed")
    let path = String(cString: made!)
    write(path + "/run", Array("#!/bin/sh\n".utf8), mode: 0o755)
    atexit {
        unlink(package + "/" + Manifest.fileName)
        unlink(package + "/run")
        rmdir(package)
    }
    return path
}()

func write(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
    precondition(fd >= 0, "cannot write \(path)")
    bytes.withUnsafeBytes { _ = Glibc.write(fd, $0.baseAddress, $0.count) }
    close(fd)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzManifest(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    write(package + "/" + Manifest.fileName, Array(UnsafeBufferPointer(start: data, count: size)))
    _ = try? Manifest.load(package: package)
    return 0
}
