/// How many items are in each status of a state machine: every status present, zero when none.
///
/// In JSON: `{"counts": {"active": 3, "pending": 1, …}, "total": 4}`.
///
/// ```swift
/// let breakdown = try await clients.analytics().statusBreakdown()
/// print(breakdown[.active], breakdown.total)
/// ```
public struct StatusCounts<Status: Hashable & Sendable & CaseIterable & Codable & CodingKeyRepresentable>: Hashable, Sendable, Codable {
    /// The count of each status (a status missing here counts zero).
    public var counts: [Status: Int64]

    /// Counts from a map of status to count.
    public init(counts: [Status: Int64]) { self.counts = counts }

    /// The count of `status` (zero when there is none).
    public subscript(status: Status) -> Int64 { counts[status] ?? 0 }

    /// All items, whatever their status.
    public var total: Int64 { counts.values.reduce(0, +) }

    private enum CodingKeys: String, CodingKey { case counts, total }

    /// Decodes `counts`; `total` is derived, so it is not read.
    public init(from decoder: any Decoder) throws {
        counts = try decoder.container(keyedBy: CodingKeys.self).decode([Status: Int64].self, forKey: .counts)
    }

    /// Encodes every status's count (zeros included) and the ``total``.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Dictionary(uniqueKeysWithValues: Status.allCases.map { ($0, self[$0]) }), forKey: .counts)
        try container.encode(total, forKey: .total)
    }
}
