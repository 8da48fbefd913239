import Foundation
public import SuiteCore
public import SuiteStorage

/// Where a licence is in its life. Pending → active (activation, once); active → expired (by
/// time; the sweep records it); pending, active or expired → revoked; expired → active (renewal).
public enum LicenceStatus: String, Sendable, Codable, CodingKeyRepresentable, CaseIterable, CustomStringConvertible {
    /// Minted, not yet activated; active; past its term; or withdrawn for good.
    case pending, active, expired, revoked
    /// The status's name: `pending`, `active`, `expired` or `revoked`.
    public var description: String { rawValue }
}

/// A move of the licence state machine, whose rules are ``table``. Minting is not a move: a
/// licence is created `pending`, or `active` when minted activated.
public enum LicenceTransition: String, StateTransition {
    /// Bond a pending licence to its client and start its term (``Licences/activate(_:for:actor:)``).
    case activate
    /// Record that an active licence's term has passed (``Licences/markExpired(limit:)``).
    case expire
    /// Extend an activated licence's term (``Licences/renew(_:days:actor:)``).
    case renew
    /// Withdraw a licence for good (``Licences/revoke(_:actor:reason:)``).
    case revoke

    /// The statuses this machine moves between.
    public typealias State = LicenceStatus

    /// The licence lifecycle; any other start throws `.statusConflict`. `revoked` is final.
    public static let table = TransitionTable<LicenceTransition>([
        .activate: .init(from: [.pending], to: .active),
        .expire: .init(from: [.active], to: .expired),
        .renew: .init(from: [.active, .expired], to: .active),
        .revoke: .init(from: [.pending, .active, .expired], to: .revoked),
    ])

    /// The event the audit trail records for this move: `activated`, `expired`, `renewed`, `revoked`.
    public var auditEvent: String {
        switch self {
        case .activate: "activated"
        case .expire: "expired"
        case .renew: "renewed"
        case .revoke: "revoked"
        }
    }

    /// The move's name.
    public var description: String { rawValue }
}

/// A licence: a key for a product, bonded to a client on activation.
///
/// The key itself is shown once, when the licence is minted (``MintedLicence/key``); the database
/// keeps only its SHA-256 digest and the last group (``keyHint``), like an API key.
public struct Licence: Hashable, Sendable, Codable {
    /// The public id (`LC-…`).
    public var refid: Refid
    /// The product code, as the ``ProductCatalog`` knows it.
    public var product: String
    /// The client the licence is bonded to (set at activation, or reserved at mint).
    @ExplicitNull public var client: Refid?
    /// The client's reseller when the licence was bonded, for reseller-scoped analytics.
    @ExplicitNull public var reseller: Refid?
    /// The stored status. An active licence past ``expiresAt`` is expired even before the sweep
    /// records it: see ``effectiveStatus(at:)``.
    public var status: LicenceStatus
    /// Days of validity from activation; nil for a lifetime licence.
    @ExplicitNull public var durationDays: Int?
    /// The caller's JSON metadata.
    public var metadata: Metadata
    /// The key's last group, e.g. `…-7QK2M`, to recognise a key without storing it.
    public var keyHint: String
    /// When the licence was minted.
    public var createdAt: Date
    /// When it was activated; nil while pending.
    @ExplicitNull public var activatedAt: Date?
    /// When its term ends; nil for a lifetime licence or one not yet activated.
    @ExplicitNull public var expiresAt: Date?
    /// When it was revoked; nil unless revoked.
    @ExplicitNull public var revokedAt: Date?

    /// The status at `now`: an active licence whose expiry has passed is expired.
    public func effectiveStatus(at now: Date) -> LicenceStatus {
        if status == .active, let expiresAt, expiresAt <= now { return .expired }
        return status
    }

    /// This licence with ``status`` as it is at `now` (see ``effectiveStatus(at:)``): what to show
    /// or serve, where the stored status may lag the sweep.
    public func effective(at now: Date) -> Licence {
        var copy = self
        copy.status = effectiveStatus(at: now)
        return copy
    }
}

/// A freshly minted licence and its key — the only time the key is available.
public struct MintedLicence: Hashable, Sendable, Codable {
    /// The new licence.
    public var licence: Licence
    /// Its key: hand it to the client now, as it cannot be read back later.
    public var key: LicenceKey
}

/// The answer of ``Licences/verify(_:)``.
///
/// In JSON: `{"code": "valid", "is_valid": true, "licence": {…}}`.
public struct LicenceVerification: Hashable, Sendable, Encodable {
    /// Why a licence is or is not valid.
    public enum Code: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
        /// The licence is active, within its term, and its client is in good standing.
        case valid
        /// The text is not a licence key at all.
        case malformed
        /// No licence has this key.
        case notFound
        /// The licence has not been activated yet.
        case pending
        /// The licence's term has passed.
        case expired
        /// The licence was revoked.
        case revoked
        /// The licence is fine but its client is suspended or inactive.
        case clientSuspended
        /// The code's name, e.g. `clientSuspended`.
        public var description: String { rawValue }
    }

    /// Why the licence is or is not valid.
    public var code: Code
    /// The licence, when one was found.
    public var licence: Licence?
    /// Only ``Code/valid`` is valid.
    public var isValid: Bool { code == .valid }

    private enum CodingKeys: String, CodingKey { case code, isValid, licence }

    /// Encodes the code, ``isValid`` and the licence (null when none was found).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(code, forKey: .code)
        try container.encode(isValid, forKey: .isValid)
        try container.encode(licence, forKey: .licence)
    }
}

/// A product as Forge sees it — supplied by a ``ProductCatalog``.
public typealias LicensedProduct = ProductSummary
