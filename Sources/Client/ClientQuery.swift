public import SuiteCore
public import SuiteStorage

/// A composable, immutable query over clients. Scopes narrow the result (they combine with AND);
/// results come in pages ordered by creation, with an opaque cursor for the next page — the
/// suite never loads an unbounded result.
///
/// ```swift
/// var page = try await clients.query().active().reselled().limit(100).fetch()
/// while let cursor = page.nextCursor {
///     page = try await clients.query().active().reselled().limit(100).after(cursor).fetch()
/// }
/// ```
public struct ClientQuery: Sendable {
    let clients: Clients
    var statuses: Set<ClientStatus>?
    var standaloneOnly = false
    var reselledOnly = false
    var reseller: Refid?
    /// Set by a ``ResellerPortfolio``: every page is confined to this reseller's clients.
    var portfolioReseller: Refid?
    var newestFirst = false
    var pageSize = 50
    var cursor: Cursor?

    /// The largest page a caller may ask for.
    public static let maximumPageSize = 500

    /// Only active clients.
    public func active() -> ClientQuery { status(.active) }
    /// Only pending clients.
    public func pending() -> ClientQuery { status(.pending) }
    /// Only suspended clients.
    public func suspended() -> ClientQuery { status(.suspended) }
    /// Only inactive clients.
    public func inactive() -> ClientQuery { status(.inactive) }

    /// Only clients in `status` (combined with earlier status scopes by AND).
    public func status(_ status: ClientStatus) -> ClientQuery {
        with { $0.statuses = ($0.statuses ?? Set(ClientStatus.allCases)).intersection([status]) }
    }

    /// Only clients without a reseller.
    public func standalone() -> ClientQuery { with { $0.standaloneOnly = true } }
    /// Only clients managed by some reseller.
    public func reselled() -> ClientQuery { with { $0.reselledOnly = true } }
    /// Only clients managed by `reseller`.
    public func forReseller(_ reseller: Refid) -> ClientQuery { with { $0.reseller = reseller } }
    /// Newest first instead of oldest first.
    public func newestFirst(_ flag: Bool = true) -> ClientQuery { with { $0.newestFirst = flag } }
    /// Page size, 1…500 (default 50).
    public func limit(_ size: Int) -> ClientQuery { with { $0.pageSize = size } }
    /// Continue after the page that returned `cursor`.
    public func after(_ cursor: Cursor?) -> ClientQuery { with { $0.cursor = cursor } }

    /// One page of matching clients.
    public func fetch() async throws -> Page<Client> {
        try checkArguments()
        let query = self
        return try await clients.database.read { tx in try query.fetch(in: tx) }
    }

    /// One page, inside an open transaction.
    public func fetch(in tx: any Transaction) throws -> Page<Client> {
        try checkArguments()
        var conditions: [SQL] = []
        if let statuses {
            if statuses.isEmpty { return .empty }
            conditions.append("status = \(statuses.first!.rawValue)")
        }
        if standaloneOnly && (reselledOnly || reseller != nil) { return .empty }
        if standaloneOnly { conditions.append("owner_refid IS NULL") }
        if reselledOnly { conditions.append("owner_refid IS NOT NULL") }
        if let reseller { conditions.append("owner_refid = \(reseller)") }
        if let portfolioReseller {
            if let reseller, reseller != portfolioReseller { return .empty }
            conditions.append("owner_refid = \(portfolioReseller)")
        }
        return try Keyset(table: "client_clients", newestFirst: newestFirst).page(
            select: Clients.columns, where: conditions, after: cursor, limit: pageSize, in: tx,
            invalidCursor: ClientError(.invalidQuery, field: "cursor", message: "Invalid cursor: it does not name a page of this query"),
            fetch: { try tx.query($0).map(Clients.decode) }, refid: \.refid)
    }

    private func checkArguments() throws {
        guard (1...Self.maximumPageSize).contains(pageSize) else {
            throw ClientError(.invalidQuery, field: "limit", message: "Invalid limit: use 1…\(Self.maximumPageSize)")
        }
    }

    private func with(_ change: (inout ClientQuery) -> Void) -> ClientQuery {
        var copy = self
        change(&copy)
        return copy
    }
}

