extension Duration {
    /// In seconds, with the fraction.
    package var fractionalSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
