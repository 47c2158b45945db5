extension LoaderEvent {
    /// What kind of event it is: the name of its case, which its JSON form's `event` member
    /// carries and `luminal events --kind` chooses by.
    public enum Kind: String, Sendable, CaseIterable {
        case loadStarted, loaded, loadFailed, skipped, started, stopped, killed, crashed, protocolFault, reloadStarted, reloaded, reloadRolledBack, recycling, scaled, scaleFailed, unresponsive, responsive, recycleFailed, failed, restarted, quarantined, callRetried, poisonCall, log, eventsDropped, photonEvent
    }

    /// Its kind.
    public var kind: Kind {
        switch self {
        case .loadStarted: .loadStarted
        case .loaded: .loaded
        case .loadFailed: .loadFailed
        case .skipped: .skipped
        case .started: .started
        case .stopped: .stopped
        case .killed: .killed
        case .crashed: .crashed
        case .protocolFault: .protocolFault
        case .reloadStarted: .reloadStarted
        case .reloaded: .reloaded
        case .reloadRolledBack: .reloadRolledBack
        case .recycling: .recycling
        case .scaled: .scaled
        case .scaleFailed: .scaleFailed
        case .unresponsive: .unresponsive
        case .responsive: .responsive
        case .recycleFailed: .recycleFailed
        case .failed: .failed
        case .restarted: .restarted
        case .quarantined: .quarantined
        case .callRetried: .callRetried
        case .poisonCall: .poisonCall
        case .log: .log
        case .eventsDropped: .eventsDropped
        case .photonEvent: .photonEvent
        }
    }
}
