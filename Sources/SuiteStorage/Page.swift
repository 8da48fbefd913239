public import SuiteCore

/// Where a page ends: pass a page's ``Page/nextCursor`` back as `after:` to read the next page.
/// Opaque to callers (today the refid of the page's last item, so it stays valid while rows are
/// added); every list in the suite takes and returns this one type.
public struct Cursor: Hashable, Sendable, Codable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The cursor's text, as a caller passes it back.
    public let rawValue: String

    /// A cursor from its text (unchecked; see ``isWellFormed``).
    public init(_ rawValue: String) { self.rawValue = rawValue }
    /// A cursor from a string literal.
    public init(stringLiteral value: String) { self.init(value) }
    /// The cursor that resumes after the item with `refid`.
    public init(after refid: Refid) { self.init(refid.rawValue) }

    /// A cursor is its text in JSON.
    public init(from decoder: any Decoder) throws {
        self.init(try decoder.singleValueContainer().decode(String.self))
    }

    /// Encodes the cursor as its text.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    /// The cursor's text.
    public var description: String { rawValue }

    /// Whether the text could be a cursor at all (non-empty, at most 64 characters, no control characters).
    public var isWellFormed: Bool {
        !rawValue.isEmpty && rawValue.count <= 64 && !rawValue.unicodeScalars.contains { $0.properties.generalCategory == .control }
    }
}

/// One page of a list, in the list's order, and the cursor of the next page (nil on the last).
/// Every `list`, `page` and `getBy…` call in the suite returns this shape.
public struct Page<Item: Sendable>: Sendable {
    /// The page's items, in the list's order.
    public var items: [Item]
    /// Pass it back as `after:` for the next page; nil on the last page.
    @ExplicitNull public var nextCursor: Cursor?

    /// A page of `items`, followed by the page at `nextCursor` (nil: this is the last).
    public init(items: [Item], nextCursor: Cursor?) {
        self.items = items
        self.nextCursor = nextCursor
    }

    /// The empty last page.
    public static var empty: Page { Page(items: [], nextCursor: nil) }

    /// A page cut from rows read with `limit + 1`: the extra row, when there is one, only says
    /// that another page follows, and the cursor is the last kept item's refid.
    public init(reading rows: [Item], limit: Int, refid: (Item) -> Refid) {
        let kept = Array(rows.prefix(limit))
        self.init(items: kept, nextCursor: rows.count > limit ? kept.last.map { Cursor(after: refid($0)) } : nil)
    }
}

extension Page: Equatable where Item: Equatable {}
extension Page: Hashable where Item: Hashable {}
extension Page: Encodable where Item: Encodable {}

/// Keyset pagination over one table whose rows have an increasing integer `id` and a unique
/// `refid`: a page after a cursor is `id > anchor` (or `<` newest first), never an OFFSET, so
/// every page costs the same however deep it is.
///
/// ```swift
/// let page = try Keyset(table: "wave_products").page(
///     select: Products.columns, after: cursor, limit: limit, in: tx,
///     invalidCursor: WaveError.invalid("cursor", "it does not name a page"),
///     fetch: { sql in try tx.query(sql).map(Products.decode) }, refid: \.refid)
/// ```
public struct Keyset: Sendable {
    /// The table whose `refid` a cursor names (a trusted identifier, never user input).
    public var table: String
    /// What the page reads from: the table, or a join that includes it.
    public var source: String
    /// The order column (`id`, or `s.id` in a join).
    public var key: String
    /// Newest first (descending) instead of oldest first.
    public var newestFirst: Bool

    /// Pagination over `table`, read from `source` (the table unless given), ordered by `key`.
    public init(table: String, source: String? = nil, key: String = "id", newestFirst: Bool = false) {
        self.table = table
        self.source = source ?? table
        self.key = key
        self.newestFirst = newestFirst
    }

    /// Reads one page: `SELECT columns FROM table WHERE conditions [AND id after the cursor]
    /// ORDER BY id LIMIT limit + 1`.
    /// - Parameters:
    ///   - scope: a condition the cursor's own row must meet (a client's invoices: the cursor
    ///     must be one of that client's), so a cursor from another list is refused.
    ///   - invalidCursor: the module's own error for a cursor that names no row of this list.
    ///   - fetch: runs the statement and decodes its rows.
    public func page<Item: Sendable>(
        select columns: String, where conditions: [SQL] = [], after cursor: Cursor?, scope: SQL? = nil, limit: Int,
        in tx: any Transaction, invalidCursor: @autoclosure () -> any Error,
        fetch: (SQL) throws -> [Item], refid: (Item) -> Refid
    ) throws -> Page<Item> {
        var conditions = conditions
        if let cursor {
            guard cursor.isWellFormed else { throw invalidCursor() }
            let scoped = scope.map { " AND " + $0 } ?? SQL(raw: "")
            guard let anchor = try tx.queryInt64("SELECT id FROM \(raw: table) WHERE refid = \(cursor.rawValue)\(scoped)") else {
                throw invalidCursor()
            }
            conditions.append("\(raw: key) \(raw: newestFirst ? "<" : ">") \(anchor)")
        }
        let filter = conditions.isEmpty ? SQL(raw: "") : " WHERE " + SQL.joined(conditions, separator: " AND ")
        let rows = try fetch("""
            SELECT \(raw: columns) FROM \(raw: source)\(filter) ORDER BY \(raw: key) \(raw: newestFirst ? "DESC" : "ASC") LIMIT \(limit + 1)
            """)
        return Page(reading: rows, limit: limit, refid: refid)
    }
}
