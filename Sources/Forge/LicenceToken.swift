public import Crypto
public import Foundation
public import SuiteCore

// Signed licence tokens: an app checks its licence with a public key alone, offline. The token
// format is documented on `LicenceSigner`.
//
// The claims are parsed by hand rather than with JSONDecoder: verification sits on hot paths
// (every app launch, every request of an offline-capable service) and the parse should cost
// next to nothing beside the Ed25519 check (see `Benchmarks/ClientSuiteBenchmarks/OfflineVerify.swift`).

// MARK: - Keys

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

/// An Ed25519 public key that verifies licence tokens, with the id of the signing key it matches.
///
/// Safe to publish and to embed in apps.
///
/// ```swift
/// let trusted = try LicencePublicKey(id: "2025-06", base64PublicKey: "mV2p…Qk8=")
/// let verifier = OfflineLicenceVerifier(publicKeys: [trusted])
/// ```
public struct LicencePublicKey: Hashable, Sendable, CustomStringConvertible {
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

// MARK: - Claims

/// What a licence token asserts, as read back by ``OfflineLicenceVerifier``.
///
/// Instants are whole milliseconds since the Unix epoch (a licence expiry with a fraction of a
/// millisecond is rounded down, so the token never outlives the licence).
///
/// ```swift
/// let outcome = verifier.verify(token)
/// if let claims = outcome.claims, outcome.isValid {
///     print(claims.product, claims.client, claims.expiresAt ?? "lifetime")
/// }
/// ```
public struct LicenceClaims: Hashable, Sendable {
    /// The licence's refid.
    ///
    /// ```swift
    /// let refid = claims.licence   // LC-7KQ2M9X4F1TJ8W3ZB6HD0RYC5N
    /// ```
    public var licence: Refid
    /// The product code the licence is for.
    ///
    /// ```swift
    /// if claims.product == "PRO-1Y" { enableProFeatures() }
    /// ```
    public var product: String
    /// The client the licence is bonded to.
    ///
    /// ```swift
    /// guard claims.client == signedInClient else { return }
    /// ```
    public var client: Refid
    /// When the licence expires; nil for a lifetime licence.
    ///
    /// ```swift
    /// let daysLeft = claims.expiresAt.map { Int($0.timeIntervalSince(clock.now()) / 86_400) }
    /// ```
    public var expiresAt: Date?
    /// The id of the key that signed the token.
    ///
    /// ```swift
    /// if claims.keyID == "2024-12" { refreshTokenSoon() }   // signed by the retiring key
    /// ```
    public var keyID: String
    /// When the token was signed.
    ///
    /// ```swift
    /// let age = clock.now().timeIntervalSince(claims.issuedAt)
    /// ```
    public var issuedAt: Date
    /// When the token itself stops being accepted, whatever the licence expiry; nil for no limit.
    ///
    /// ```swift
    /// if let notAfter = claims.notAfter, notAfter < clock.now() + .days(1) { refreshToken() }
    /// ```
    public var notAfter: Date?

