extension Duration {
    /// In seconds, with the fraction.
    var fractionalSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
