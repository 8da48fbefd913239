import SuiteCore
import SuiteStorage

extension Licences {
    /// The licence whose key this is (as a person types it: any case, spaces or dashes), or nil
    /// when the key is malformed or belongs to no licence. Only the key's digest is looked up.
    ///
    /// ```swift
    /// let licence = try await licences.findByKey("7QK2M-X4T9B-0HZ8R-NC3VW-G6D1P-KJ5YE")
    /// ```
    public func findByKey(_ key: String) async throws -> Licence? {
        guard let parsed = try? LicenceKey(parsing: key) else { return nil }
        return try await database.read { tx in try self.findByKeyDigest(parsed.digest, in: tx) }
    }

    /// The licence whose key has this digest, or nil: the one lookup by key that verification and
    /// ``findByKey(_:)`` share.
    func findByKeyDigest(_ digest: String, in tx: any Transaction) throws -> Licence? {
        try tx.queryFirst("SELECT \(raw: Self.columns) FROM forge_licences WHERE key_digest = \(digest)").map(Self.decode)
    }

    /// The licence named by `text`: a refid (`LC-…`) or a key. Throws "Licence Not Found" if there is none.
    public func find(refidOrKey text: String) async throws -> Licence {
        if text.hasPrefix("LC-") { return try await find(Refid(rawValue: text)) }
        guard let licence = try await findByKey(text) else { throw ForgeError.notFound("key") }
        return licence
    }
}
