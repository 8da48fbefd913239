import Foundation
public import SuiteCore

/// Who an API key speaks for.
public enum APIKeyRole: Hashable, Sendable {
    /// Everything.
    case admin
    /// One reseller's portfolio only: its clients, its provisioning, its balance and history,
    /// its analytics. Anything else answers 404, exactly as for a refid that does not exist.
    case reseller(Refid)
    /// Licence verification and the public keys for offline tokens only: meant to ship in apps.
    case verify

    /// `admin`, `reseller` or `verify`.
    public var name: String {
        switch self {
        case .admin: "admin"
        case .reseller: "reseller"
        case .verify: "verify"
        }
    }

    /// The reseller a reseller key is bound to.
    public var reseller: Refid? {
        if case .reseller(let refid) = self { refid } else { nil }
    }
}

/// An API key as stored: never its secret, which is shown once, when it is made, and kept only
/// as a SHA-256 digest.
public struct APIKey: Hashable, Sendable, Encodable {
    /// The key's refid (`AK-…`): what `dock apikey revoke` takes and the audit trails name.
    public var refid: Refid
    /// What the key may reach.
    public var role: APIKeyRole
    /// A label for people.
    public var name: String
    /// The secret's first characters, to tell keys apart (`csk_1A2B…`).
    public var hint: String
    /// When it was made.
    public var createdAt: Date
    /// When it was revoked; nil while it works.
    @ExplicitNull public var revokedAt: Date?

    /// The audit trails' actor for changes made with this key.
    public var actor: String { "apikey:\(refid.rawValue)" }

    enum CodingKeys: String, CodingKey { case refid, role, reseller, name, hint, createdAt, revokedAt }

    /// Encodes the role as `role` and `reseller` (null unless a reseller key).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(refid, forKey: .refid)
        try container.encode(role.name, forKey: .role)
        try container.encode(role.reseller, forKey: .reseller)
        try container.encode(name, forKey: .name)
        try container.encode(hint, forKey: .hint)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(revokedAt, forKey: .revokedAt)
    }
}

/// A new key and its secret, which is not kept and cannot be shown again.
public struct NewAPIKey: Sendable, Encodable {
    /// The stored key.
    public var key: APIKey
    /// The bearer token: `Authorization: Bearer <secret>`.
    public var secret: String
}