    /// Claims as given; used with ``LicenceSigner/sign(_:)``. Usually the signer
    /// builds them from a ``Licence`` instead.
    ///
    /// ```swift
    /// let claims = LicenceClaims(licence: Refid(rawValue: "LC-…"), product: "PRO-1Y",
    ///                            client: Refid(rawValue: "CL-…"), expiresAt: nil,
    ///                            keyID: "k1", issuedAt: clock.now(), notAfter: nil)
    /// ```
    public init(licence: Refid, product: String, client: Refid, expiresAt: Date?, keyID: String,
                issuedAt: Date, notAfter: Date?) {
        self.licence = licence
        self.product = product
        self.client = client
        self.expiresAt = expiresAt
        self.keyID = keyID
        self.issuedAt = issuedAt
        self.notAfter = notAfter
    }
}

// MARK: - Signing

/// Signs licence tokens that apps verify offline with ``OfflineLicenceVerifier``.
///
/// Only an active licence bonded to a client gets a token. The token carries the licence
/// expiry, so it stops verifying when the licence expires — but **a revocation cannot reach an
/// offline verifier**: a token for a licence revoked later keeps verifying until its own
/// ``LicenceClaims/notAfter``. Pass `validFor` to bound that window, and have apps fetch a
/// fresh token (online) before it runs out; a revoked licence then gets no new token.
///
/// ```swift
/// let signer = LicenceSigner(key: try LicenceSigningKey(id: "k1", base64PrivateKey: secret))
/// let token = try signer.sign(licence, validFor: .seconds(7 * 86_400))
/// // "CSL1.azEfTEMtN0tRMk05WDRG….Yk3v…"
/// ```
///
/// ## Token format
///
/// Version 1 is compact, URL-safe ASCII: `CSL1.<base64url(claims)>.<base64url(signature)>`.
///
/// - `CSL1` names the format and its version. It is part of the signed bytes, so it cannot be
///   swapped for another version without breaking the signature.
/// - The claims are a UTF-8 record of seven fields in a fixed order, separated by U+001F (the
///   ASCII unit separator, which no field may contain):
///   `keyID ␟ licence ␟ product ␟ client ␟ expiresAt ␟ issuedAt ␟ notAfter`.
///   Instants are milliseconds since the Unix epoch in canonical decimal (no `+`, no leading
///   zeros, no `-0`); an empty `expiresAt` means a lifetime licence, an empty `notAfter` a token
///   without its own deadline. Refids and the product are 1–64 bytes without control
///   characters; key ids 1–32 characters from `A–Z a–z 0–9 . _ -`. One set of claims has exactly
///   one encoding, and a verifier accepts nothing else.
/// - The signature is Ed25519 over the exact ASCII bytes `CSL1.<base64url(claims)>`.
/// - Base64url is RFC 4648 §5 without padding, decoded strictly (unused trailing bits must be
///   zero), so a signature has one spelling and no character of a token can change unnoticed.
///
/// For example, the claims `k1␟LC-7KQ2…␟PRO-1Y␟CL-0HZ8…␟1781536000000␟1750000000000␟` (a licence
/// expiring in June 2026, no token deadline) travel as `CSL1.azEfTEMtN0tRMk05WDRG….<86 characters>`.
public struct LicenceSigner: Sendable {
    /// The key tokens are signed with; its id goes into every token.
    ///
    /// ```swift
    /// let published = signer.key.publicKey
    /// ```
    public let key: LicenceSigningKey
    let clock: any WallClock

    /// A signer with `key`, reading the time (issued-at, not-after, licence status) from `clock`.
    ///
    /// ```swift
    /// let signer = LicenceSigner(key: key, clock: ManualWallClock(now: .init(timeIntervalSince1970: 0)))
    /// ```
    public init(key: LicenceSigningKey, clock: any WallClock = SystemWallClock()) {
        self.key = key
        self.clock = clock
    }

    /// A token for `licence`, valid until the licence expires and, with `validFor`, no longer
    /// than that from now.
    ///
    /// Throws ``ForgeError/Code/statusConflict`` if the licence is not active now (pending,
    /// revoked, or past its expiry), ``ForgeError/Code/signing`` if it has no client, and
    /// ``ForgeError/Code/validation`` if `validFor` is under a millisecond or a field cannot be
    /// written into a token (an empty or over-long product code or refid, or one holding
    /// control characters).
    ///
    /// ```swift
    /// let token = try signer.sign(licence)                          // until the licence expires
    /// let fresh = try signer.sign(licence, validFor: .seconds(86_400)) // and at most a day
    /// ```
    public func sign(_ licence: Licence, validFor: Duration? = nil) throws -> String {
        let now = clock.now()
        let status = licence.effectiveStatus(at: now)
        guard status == .active else {
            throw ForgeError(.statusConflict, message: "Cannot sign a licence token: the licence is \(status); only an active licence gets a token")
        }
        guard let client = licence.client else {
            throw ForgeError(.signing, message: "Cannot sign a licence token: the licence is not bonded to a client; activate it first")
        }
        let issuedAt = TokenInstant.milliseconds(now)
        var notAfter: Int64?
        if let validFor {
            let (seconds, attoseconds) = validFor.components
            let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1000)
            let length = whole.addingReportingOverflow(attoseconds / 1_000_000_000_000_000)
            let end = issuedAt.addingReportingOverflow(length.partialValue)
            guard !overflow, !length.overflow, !end.overflow, length.partialValue >= 1 else {
                throw ForgeError.invalid("validFor", "a token must be valid for at least a millisecond (and for less than forever)")
            }
            notAfter = end.partialValue
        }
        return try sign(record: TokenRecord(
            keyID: key.id, licence: licence.refid.rawValue, product: licence.product, client: client.rawValue,
            expiresAt: licence.expiresAt.map(TokenInstant.milliseconds), issuedAt: issuedAt, notAfter: notAfter))
    }

