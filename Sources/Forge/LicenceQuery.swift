public import SuiteCore
public import SuiteStorage

/// A composable, immutable, cursor-paginated query over licences. Status scopes are decided at
/// the moment of the query: `active()` excludes licences whose term has passed even if the sweep
/// has not recorded them, and `expired()` includes them.
///
/// ```swift
/// let page = try await licences.query().expiringIn(days: 30).forReseller(ally).limit(100).fetch()
/// ```
public struct LicenceQuery: Sendable {
    let licences: Licences
    var status: LicenceStatus?
    var expiringWithinDays: Int?
    var client: Refid?
    var reseller: Refid?
    var product: String?
    var pageSize = 50
    var cursor: Cursor?

    /// The largest page a caller may ask for.
    public static let maximumPageSize = 500

    /// Only active licences still within their term.
    public func active() -> LicenceQuery { with { $0.status = .active } }
    /// Only pending licences.
    public func pending() -> LicenceQuery { with { $0.status = .pending } }
    /// Only expired licences, including active ones whose term has passed.
    public func expired() -> LicenceQuery { with { $0.status = .expired } }
    /// Only revoked licences.
    public func revoked() -> LicenceQuery { with { $0.status = .revoked } }
    /// Active licences whose term ends within `days` days from now, soonest first.
    public func expiringIn(days: Int) -> LicenceQuery { with { $0.expiringWithinDays = days } }
    /// Only the licences bonded to or reserved for `client`.
    public func forClient(_ client: Refid) -> LicenceQuery { with { $0.client = client } }
    /// Licences of the clients of `reseller` (as recorded when they were bonded).
    public func forReseller(_ reseller: Refid) -> LicenceQuery { with { $0.reseller = reseller } }
    /// Only the licences of product `code`.
    public func product(_ code: String) -> LicenceQuery { with { $0.product = code } }
    /// Page size, 1…500 (default 50).
    public func limit(_ size: Int) -> LicenceQuery { with { $0.pageSize = size } }
    /// Continue after the page that returned `cursor`.
    public func after(_ cursor: Cursor?) -> LicenceQuery { with { $0.cursor = cursor } }

    /// Reads one page: oldest first, or soonest expiry first with ``expiringIn(days:)``.
    public func fetch() async throws -> Page<Licence> {
        try checkArguments()
        let query = self
        return try await licences.database.read { tx in try query.fetch(in: tx) }
    }

    /// Reads one page inside an open transaction.
    public func fetch(in tx: any Transaction) throws -> Page<Licence> {
        try checkArguments()
        let now = Timestamp(licences.clock.now())
        var conditions: [SQL] = []
        switch status {
        case .active?: conditions.append("status = 'active' AND (expires_at IS NULL OR expires_at > \(now))")
        case .expired?: conditions.append("(status = 'expired' OR (status = 'active' AND expires_at <= \(now)))")
        case .pending?: conditions.append("status = 'pending'")
        case .revoked?: conditions.append("status = 'revoked'")
        case nil: break
        }
        if let days = expiringWithinDays {
            let horizon = try Licences.adding(days: days, to: now)
            conditions.append("status = 'active' AND expires_at > \(now) AND expires_at <= \(horizon)")
        }
        if let client { conditions.append("client_refid = \(client)") }
        if let reseller { conditions.append("reseller_refid = \(reseller)") }
        if let product { conditions.append("product = \(product)") }
        // Expiring licences page by (expires_at, id); everything else by id.
        let byExpiry = expiringWithinDays != nil
        if let cursor {
            guard let anchor = try tx.queryFirst("SELECT id, expires_at FROM forge_licences WHERE refid = \(cursor.rawValue)") else {
                throw ForgeError.invalid("cursor", "it does not name a page of this query")
            }
            let id = try anchor.int64("id")
            if byExpiry, let expires = try anchor.optionalInt64("expires_at") {
                conditions.append("(expires_at > \(expires) OR (expires_at = \(expires) AND id > \(id)))")
            } else {
                conditions.append("id > \(id)")
            }
        }
        let filter = conditions.isEmpty ? SQL(raw: "") : " WHERE " + SQL.joined(conditions, separator: " AND ")
        let order = byExpiry ? "expires_at, id" : "id"
        let rows = try tx.query("""
            SELECT \(raw: Licences.columns) FROM forge_licences\(filter) ORDER BY \(raw: order) LIMIT \(pageSize + 1)
            """)
        return Page(reading: try rows.map(Licences.decode), limit: pageSize, refid: \.refid)
    }

    private func checkArguments() throws {
        guard (1...Self.maximumPageSize).contains(pageSize) else {
            throw ForgeError.invalid("limit", "use 1…\(Self.maximumPageSize)")
        }
        if let days = expiringWithinDays, !(1...Licences.maximumDays).contains(days) {
            throw ForgeError.invalid("days", "use 1…\(Licences.maximumDays)")
        }
        if let cursor, !cursor.isWellFormed {
            throw ForgeError.invalid("cursor", "it does not name a page of this query")
        }
    }

    private func with(_ change: (inout LicenceQuery) -> Void) -> LicenceQuery {
        var copy = self
        change(&copy)
        return copy
    }
}

