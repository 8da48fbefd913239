import Crypto
import Foundation
public import SuiteCore
public import SuiteStorage

/// The API keys, in the HTTP module's own table (`http_api_keys`).
///
/// ```swift
/// let keys = APIKeys(database: database)
/// let made = try await keys.create(.admin, name: "ops")
/// print(made.secret)   // shown once
/// ```
public struct APIKeys: Sendable {
    /// Where the keys are stored.
    public let database: any Database
    /// Where reseller keys' resellers are checked.
    public let resellers: any ResellerDirectory
    let clock: any WallClock
    /// Working keys by digest, each valid for one value of the database's change counter.
    private let cache = ChangeCounterCache<APIKey>(capacity: 10_000)

    /// Keys in `database`; a reseller key must name a reseller `resellers` knows.
    public init(database: any Database, resellers: any ResellerDirectory = NoResellers(), clock: any WallClock = SystemWallClock()) {
        self.database = database
        self.resellers = resellers
        self.clock = clock
    }

    /// Makes a key for `role`; the secret in the answer is the only copy.
    public func create(_ role: APIKeyRole, name: String = "") async throws -> NewAPIKey {
        guard hasAtMostCharacters(name, 200), !containsControlCharacters(name) else {
            throw APIKeyError(.validation, message: "Invalid name: use at most 200 characters, no control characters")
        }
        // A secret comes straight from the system CSPRNG, never from the refids' pool.
        var system = SystemRandomNumberGenerator()
        let secret = "csk_" + Refid.generate(prefix: "", using: &system).rawValue + Refid.generate(prefix: "", using: &system).rawValue
        let key = APIKey(refid: Refid.generate(prefix: "AK-"), role: role, name: name, hint: String(secret.prefix(10)),
                         createdAt: Timestamp(clock.now()).date, revokedAt: nil)
        let resellers = resellers
        try await database.write { tx in
            if let reseller = role.reseller, try resellers.reseller(reseller, in: tx) == nil {
                throw APIKeyError(.invalidReseller, message: "Invalid Reseller: no reseller has the refid \(reseller)")
            }
            try tx.execute("""
                INSERT INTO http_api_keys (refid, digest, role, reseller, name, hint, created_at)
                VALUES (\(key.refid), \(Self.digest(secret)), \(role.name), \(role.reseller?.rawValue), \(name), \(key.hint),
                        \(Timestamp(key.createdAt)))
                """)
        }
        return NewAPIKey(key: key, secret: secret)
    }

    /// The working key whose secret is `secret`, or nil (unknown or revoked).
    ///
    /// Where the database has a change counter (a SQLite file), a working key is remembered until
    /// the next commit by any connection or process, so a revocation still counts from the next
    /// request on; the counter is read before the key, so a commit in between is never missed.
    public func authenticate(_ secret: String) async throws -> APIKey? {
        guard secret.hasPrefix("csk_"), secret.utf8.count <= 100 else { return nil }
        let digest = Self.digest(secret)
        let counter = try database.changeCounter()
        if let counter, let known = cache.lookup(digest, counter: counter) { return known }
        let key = try await database.pointRead { tx in
            try tx.queryFirst("SELECT \(raw: Self.columns) FROM http_api_keys WHERE digest = \(digest) AND revoked_at IS NULL")
                .map(Self.decode)
        }
        if let counter, let key { cache.store(key, for: digest, counter: counter) }
        return key
    }

    /// One page of keys, oldest first (1…500 a page), revoked ones included.
    public func list(limit: Int = 50, after cursor: Cursor? = nil) async throws -> Page<APIKey> {
        guard (1...500).contains(limit) else { throw APIKeyError(.validation, message: "Invalid limit: use 1…500") }
        return try await database.read { tx in
            try Keyset(table: "http_api_keys").page(
                select: Self.columns, after: cursor, limit: limit, in: tx,
                invalidCursor: APIKeyError(.validation, message: "Invalid cursor: it does not name a page"),
                fetch: { try tx.query($0).map(Self.decode) }, refid: \.refid)
        }
    }

    /// Revokes a key for good: the next request with it gets 401.
    @discardableResult
    public func revoke(_ refid: Refid) async throws -> APIKey {
        let now = Timestamp(clock.now())
        return try await database.write { tx in
            guard var key = try tx.queryFirst("SELECT \(raw: Self.columns) FROM http_api_keys WHERE refid = \(refid)").map(Self.decode) else {
                throw APIKeyError(.notFound, message: "API Key Not Found: no key has the refid \(refid)")
            }
            guard key.revokedAt == nil else {
                throw APIKeyError(.statusTransitionDenied, message: "Status Transition Denied: the key is revoked already")
            }
            try tx.execute("UPDATE http_api_keys SET revoked_at = \(now) WHERE refid = \(refid) AND revoked_at IS NULL")
            key.revokedAt = now.date
            return key
        }
    }

    // MARK: Internals

    static let columns = "refid, role, reseller, name, hint, created_at, revoked_at"

    static func digest(_ secret: String) -> String {
        SHA256.hash(data: Data(secret.utf8)).withUnsafeBytes { lowercaseHex($0) }
    }

    static func decode(_ row: Row) throws -> APIKey {
        let role: APIKeyRole
        switch try row.string("role") {
        case "admin": role = .admin
        case "verify": role = .verify
        default: role = .reseller(try row.refid("reseller"))
        }
        return APIKey(refid: try row.refid("refid"), role: role, name: try row.string("name"), hint: try row.string("hint"),
                      createdAt: try row.timestamp("created_at").date,
                      revokedAt: try row.optionalTimestamp("revoked_at")?.date)
    }
}