    /// A token asserting exactly `claims`, with no check of any licence's status.
    ///
    /// For issuers that hold the claims but not the ``Licence`` (and for benchmarks and tests);
    /// prefer ``sign(_:validFor:)``, which refuses licences that are not active. Throws
    /// ``ForgeError/Code/signing`` if `claims.keyID` is not this signer's key id, and
    /// ``ForgeError/Code/validation`` if a field cannot be written into a token.
    ///
    /// ```swift
    /// let token = try signer.sign(LicenceClaims(licence: licenceRefid, product: "PRO-1Y",
    ///     client: clientRefid, expiresAt: nil, keyID: signer.key.id, issuedAt: clock.now(), notAfter: nil))
    /// ```
    public func sign(_ claims: LicenceClaims) throws -> String {
        guard claims.keyID == key.id else {
            throw ForgeError(.signing, message: "Cannot sign a licence token: its key id is not the signing key's id")
        }
        return try sign(record: TokenRecord(
            keyID: claims.keyID, licence: claims.licence.rawValue, product: claims.product, client: claims.client.rawValue,
            expiresAt: claims.expiresAt.map(TokenInstant.milliseconds), issuedAt: TokenInstant.milliseconds(claims.issuedAt),
            notAfter: claims.notAfter.map(TokenInstant.milliseconds)))
    }

    private func sign(record: TokenRecord) throws -> String {
        try record.validate()
        var signed = Array(TokenFormat.prefix)
        Base64URL.encode(record.encoded(), into: &signed)
        let signature: Data
        do {
            signature = try key.privateKey.signature(for: signed)
        } catch {
            throw ForgeError(.signing, message: "Cannot sign a licence token: the signing operation failed")
        }
        var token = signed
        token.append(TokenFormat.separator)
        Base64URL.encode(signature, into: &token)
        return String(decoding: token, as: UTF8.self)
    }
}

// MARK: - Verifying

/// The outcome of ``OfflineLicenceVerifier/verify(_:)``.
///
/// ```swift
/// switch verifier.verify(token).code {
/// case .valid: unlockFeatures()
/// case .expired: showRenewal()
/// case .tokenExpired: refreshTokenOnline()
/// case .tampered, .unknownKey, .malformed: showInvalidLicence()
/// }
/// ```
public struct OfflineVerification: Hashable, Sendable {
    /// Why a token is or is not valid.
    ///
    /// ```swift
    /// let code: OfflineVerification.Code = verifier.verify(token).code
    /// ```
    public enum Code: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
        /// Signed by a trusted key, licence not expired, token within its not-after.
        ///
        /// ```swift
        /// if outcome.code == .valid { unlockFeatures() }
        /// ```
        case valid
        /// Genuine, but the licence's expiry has passed. Reported before ``tokenExpired``, since a
        /// fresh token would not help.
        ///
        /// ```swift
        /// if outcome.code == .expired { showRenewal(for: outcome.claims?.licence) }
        /// ```
        case expired
        /// Genuine and the licence not expired, but the token's not-after has passed: fetch a new one.
        ///
        /// ```swift
        /// if outcome.code == .tokenExpired { try await refreshToken() }
        /// ```
        case tokenExpired
        /// The signature does not verify: the token was altered, or forged under a trusted key id.
        ///
        /// ```swift
        /// if outcome.code == .tampered { logger.warning("forged or altered licence token") }
        /// ```
        case tampered
        /// The token names a key id none of the verifier's public keys has (a retired or foreign
        /// key — or a key id altered in transit, which cannot be told apart).
        ///
        /// ```swift
        /// if outcome.code == .unknownKey { try await refreshToken() }   // signed by a newer key?
        /// ```
        case unknownKey
        /// Not a version-1 licence token: wrong prefix, bad base64url, wrong field count, too long…
        ///
        /// ```swift
        /// #expect(verifier.verify("not a token").code == .malformed)
        /// ```
        case malformed

