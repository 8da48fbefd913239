public import Crypto
public import Foundation
public import SuiteCore

/// An Ed25519 public key that verifies licence tokens, with the id of the signing key it matches.
///
/// Safe to publish and to embed in apps.
///
/// ```swift
/// let trusted = try LicencePublicKey(id: "2025-06", base64PublicKey: "mV2p…Qk8=")
/// let verifier = OfflineLicenceVerifier(publicKeys: [trusted])
/// ```
public struct LicencePublicKey: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The key id tokens name to be checked with this key.
    ///
    /// ```swift
    /// let ids = verifier.publicKeys.map(\.id)   // ["2025-06", "2024-12"]
    /// ```
    public let id: String
    /// The Ed25519 public key.
    ///
    /// ```swift
    /// let raw = trusted.key.rawRepresentation   // 32 bytes
    /// ```
    public let key: Curve25519.Signing.PublicKey

    /// Wraps an existing public key; throws ``ForgeError/Code/validation`` for a bad key id.
    ///
    /// ```swift
    /// let trusted = try LicencePublicKey(id: "k1", key: signingKey.publicKey)
    /// ```
    public init(id: String, key: Curve25519.Signing.PublicKey) throws {
        try LicenceKeyID.validate(id)
        self.init(validatedID: id, key: key)
    }

    /// Reads a public key exported with ``base64PublicKey``: the standard base64 of its 32-byte
    /// raw representation. Throws ``ForgeError/Code/validation`` for a bad key id and
    /// ``ForgeError/Code/signing`` for bad key material.
    ///
    /// ```swift
    /// let trusted = try LicencePublicKey(id: "k1", base64PublicKey: "mV2p…Qk8=")
    /// ```
    public init(id: String, base64PublicKey: String) throws {
        let raw = try LicenceKeyID.rawKey(fromBase64: base64PublicKey, what: "public key")
        do {
            try self.init(id: id, key: Curve25519.Signing.PublicKey(rawRepresentation: raw))
        } catch let error as ForgeError {
            throw error
        } catch {
            throw ForgeError(.signing, message: "Invalid public key: not an Ed25519 public key")
        }
    }

    private enum CodingKeys: String, CodingKey { case id, publicKey }

    /// In JSON: `{"id": "k1", "public_key": "<base64 of the 32-byte raw key>"}`, what an app
    /// configures and the service's public key set serves.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(id: try container.decode(String.self, forKey: .id),
                      base64PublicKey: try container.decode(String.self, forKey: .publicKey))
    }

    /// Encodes the key as `{"id": …, "public_key": …}`, the shape ``init(from:)`` reads.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(base64PublicKey, forKey: .publicKey)
    }

    init(validatedID id: String, key: Curve25519.Signing.PublicKey) {
        self.id = id
        self.key = key
    }

    /// The standard base64 of the 32-byte raw public key.
    ///
    /// ```swift
    /// print(signingKey.publicKey.base64PublicKey)   // paste into the app's configuration
    /// ```
    public var base64PublicKey: String { key.rawRepresentation.base64EncodedString() }

    /// The id and the key, e.g. `LicencePublicKey(k1, mV2p…Qk8=)`.
    ///
    /// ```swift
    /// print(trusted)
    /// ```
    public var description: String { "LicencePublicKey(\(id), \(base64PublicKey))" }

    /// Keys are equal when their ids and raw key bytes are.
    ///
    /// ```swift
    /// let same = try LicencePublicKey(id: key.id, base64PublicKey: key.base64PublicKey) == key   // true
    /// ```
    public static func == (lhs: LicencePublicKey, rhs: LicencePublicKey) -> Bool {
        lhs.id == rhs.id && lhs.key.rawRepresentation == rhs.key.rawRepresentation
    }

    /// Hashes the id and the raw key bytes.
    ///
    /// ```swift
    /// let unique = Set([oldKey.publicKey, newKey.publicKey])
    /// ```
    public func hash(into hasher: inout Hasher) {
        hasher.combine(id)
        hasher.combine(key.rawRepresentation)
    }
}
