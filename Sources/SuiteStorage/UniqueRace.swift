extension Database {
    /// The one policy for a write that a concurrent writer may race on the same unique value (an
    /// idempotency key, an invoice's one open checkout session, a webhook's event id): runs
    /// `body` in a write; when it fails because the other writer committed that value first (a
    /// unique violation, on a constraint mentioning `constraint` when given), runs it once more,
    /// and the second run finds the other writer's row and answers as a replay. `alsoRetrying`
    /// names the other failures such a race can cause (an overdraft seen before the concurrent
    /// same-key spend was visible). Any other error, or a second failure, reaches the caller.
    ///
    /// ```swift
    /// try await database.writeResolvingRace(onUnique: "idempotency_key") { tx in
    ///     try ledger.transfer(from: wallet, to: revenue, amount: 500, description: "Order 42", idempotencyKey: "order-42", in: tx)
    /// }
    /// ```
    public func writeResolvingRace<T: Sendable>(
        onUnique constraint: String? = nil, alsoRetrying: (any Error) -> Bool = { _ in false },
        _ body: @escaping @Sendable (any Transaction) throws -> T
    ) async throws -> T {
        do {
            return try await write(body)
        } catch let error as StorageError
                    where error.code == .uniqueViolation && (constraint.map { error.isUniqueViolation(mentioning: $0) } ?? true) {
            return try await write(body)
        } catch where alsoRetrying(error) {
            return try await write(body)
        }
    }
}