        /// The raw value, e.g. `tokenExpired`.
        ///
        /// ```swift
        /// print(OfflineVerification.Code.tampered)   // tampered
        /// ```
        public var description: String { rawValue }
    }

    /// The outcome.
    ///
    /// ```swift
    /// if verifier.verify(token).code == .tokenExpired { try await refreshToken() }
    /// ```
    public var code: Code
    /// The claims, when the signature verified (``Code/valid``, ``Code/expired``,
    /// ``Code/tokenExpired``); nil otherwise, since unverified claims mean nothing.
    ///
    /// ```swift
    /// if let claims = verifier.verify(token).claims { print("licence for", claims.product) }
    /// ```
    public var claims: LicenceClaims?

    /// An outcome; made by ``OfflineLicenceVerifier``, public for test doubles.
    ///
    /// ```swift
    /// let denied = OfflineVerification(code: .malformed, claims: nil)
    /// ```
    public init(code: Code, claims: LicenceClaims?) {
        self.code = code
        self.claims = claims
    }

    /// Only ``Code/valid`` is valid.
    ///
    /// ```swift
    /// guard verifier.verify(token).isValid else { return }
    /// ```
    public var isValid: Bool { code == .valid }
}

/// Verifies licence tokens with public keys alone — no database, no network.
///
/// Give it every public key whose tokens should still be accepted: during a rotation, the old
/// and the new key; once the old tokens have run out, only the new one. Several keys under one
/// id are all trusted. Verification never throws and never traps, whatever the input.
///
/// An offline verifier cannot learn of a revocation: a revoked licence's token keeps verifying
/// until its expiry or its not-after (see ``LicenceSigner``).
///
/// ```swift
/// let verifier = OfflineLicenceVerifier(publicKeys: [
///     try LicencePublicKey(id: "2025-06", base64PublicKey: currentKey),
///     try LicencePublicKey(id: "2024-12", base64PublicKey: previousKey),
/// ])
/// let outcome = verifier.verify(token)
/// if outcome.isValid, let claims = outcome.claims { activate(claims.product) }
/// ```
public struct OfflineLicenceVerifier: Sendable {
    /// Tokens longer than this (in UTF-8 bytes) are ``OfflineVerification/Code/malformed`` without
    /// further work. The longest token the signer can make is under 500 bytes.
    ///
    /// ```swift
    /// guard token.utf8.count <= OfflineLicenceVerifier.maximumTokenLength else { … }
    /// ```
    public static let maximumTokenLength = 1024

    /// The trusted keys, in the order given.
    ///
    /// ```swift
    /// let trustedIDs = verifier.publicKeys.map(\.id)
    /// ```
    public let publicKeys: [LicencePublicKey]
    /// The ids as bytes beside their keys: a linear scan over a handful of short byte arrays is
    /// cheaper than building a String to hash on every call.
    private let lookup: [(id: [UInt8], key: Curve25519.Signing.PublicKey)]
    private let clock: any WallClock

