/// Waits for `condition`, checking up to `attempts` times with a short pause (10 ms) between — a
/// bound on the work, not a timing assertion. Returns whether the condition came to hold.
public func eventually(attempts: Int = 1_000, _ condition: @Sendable () async throws -> Bool) async throws -> Bool {
    for _ in 0..<attempts {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(10))
    }
    return false
}
