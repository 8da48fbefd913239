import SuiteCore

/// A key that makes a retried request take effect once, checked by one rule everywhere: a caller's
/// key is 1–200 characters with no control characters.
///
/// The suite's idempotency store is this key plus the record each module keeps under it, in the
/// module's own table (a ledger transfer, a hold, a workflow run), with a fingerprint of the
/// request's parameters beside it. Every store behaves the same way:
/// - a key seen for the first time runs the request and stores its record with the fingerprint,
///   under a unique index, in the request's own transaction;
/// - the same key with the same parameters *replays*: it returns the stored record and writes
///   nothing (``replay(_:fingerprint:in:orThrow:)``);
/// - the same key with other parameters is a conflict, the module's typed `idempotencyConflict`;
/// - two first requests that race commit one record: the loser's insert hits the unique index
///   and its write runs again, now as a replay (``Database/writeResolvingRace(onUnique:alsoRetrying:_:)``).
///
/// A module that passes a caller's key on to another module's store *scopes* it
/// (``scoped(_:)``): `workflow:` and then `ally:provision:` in front of the caller's key, so that
/// keys of different operations never meet, and a scoped key may be longer than 200 characters.
public struct IdempotencyKey: Hashable, Sendable, CustomStringConvertible {
    /// The longest key a caller may give, in characters.
    public static let maximumLength = 200
    /// The rule, as error messages state it.
    public static let rule = "1–200 characters, no control characters"

    /// The key as stored: the caller's key behind its scopes.
    public let rawValue: String

    /// The caller's key, or nil when it breaks ``rule``.
    public init?(_ key: String) {
        guard !key.isEmpty, hasAtMostCharacters(key, Self.maximumLength), !containsControlCharacters(key) else { return nil }
        self.rawValue = key
    }

    private init(scoped rawValue: String) {
        self.rawValue = rawValue
    }

    /// The same key inside `namespace` (`"ally:provision"` gives `ally:provision:<key>`). Scoping
    /// never makes a valid key invalid.
    public func scoped(_ namespace: String) -> IdempotencyKey {
        IdempotencyKey(scoped: namespace + ":" + rawValue)
    }

    /// The key as stored.
    public var description: String { rawValue }

    /// The record stored under this key, when the same request was made before; nil when the key
    /// is new. `select` reads the record with a `fingerprint` column and must name this key in its
    /// `WHERE`; when the stored fingerprint is not `fingerprint`, the key was used for another
    /// request and the error `conflict` builds is thrown (the module's `idempotencyConflict`).
    public func replay<Failure: Error>(_ select: SQL, fingerprint: String, in tx: any Transaction,
                                       orThrow conflict: () -> Failure) throws -> Row? {
        guard let stored = try tx.queryFirst(select) else { return nil }
        guard try stored.string("fingerprint") == fingerprint else { throw conflict() }
        return stored
    }

    /// The message every module's `idempotencyConflict` carries.
    public static let conflictMessage = "Idempotency Conflict: this key was already used with different parameters"
}