    /// A verifier trusting `publicKeys`, judging expiry by `clock`.
    ///
    /// ```swift
    /// let verifier = OfflineLicenceVerifier(publicKeys: [signingKey.publicKey], clock: ManualWallClock(now: .now))
    /// ```
    public init(publicKeys: [LicencePublicKey], clock: any WallClock = SystemWallClock()) {
        self.publicKeys = publicKeys
        self.lookup = publicKeys.map { (Array($0.id.utf8), $0.key) }
        self.clock = clock
    }

    /// Checks `token`: its format, its signature under the key its key id names, then the
    /// licence expiry and the token's not-after against the clock (an instant equal to either
    /// is past it).
    ///
    /// ```swift
    /// let outcome = verifier.verify(token)
    /// print(outcome.code, outcome.claims?.product ?? "-")
    /// ```
    public func verify(_ token: String) -> OfflineVerification {
        guard token.utf8.count <= Self.maximumTokenLength else { return Self.malformed }
        var token = token
        return token.withUTF8 { verify(bytes: $0) }
    }

    private static let malformed = OfflineVerification(code: .malformed, claims: nil)

    private func verify(bytes token: UnsafeBufferPointer<UInt8>) -> OfflineVerification {
        // CSL1.<claims>.<signature>
        let prefixLength = TokenFormat.prefix.count
        guard token.count > prefixLength, token.starts(with: TokenFormat.prefix) else { return Self.malformed }
        guard let dot = token[prefixLength...].firstIndex(of: TokenFormat.separator) else { return Self.malformed }
        let signedPart = UnsafeBufferPointer(rebasing: token[..<dot])
        guard let record = Base64URL.decode(token[prefixLength..<dot]),
              let signature = Base64URL.decode(token[(dot + 1)...]),
              signature.count == TokenFormat.signatureLength
        else { return Self.malformed }

        // The key id comes before the signature check only to pick the key; the other fields
        // are trusted (and parsed) once the signature holds.
        let keyIDEnd = record.firstIndex(of: TokenRecord.separator) ?? record.endIndex
        let keyID = record[..<keyIDEnd]
        guard keyIDEnd < record.endIndex, LicenceKeyID.isValid(keyID) else { return Self.malformed }
        var known = false
        var genuine = false
        for candidate in lookup where candidate.id.elementsEqual(keyID) {
            known = true
            if candidate.key.isValidSignature(signature, for: UnsafeRawBufferPointer(signedPart)) {
                genuine = true
                break
            }
        }
        guard known else { return OfflineVerification(code: .unknownKey, claims: nil) }
        guard genuine else { return OfflineVerification(code: .tampered, claims: nil) }

        guard let parsed = TokenRecord(decoding: record) else { return Self.malformed }
        let now = TokenInstant.milliseconds(clock.now())
        let code: OfflineVerification.Code
        if let expiresAt = parsed.expiresAt, expiresAt <= now {
            code = .expired
        } else if let notAfter = parsed.notAfter, notAfter <= now {
            code = .tokenExpired
        } else {
            code = .valid
        }
        return OfflineVerification(code: code, claims: parsed.claims)
    }
}

// MARK: - Internal: the format

enum TokenFormat {
    /// `CSL1.`: the format and version, and the first bytes of what is signed.
    static let prefix: [UInt8] = Array("CSL1.".utf8)
    static let separator = UInt8(ascii: ".")
    static let signatureLength = 64
}

/// The claims as they travel: strings and milliseconds, in the fixed field order.
struct TokenRecord {
    static let separator: UInt8 = 0x1F
    static let fieldCount = 7
    /// Limits that keep every token well under ``OfflineLicenceVerifier/maximumTokenLength``.
    static let maximumRefidLength = 64, maximumProductLength = 64

    var keyID: String
    var licence: String
    var product: String
    var client: String
    var expiresAt: Int64?
    var issuedAt: Int64
    var notAfter: Int64?

    init(keyID: String, licence: String, product: String, client: String, expiresAt: Int64?, issuedAt: Int64, notAfter: Int64?) {
        self.keyID = keyID
        self.licence = licence
        self.product = product
        self.client = client
        self.expiresAt = expiresAt
        self.issuedAt = issuedAt
        self.notAfter = notAfter
    }

