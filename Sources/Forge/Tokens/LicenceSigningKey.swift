public import Crypto
public import Foundation
public import SuiteCore

// Signed licence tokens: an app checks its licence with a public key alone, offline. The token
// format is documented on `LicenceSigner`.
//
// The claims are parsed by hand rather than with JSONDecoder: verification sits on hot paths
// (every app launch, every request of an offline-capable service) and the parse should cost
// next to nothing beside the Ed25519 check (see `Benchmarks/ClientSuiteBenchmarks/OfflineVerify.swift`).

/// An Ed25519 private key that signs licence tokens, named by a key id so that keys can rotate.
///
/// The key id travels in every token, so a verifier holding several public keys knows which one
/// to check it with. Ids are 1–32 characters from `A–Z a–z 0–9 . _ -`, e.g. `2025-06` or `prod.k2`.
/// The private key is a secret: ``description`` and `dump` show only the id.
///
/// ```swift
/// let key = try LicenceSigningKey.generate(id: "2025-06")
/// let stored = key.base64PrivateKey                  // keep in a secret store
/// let again = try LicenceSigningKey(id: "2025-06", base64PrivateKey: stored)
/// let shipped = key.publicKey.base64PublicKey        // embed in the app
/// ```
public struct LicenceSigningKey: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The key id written into every token this key signs.
    ///
    /// ```swift
    /// logger.info("signing licence tokens", metadata: ["key": "\(key.id)"])
    /// ```
    public let id: String
    /// The Ed25519 private key.
    ///
    /// ```swift
    /// let raw = key.privateKey.rawRepresentation   // 32 secret bytes
    /// ```
    public let privateKey: Curve25519.Signing.PrivateKey

    /// Wraps an existing private key; throws ``ForgeError/Code/validation`` for a bad key id.
    ///
    /// ```swift
    /// let key = try LicenceSigningKey(id: "k1", privateKey: Curve25519.Signing.PrivateKey())
    /// ```
    public init(id: String, privateKey: Curve25519.Signing.PrivateKey) throws {
        try LicenceKeyID.validate(id)
        self.id = id
        self.privateKey = privateKey
    }

    /// Reads a private key exported with ``base64PrivateKey``: the standard base64 of its 32-byte
    /// raw representation. Throws ``ForgeError/Code/validation`` for a bad key id and
    /// ``ForgeError/Code/signing`` for bad key material.
    ///
    /// ```swift
    /// let key = try LicenceSigningKey(id: "k1", base64PrivateKey: secrets["licence-key"]!)
    /// ```
    public init(id: String, base64PrivateKey: String) throws {
        let raw = try LicenceKeyID.rawKey(fromBase64: base64PrivateKey, what: "signing key")
        do {
            try self.init(id: id, privateKey: Curve25519.Signing.PrivateKey(rawRepresentation: raw))
        } catch let error as ForgeError {
            throw error
        } catch {
            throw ForgeError(.signing, message: "Invalid signing key: not an Ed25519 private key")
        }
    }

    /// A new random key from the system CSPRNG.
    ///
    /// ```swift
    /// let key = try LicenceSigningKey.generate(id: "2025-06")
    /// ```
    public static func generate(id: String) throws -> LicenceSigningKey {
        try LicenceSigningKey(id: id, privateKey: Curve25519.Signing.PrivateKey())
    }

    /// The standard base64 of the 32-byte raw private key — a secret; store it like a password.
    ///
    /// ```swift
    /// try vault.store(key.base64PrivateKey, as: "licence-signing-\(key.id)")
    /// ```
    public var base64PrivateKey: String { privateKey.rawRepresentation.base64EncodedString() }

    /// The matching public key, with the same id — what verifiers are given.
    ///
    /// ```swift
    /// let verifier = OfflineLicenceVerifier(publicKeys: [key.publicKey])
    /// ```
    public var publicKey: LicencePublicKey {
        // The id was validated when this key was made, so the public key cannot fail to build.
        LicencePublicKey(validatedID: id, key: privateKey.publicKey)
    }

    /// Only the id: the private key never reaches a log by accident.
    ///
    /// ```swift
    /// print(key)   // LicenceSigningKey(2025-06)
    /// ```
    public var description: String { "LicenceSigningKey(\(id))" }

    /// Same as ``description``.
    ///
    /// ```swift
    /// debugPrint(key)   // LicenceSigningKey(2025-06)
    /// ```
    public var debugDescription: String { description }

    /// Shows only the id, so `dump(key)` does not print the private key either.
    ///
    /// ```swift
    /// dump(key)   // ▿ LicenceSigningKey(2025-06) - id: "2025-06"
    /// ```
    public var customMirror: Mirror { Mirror(self, children: ["id": id]) }
}
