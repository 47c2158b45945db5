import LuminalWorker

extension FailureClass {
    /// The class of a failed generation bring-up at `step`.
    package init(step: ReloadStep, error: LoaderError) {
        switch step {
        case .resolve, .sockets, .spawn: self = .spawnError
        case .handshake: self = error.code == .protocolFault ? .protocolFault : .handshakeTimeout
        case .validate, .start, .group: self = .crashDuringStart
        }
    }
}