    /// Throws ``ForgeError/Code/validation`` for a field that cannot be written unambiguously.
    func validate() throws {
        try LicenceKeyID.validate(keyID)
        try Self.validateText(licence, field: "licence refid", maximum: Self.maximumRefidLength)
        try Self.validateText(product, field: "product", maximum: Self.maximumProductLength)
        try Self.validateText(client, field: "client refid", maximum: Self.maximumRefidLength)
    }

    private static func validateText(_ text: String, field: String, maximum: Int) throws {
        guard isValidText(text.utf8, maximum: maximum) else {
            throw ForgeError.invalid(field, "1–\(maximum) bytes of UTF-8 text without control characters")
        }
    }

    /// Non-empty, at most `maximum` bytes, no C0 control character (which includes the field
    /// separator) and no DEL.
    static func isValidText<Bytes: Collection<UInt8>>(_ bytes: Bytes, maximum: Int) -> Bool {
        var count = 0
        for byte in bytes {
            guard byte >= 0x20, byte != 0x7F else { return false }
            count += 1
        }
        return count >= 1 && count <= maximum
    }

    func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        out += keyID.utf8
        out.append(Self.separator)
        out += licence.utf8
        out.append(Self.separator)
        out += product.utf8
        out.append(Self.separator)
        out += client.utf8
        out.append(Self.separator)
        if let expiresAt { out += String(expiresAt).utf8 }
        out.append(Self.separator)
        out += String(issuedAt).utf8
        out.append(Self.separator)
        if let notAfter { out += String(notAfter).utf8 }
        return out
    }

    /// Parses a record, accepting only the canonical encoding; nil for anything else.
    init?(decoding record: [UInt8]) {
        var fields: [ArraySlice<UInt8>] = []
        fields.reserveCapacity(Self.fieldCount)
        var start = record.startIndex
        for index in record.indices where record[index] == Self.separator {
            guard fields.count < Self.fieldCount - 1 else { return nil }
            fields.append(record[start..<index])
            start = index + 1
        }
        fields.append(record[start...])
        guard fields.count == Self.fieldCount,
              LicenceKeyID.isValid(fields[0]),
              Self.isValidText(fields[1], maximum: Self.maximumRefidLength),
              Self.isValidText(fields[2], maximum: Self.maximumProductLength),
              Self.isValidText(fields[3], maximum: Self.maximumRefidLength),
              case .some(let expiresAt) = Self.optionalInstant(fields[4]),
              let issuedAt = Self.instant(fields[5]),
              case .some(let notAfter) = Self.optionalInstant(fields[6]),
              // Valid text can still be invalid UTF-8; a string must round-trip to the same bytes.
              let licence = String(validating: fields[1], as: UTF8.self),
              let product = String(validating: fields[2], as: UTF8.self),
              let client = String(validating: fields[3], as: UTF8.self)
        else { return nil }
        self.init(keyID: String(decoding: fields[0], as: UTF8.self), licence: licence, product: product,
                  client: client, expiresAt: expiresAt, issuedAt: issuedAt, notAfter: notAfter)
    }

    var claims: LicenceClaims {
        LicenceClaims(licence: Refid(rawValue: licence), product: product, client: Refid(rawValue: client),
                      expiresAt: expiresAt.map(TokenInstant.date), keyID: keyID,
                      issuedAt: TokenInstant.date(issuedAt), notAfter: notAfter.map(TokenInstant.date))
    }

    /// `.some(nil)` for an empty field, `.some(value)` for a canonical number, nil if invalid.
    private static func optionalInstant(_ field: ArraySlice<UInt8>) -> Int64?? {
        if field.isEmpty { return .some(nil) }
        guard let value = instant(field) else { return nil }
        return .some(value)
    }

    /// A canonical decimal Int64: optional `-`, digits, no leading zero, no `-0`.
    private static func instant(_ field: ArraySlice<UInt8>) -> Int64? {
        var digits = field[...]
        let negative = digits.first == UInt8(ascii: "-")
        if negative { digits = digits.dropFirst() }
        guard let first = digits.first, digits.count <= 19,
              first != UInt8(ascii: "0") || (digits.count == 1 && !negative)
        else { return nil }
        var value: Int64 = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let step = value.multipliedReportingOverflow(by: 10)
            let next = step.partialValue.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
            guard !step.overflow, !next.overflow else { return nil }
            value = next.partialValue
        }
        return negative ? -value : value
    }
}

