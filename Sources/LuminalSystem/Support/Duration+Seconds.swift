extension Duration {
    /// In seconds, with the fraction.
    package var fractionalSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// To the nearest millisecond, for messages ("within 5.0 seconds", not "within 4.999999339
    /// seconds" for what was left of a 5 s timeout).
    package var toMilliseconds: Duration {
        let (seconds, attoseconds) = components
        return .seconds(seconds) + .milliseconds((attoseconds + 500_000_000_000_000) / 1_000_000_000_000_000)
    }
}
