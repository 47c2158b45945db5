#if canImport(Glibc)
import Glibc
#endif
import LuminalSystem
import LuminalWorker

extension Loader {
    /// The sockets `file` declares: those the file holds already (listening again with the full
    /// backlog, in case a worker shrank it or shut the socket down), the others bound now (kept
    /// by the new generation only if it comes to serve). A Unix socket whose file is no longer
    /// where its path leads (the package folder replaced, the file removed) is bound anew there.
    func holdSockets(of file: PhotonFile) throws(LoaderError) -> [HeldSocket] {
        let held = records[file.path].loaded?.sockets ?? []
        Self.keepListening(held, of: file.path, context: context)
        var sockets: [HeldSocket] = []
        for declared in file.sockets {
            if let same = held.first(where: { $0.address == declared.address && $0.isInPlace }) {
                sockets.append(same)
                continue
            }
            do {
                sockets.append(try HeldSocket.bind(declared.address, within: file.path))
            } catch {
                var hint = ""
                if case .tcp(_, let port) = declared.address, error.errno == EADDRINUSE,
                   let own = held.first(where: { if case .tcp(_, port) = $0.address { true } else { false } }) {
                    hint = "; this file holds \(own.address) already, which overlaps it: unload and load the file to move a socket to another address of the same port"
                }
                var failure = LoaderError(.socketUnavailable, "photon file \(file.path) cannot listen on \(declared.address): \(error)\(hint)", file: file.path)
                // Another process, or a file about to be unloaded (a package moved), may let it go.
                failure.heldElsewhere = error.errno == EADDRINUSE
                throw failure
            }
        }
        return sockets
    }

    /// Makes each of `sockets` listen with the full backlog again, and warns of each that had
    /// stopped listening: a worker that calls `shutdown(2)` on its copy takes the socket itself out
    /// of listening (connections then waiting are lost, new ones refused until this runs), for the
    /// generation that serves beside it too. Called before each spawn and after a generation ends.
    static func keepListening(_ sockets: [HeldSocket], of path: String, context: LoaderContext) {
        for socket in sockets {
            let wasListening = socket.isListening
            do {
                try socket.listenAgain()
                if !wasListening {
                    context.log.limited(.warning, "socket.shutdown", subject: path,
                                        "a worker of \(path) shut its held socket \(socket.address) down: it listens again (connections waiting on it were lost)", file: path)
                }
            } catch {
                context.log.limited(.error, "socket.listen", subject: path, "photon file \(path) holds \(socket.address), which cannot listen again: \(error)", file: path)
            }
        }
    }
}