/// Key ids: 1–32 characters from `A–Z a–z 0–9 . _ -`.
enum LicenceKeyID {
    static let maximumLength = 32

    static func isValid<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Bool {
        var count = 0
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                count += 1
            default:
                return false
            }
        }
        return count >= 1 && count <= maximumLength
    }

    static func validate(_ id: String) throws {
        guard isValid(id.utf8) else {
            throw ForgeError.invalid("key id", "1–\(maximumLength) characters from A–Z, a–z, 0–9, '.', '_' and '-'")
        }
    }

    static func rawKey(fromBase64 text: String, what: String) throws -> Data {
        guard text.utf8.count <= 256, let raw = Data(base64Encoded: text) else {
            throw ForgeError(.signing, message: "Invalid \(what): not standard base64")
        }
        return raw
    }
}

/// Instants as whole milliseconds since the Unix epoch, rounded down.
enum TokenInstant {
    static func milliseconds(_ date: Date) -> Int64 {
        let value = (date.timeIntervalSince1970 * 1000).rounded(.down)
        // Clamped rather than trapping: an absurd clock or expiry must not crash a verifier.
        // `-Int64.max`, not `.min`, so that every value has a canonical decimal the parser reads.
        guard value.isFinite else { return value > 0 ? .max : -.max }
        if value >= 9.2e18 { return .max }
        if value <= -9.2e18 { return -.max }
        return Int64(value)
    }

    static func date(_ milliseconds: Int64) -> Date {
        Date(timeIntervalSince1970: TimeInterval(milliseconds) / 1000)
    }
}

/// RFC 4648 §5 base64url without padding, decoded strictly.
enum Base64URL {
    static func encode<Bytes: Collection<UInt8>>(_ bytes: Bytes, into out: inout [UInt8]) {
        let alphabet: StaticString = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        alphabet.withUTF8Buffer { symbols in
            var iterator = bytes.makeIterator()
            while let first = iterator.next() {
                let second = iterator.next(), third = iterator.next()
                let group = UInt32(first) << 16 | UInt32(second ?? 0) << 8 | UInt32(third ?? 0)
                out.append(symbols[Int(group >> 18 & 63)])
                out.append(symbols[Int(group >> 12 & 63)])
                if second != nil { out.append(symbols[Int(group >> 6 & 63)]) }
                if third != nil { out.append(symbols[Int(group & 63)]) }
            }
        }
    }

    /// The decoded bytes, or nil for any character outside the alphabet, an impossible length
    /// (`count % 4 == 1`), or non-zero unused bits in the last character — so that each byte
    /// string has exactly one encoding.
    static func decode(_ text: Slice<UnsafeBufferPointer<UInt8>>) -> [UInt8]? {
        let remainder = text.count % 4
        guard remainder != 1 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(text.count / 4 * 3 + 2)
        var accumulator: UInt32 = 0
        var bits = 0
        for symbol in text {
            guard let value = sextet(symbol) else { return nil }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
                accumulator &= (1 << UInt32(bits)) - 1
            }
        }
        // Leftover bits (2 or 4) are padding and must be zero.
        guard accumulator == 0 else { return nil }
        return out
    }

    @inline(__always)
    private static func sextet(_ symbol: UInt8) -> UInt8? {
        switch symbol {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): symbol &- UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): symbol &- UInt8(ascii: "a") &+ 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): symbol &- UInt8(ascii: "0") &+ 52
        case UInt8(ascii: "-"): 62
        case UInt8(ascii: "_"): 63
        default: nil
        }
    }
}
