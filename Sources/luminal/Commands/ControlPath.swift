#if canImport(Glibc)
import Glibc
#endif

/// Where the control socket is: `--control PATH`, else `$LUMINAL_CONTROL`, else
/// `$XDG_RUNTIME_DIR/luminal.sock`, else `/tmp/luminal-UID.sock`.
enum ControlPath {
    static func resolve(_ arguments: ParsedArguments) -> String {
        if let path = arguments.values["control"] { return path }
        if let path = environment("LUMINAL_CONTROL") { return path }
        if let runtime = environment("XDG_RUNTIME_DIR") { return runtime + "/luminal.sock" }
        return "/tmp/luminal-\(getuid()).sock"
    }

    private static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// `path` made absolute against this process's working directory.
func absolute(_ path: String) -> String {
    guard !path.hasPrefix("/"), let cwd = getcwd(nil, 0) else { return path }
    defer { free(cwd) }
    return String(cString: cwd) + "/" + path
}
