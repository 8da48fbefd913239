import Crypto
import Foundation
// @testable only to build `Licence` values: Forge has no public initialiser for it yet (licences
// come from the store), and these tests must not need a database.
@testable import Forge
import SuiteCore
import SuiteTestSupport
import Testing

@Suite struct LicenceTokenTests {
    static let start = Date(timeIntervalSince1970: 1_750_000_000)
    static let base64URLAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

    // MARK: Signing and verifying

    @Test func signedTokenVerifiesWithItsClaims() throws {
        let clock = ManualWallClock(now: Self.start)
        let key = try LicenceSigningKey.generate(id: "k1")
        let licence = Self.licence(expiresAt: Self.start + .days(30))
        let token = try LicenceSigner(key: key, clock: clock).sign(licence)

        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        #expect(parts.count == 3)
        #expect(parts.first == "CSL1")
        #expect(token.utf8.allSatisfy { Self.base64URLAlphabet.contains(Character(UnicodeScalar($0))) || $0 == UInt8(ascii: ".") })

        let outcome = OfflineLicenceVerifier(publicKeys: [key.publicKey], clock: clock).verify(token)
        #expect(outcome.code == .valid)
        #expect(outcome.isValid)
        #expect(outcome.claims == LicenceClaims(
            licence: licence.refid, product: licence.product, client: try #require(licence.client),
            expiresAt: licence.expiresAt, keyID: "k1", issuedAt: Self.start, notAfter: nil))
    }

    @Test func licenceExpiryMakesTheTokenExpiredFromThatInstant() throws {
        let clock = ManualWallClock(now: Self.start)
        let key = try LicenceSigningKey.generate(id: "k1")
        let expiry = Self.start + .days(30)
        let token = try LicenceSigner(key: key, clock: clock).sign(Self.licence(expiresAt: expiry))
        let verifier = OfflineLicenceVerifier(publicKeys: [key.publicKey], clock: clock)

        clock.set(expiry - 0.001)
        #expect(verifier.verify(token).code == .valid)
        clock.set(expiry)
        let expired = verifier.verify(token)
        #expect(expired.code == .expired)
        #expect(expired.claims?.expiresAt == expiry, "a genuine expired token still shows its claims")
        clock.set(expiry + .days(365))
        #expect(verifier.verify(token).code == .expired)
    }

    @Test func lifetimeLicenceStaysValid() throws {
        let clock = ManualWallClock(now: Self.start)
        let key = try LicenceSigningKey.generate(id: "k1")
        let token = try LicenceSigner(key: key, clock: clock).sign(Self.licence(expiresAt: nil))
        let verifier = OfflineLicenceVerifier(publicKeys: [key.publicKey], clock: clock)

        clock.advance(by: .days(365 * 100))
        let outcome = verifier.verify(token)
        #expect(outcome.code == .valid)
        #expect(outcome.claims != nil)
        #expect(outcome.claims?.expiresAt == nil)
        #expect(outcome.claims?.notAfter == nil)
    }

    @Test func validForMakesTheTokenExpireBeforeTheLicence() throws {
        let clock = ManualWallClock(now: Self.start)
        let key = try LicenceSigningKey.generate(id: "k1")
        let expiry = Self.start + .days(30)
        let token = try LicenceSigner(key: key, clock: clock).sign(Self.licence(expiresAt: expiry), validFor: .seconds(3600))
        let verifier = OfflineLicenceVerifier(publicKeys: [key.publicKey], clock: clock)

        #expect(verifier.verify(token).claims?.notAfter == Self.start + 3600)
        clock.set(Self.start + 3599.999)
        #expect(verifier.verify(token).code == .valid)
        clock.set(Self.start + 3600)
        let stale = verifier.verify(token)
        #expect(stale.code == .tokenExpired)
        #expect(stale.claims?.licence != nil)
        clock.set(expiry)
        #expect(verifier.verify(token).code == .expired, "licence expiry is reported before the token's own deadline")
    }

    @Test func validForUnderAMillisecondIsRefused() throws {
        let signer = LicenceSigner(key: try LicenceSigningKey.generate(id: "k1"), clock: ManualWallClock(now: Self.start))
        for duration: Duration in [.zero, .seconds(-5), .microseconds(999)] {
            let error = #expect(throws: ForgeError.self) { try signer.sign(Self.licence(), validFor: duration) }
            #expect(error?.code == .validation)
        }
        #expect(throws: Never.self) { try signer.sign(Self.licence(), validFor: .milliseconds(1)) }
    }

    // MARK: Tampering

    @Test func everySingleCharacterMutationOfTheClaimsIsRejected() throws {
        let (token, verifier) = try Self.tokenAndVerifier(keyID: "k1")
        let parts = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        let claims = Array(parts[1])
        // "k1" and its separator are the first 3 bytes, i.e. the first 4 base64url characters: a
        // mutation there changes the key id, which a verifier cannot tell from a foreign key.
        let keyIDCharacters = 4
        var codes: [OfflineVerification.Code: Int] = [:]
        for index in claims.indices {
            for replacement in Self.base64URLAlphabet + [".", "=", "+", "/", " ", "é"] where replacement != claims[index] {
                var mutated = claims
                mutated[index] = replacement
                let outcome = verifier.verify("CSL1.\(String(mutated)).\(parts[2])")
                codes[outcome.code, default: 0] += 1
                #expect(outcome.claims == nil)
                if index < keyIDCharacters {
                    #expect([.tampered, .malformed, .unknownKey].contains(outcome.code), "position \(index) → \(replacement)")
                } else {
                    #expect([.tampered, .malformed].contains(outcome.code), "position \(index) → \(replacement)")
                }
            }
        }
        #expect(codes[.valid] == nil)
        #expect(codes[.tampered, default: 0] > claims.count * 50, "most mutations reach the signature check")
    }

    @Test func everySingleCharacterMutationOfTheSignatureIsRejected() throws {
        let (token, verifier) = try Self.tokenAndVerifier(keyID: "k1")
        let parts = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        let signature = Array(parts[2])
        #expect(signature.count == 86)
        var codes: [OfflineVerification.Code: Int] = [:]
        for index in signature.indices {
            for replacement in Self.base64URLAlphabet + [".", "=", "+", "/"] where replacement != signature[index] {
                var mutated = signature
                mutated[index] = replacement
                let outcome = verifier.verify("CSL1.\(parts[1]).\(String(mutated))")
                codes[outcome.code, default: 0] += 1
                #expect([.tampered, .malformed].contains(outcome.code), "position \(index) → \(replacement)")
            }
        }
        #expect(codes[.valid] == nil)
        #expect(codes[.tampered, default: 0] > 0)
        #expect(codes[.malformed, default: 0] > 0, "non-canonical trailing bits and foreign characters are malformed")
    }

    @Test func swappingClaimsBetweenTokensIsTampered() throws {
        let clock = ManualWallClock(now: Self.start)
        let key = try LicenceSigningKey.generate(id: "k1")
        let signer = LicenceSigner(key: key, clock: clock)
        let first = try signer.sign(Self.licence(product: "PRO-1Y")).split(separator: ".")
        let second = try signer.sign(Self.licence(product: "ENTERPRISE")).split(separator: ".")
        let verifier = OfflineLicenceVerifier(publicKeys: [key.publicKey], clock: clock)

        #expect(verifier.verify("CSL1.\(first[1]).\(first[2])").code == .valid)
        #expect(verifier.verify("CSL1.\(first[1]).\(second[2])").code == .tampered)
        #expect(verifier.verify("CSL1.\(second[1]).\(first[2])").code == .tampered)
    }

    @Test func signedButNonCanonicalClaimsAreMalformed() throws {
        let key = try LicenceSigningKey.generate(id: "k1")
        let verifier = OfflineLicenceVerifier(publicKeys: [key.publicKey], clock: ManualWallClock(now: Self.start))
        let unit = "\u{1F}"
        let records = [
            ["k1", "LC-1", "PRO", "CL-1", "", "01750000000000", ""],            // leading zero
            ["k1", "LC-1", "PRO", "CL-1", "-0", "1750000000000", ""],           // negative zero
            ["k1", "LC-1", "PRO", "CL-1", "", "+1750000000000", ""],            // explicit plus
            ["k1", "LC-1", "PRO", "CL-1", "", "", ""],                          // no issued-at
            ["k1", "LC-1", "PRO", "CL-1", "", "99999999999999999999", ""],      // overflows Int64
            ["k1", "LC-1", "PRO", "CL-1", "", "1750000000000"],                 // six fields
            ["k1", "LC-1", "PRO", "CL-1", "", "1750000000000", "", ""],         // eight fields
            ["k1", "", "PRO", "CL-1", "", "1750000000000", ""],                 // empty licence
            ["k1", "LC-1", "PRO\tX", "CL-1", "", "1750000000000", ""],          // control character
        ]
        for fields in records {
            let token = try Self.signByHand(Array(fields.joined(separator: unit).utf8), with: key)
            #expect(verifier.verify(token).code == .malformed, "\(fields)")
        }
        // Invalid UTF-8 in a text field, signed: still malformed, never a crash.
        var bytes = Array("k1\u{1F}LC-1\u{1F}".utf8) + [0xC3, 0x28] + Array("\u{1F}CL-1\u{1F}\u{1F}1750000000000\u{1F}".utf8)
        #expect(verifier.verify(try Self.signByHand(bytes, with: key)).code == .malformed)
        // The same record, well formed, is valid: the hand-made tokens above fail for their content.
        bytes = Array(["k1", "LC-1", "PRO", "CL-1", "", "1750000000000", ""].joined(separator: unit).utf8)
        #expect(verifier.verify(try Self.signByHand(bytes, with: key)).code == .valid)
    }

    // MARK: Keys and rotation

    @Test func tokenFromAnUnknownKeyIdIsUnknownKey() throws {
        let clock = ManualWallClock(now: Self.start)
        let trusted = try LicenceSigningKey.generate(id: "trusted")
        let foreign = try LicenceSigningKey.generate(id: "foreign")
        let token = try LicenceSigner(key: foreign, clock: clock).sign(Self.licence())

        let outcome = OfflineLicenceVerifier(publicKeys: [trusted.publicKey], clock: clock).verify(token)
        #expect(outcome.code == .unknownKey)
        #expect(outcome.claims == nil)
        #expect(OfflineLicenceVerifier(publicKeys: [], clock: clock).verify(token).code == .unknownKey)
    }

    @Test func rotationAcceptsBothKeysUntilTheOldOneIsDropped() throws {
        let clock = ManualWallClock(now: Self.start)
        let old = try LicenceSigningKey.generate(id: "2024-12")
        let new = try LicenceSigningKey.generate(id: "2025-06")
        let oldToken = try LicenceSigner(key: old, clock: clock).sign(Self.licence())
        let newToken = try LicenceSigner(key: new, clock: clock).sign(Self.licence())

        let during = OfflineLicenceVerifier(publicKeys: [new.publicKey, old.publicKey], clock: clock)
        #expect(during.verify(oldToken).code == .valid)
        #expect(during.verify(oldToken).claims?.keyID == "2024-12")
        #expect(during.verify(newToken).code == .valid)
        #expect(during.verify(newToken).claims?.keyID == "2025-06")

        let after = OfflineLicenceVerifier(publicKeys: [new.publicKey], clock: clock)
        #expect(after.verify(oldToken).code == .unknownKey)
        #expect(after.verify(newToken).code == .valid)
    }

    @Test func keyClaimingATrustedIdWithAnotherPrivateKeyIsTampered() throws {
        let clock = ManualWallClock(now: Self.start)
        let trusted = try LicenceSigningKey.generate(id: "k1")
        let impostor = try LicenceSigningKey.generate(id: "k1")
        let forged = try LicenceSigner(key: impostor, clock: clock).sign(Self.licence())

        let outcome = OfflineLicenceVerifier(publicKeys: [trusted.publicKey], clock: clock).verify(forged)
        #expect(outcome.code == .tampered)
        #expect(outcome.claims == nil)
        // Two keys under one id are both trusted: the second is tried when the first fails.
        let both = OfflineLicenceVerifier(publicKeys: [trusted.publicKey, impostor.publicKey], clock: clock)
        #expect(both.verify(forged).code == .valid)
    }

    @Test func keysRoundTripThroughBase64() throws {
        let key = try LicenceSigningKey.generate(id: "prod.k-2_0")
        let restored = try LicenceSigningKey(id: key.id, base64PrivateKey: key.base64PrivateKey)
        #expect(restored.privateKey.rawRepresentation == key.privateKey.rawRepresentation)
        #expect(restored.publicKey == key.publicKey)
        #expect(Data(base64Encoded: key.base64PrivateKey)?.count == 32)

        let publicKey = try LicencePublicKey(id: key.id, base64PublicKey: key.publicKey.base64PublicKey)
        #expect(publicKey == key.publicKey)
        #expect(publicKey.id == "prod.k-2_0")

        let clock = ManualWallClock(now: Self.start)
        let token = try LicenceSigner(key: restored, clock: clock).sign(Self.licence())
        #expect(OfflineLicenceVerifier(publicKeys: [publicKey], clock: clock).verify(token).code == .valid)

        // The secret stays out of logs.
        #expect(!"\(key)".contains(key.base64PrivateKey))
        #expect(!String(reflecting: key).contains(key.base64PrivateKey))
        var dumped = ""
        dump(key, to: &dumped)
        #expect(dumped.contains("prod.k-2_0"))
        #expect(!dumped.contains("rawRepresentation") && !dumped.contains("baseKey"))
    }

    @Test func badKeyMaterialIsASigningError() throws {
        for text in ["", "not base64!", Data(count: 31).base64EncodedString(), Data(count: 33).base64EncodedString(),
                     String(repeating: "A", count: 10_000)] {
            let privateError = #expect(throws: ForgeError.self) { try LicenceSigningKey(id: "k1", base64PrivateKey: text) }
            #expect(privateError?.code == .signing)
            let publicError = #expect(throws: ForgeError.self) { try LicencePublicKey(id: "k1", base64PublicKey: text) }
            #expect(publicError?.code == .signing)
        }
    }

    @Test func keyIdsAreValidated() throws {
        for id in ["", String(repeating: "a", count: 33), "a b", "ké", "k/1", "k1\u{1F}", "k:1"] {
            let error = #expect(throws: ForgeError.self) { try LicenceSigningKey.generate(id: id) }
            #expect(error?.code == .validation, "\(id)")
            let publicError = #expect(throws: ForgeError.self) {
                try LicencePublicKey(id: id, key: Curve25519.Signing.PrivateKey().publicKey)
            }
            #expect(publicError?.code == .validation)
        }
        for id in ["k", "A.z_0-9", String(repeating: "Z", count: 32)] {
            #expect(try LicenceSigningKey.generate(id: id).id == id)
        }
    }

    // MARK: Refusals

    @Test func refusesLicencesThatAreNotActiveOrHaveNoClient() throws {
        let signer = LicenceSigner(key: try LicenceSigningKey.generate(id: "k1"), clock: ManualWallClock(now: Self.start))
        for status in [LicenceStatus.pending, .revoked, .expired] {
            let error = #expect(throws: ForgeError.self) { try signer.sign(Self.licence(status: status)) }
            #expect(error?.code == .statusConflict, "\(status)")
            #expect(error?.description.contains("\(status)") == true)
        }
        // Active in the store but past its expiry: expired in effect, so refused too.
        let lapsed = #expect(throws: ForgeError.self) { try signer.sign(Self.licence(expiresAt: Self.start)) }
        #expect(lapsed?.code == .statusConflict)

        let clientless = #expect(throws: ForgeError.self) { try signer.sign(Self.licence(client: nil)) }
        #expect(clientless?.code == .signing)
        #expect(clientless?.description.contains("client") == true)
    }

    @Test func claimsSigningChecksTheKeyIdAndFields() throws {
        let clock = ManualWallClock(now: Self.start)
        let key = try LicenceSigningKey.generate(id: "k1")
        let signer = LicenceSigner(key: key, clock: clock)
        let claims = LicenceClaims(
            licence: Refid.generate(prefix: "LC-"), product: "Pro Édition", client: Refid.generate(prefix: "CL-"),
            expiresAt: Self.start + .days(1), keyID: "k1", issuedAt: Self.start - 60, notAfter: Self.start + 600)
        let outcome = OfflineLicenceVerifier(publicKeys: [key.publicKey], clock: clock).verify(try signer.sign(claims))
        #expect(outcome.code == .valid)
        #expect(outcome.claims == claims)

        var otherKey = claims
        otherKey.keyID = "k2"
        let wrongKey = #expect(throws: ForgeError.self) { try signer.sign(otherKey) }
        #expect(wrongKey?.code == .signing)
        for product in ["", "A\u{1F}B", "line\nbreak", String(repeating: "p", count: 65)] {
            var bad = claims
            bad.product = product
            let badProduct = #expect(throws: ForgeError.self) { try signer.sign(bad) }
            #expect(badProduct?.code == .validation)
        }
        var badRefid = claims
        badRefid.client = Refid(rawValue: "")
        let emptyClient = #expect(throws: ForgeError.self) { try signer.sign(badRefid) }
        #expect(emptyClient?.code == .validation)
    }

    // MARK: Arbitrary input

    @Test func malformedShapesAreMalformed() throws {
        let (token, verifier) = try Self.tokenAndVerifier(keyID: "k1")
        let parts = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        let shapes = [
            "", ".", "..", "CSL1", "CSL1.", "CSL1..", "CSL1...", "csl1.\(parts[1]).\(parts[2])",
            "CSL2.\(parts[1]).\(parts[2])", "CSL1.\(parts[1])", "CSL1.\(parts[1]).", "CSL1..\(parts[2])",
            "CSL1.\(parts[1]).\(parts[2]).", "CSL1.\(parts[1]).\(parts[2]).x", "CSL1.\(parts[1]).\(parts[2])==",
            "CSL1.\(parts[1]).\(parts[2].dropLast())", "CSL1.\(parts[1]).\(parts[2])A",
            " \(token)", "\(token) ", "\(token)\n", "CSL1.\(parts[1]).\(parts[2].dropLast(2))",
            token + String(repeating: "A", count: OfflineLicenceVerifier.maximumTokenLength),
            String(repeating: "CSL1.", count: 1_000_000),
        ]
        for shape in shapes {
            let outcome = verifier.verify(shape)
            #expect(outcome.code == .malformed, "\(shape.prefix(80))")
            #expect(outcome.claims == nil)
        }
        // Truncating the claims changes the signed bytes or the field count: never valid.
        for length in 0..<parts[1].count {
            let code = verifier.verify("CSL1.\(parts[1].prefix(length)).\(parts[2])").code
            #expect([.malformed, .tampered, .unknownKey].contains(code), "claims cut to \(length)")
        }
    }

    @Test func randomInputNeverVerifies() throws {
        let (token, verifier) = try Self.tokenAndVerifier(keyID: "k1")
        let parts = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        var random = SplitMix64(seed: 0x5EED_CAFE)
        var codes: [OfflineVerification.Code: Int] = [:]
        let tokenAlphabet = Self.base64URLAlphabet + [".", "."]
        for round in 0..<4_000 {
            let candidate: String
            switch round % 4 {
            case 0: // arbitrary bytes, often invalid UTF-8 (repaired by String)
                let bytes = (0..<Int.random(in: 0..<1_500, using: &random)).map { _ in UInt8.random(in: .min ... .max, using: &random) }
                candidate = String(decoding: bytes, as: UTF8.self)
            case 1: // token-shaped noise
                candidate = "CSL1." + String((0..<Int.random(in: 0..<600, using: &random)).map { _ in tokenAlphabet.randomElement(using: &random)! })
            case 2: // the real claims with a random signature
                candidate = "CSL1.\(parts[1])." + String((0..<86).map { _ in Self.base64URLAlphabet.randomElement(using: &random)! })
            default: // random claims with the real signature
                let claims = (0..<Int.random(in: 0..<200, using: &random)).map { _ in UInt8.random(in: .min ... .max, using: &random) }
                var encoded: [UInt8] = []
                Base64URL.encode(claims, into: &encoded)
                candidate = "CSL1.\(String(decoding: encoded, as: UTF8.self)).\(parts[2])"
            }
            let outcome = verifier.verify(candidate)
            codes[outcome.code, default: 0] += 1
            #expect(!outcome.isValid, "\(candidate.prefix(80))")
            #expect(outcome.claims == nil)
        }
        #expect(codes[.valid] == nil)
        #expect(codes[.malformed, default: 0] > 0)
        #expect(codes[.tampered, default: 0] > 0, "random signatures over real claims reach the signature check")
    }

    @Test func base64URLDecodingIsStrictAndRoundTrips() throws {
        var random = SplitMix64(seed: 42)
        for length in 0..<200 {
            let bytes = (0..<length).map { _ in UInt8.random(in: .min ... .max, using: &random) }
            var encoded: [UInt8] = []
            Base64URL.encode(bytes, into: &encoded)
            #expect(encoded.count == (length * 4 + 2) / 3)
            #expect(Self.decode(encoded) == bytes)
            #expect(String(decoding: encoded, as: UTF8.self) == Data(bytes).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: ""))
        }
        #expect(Self.decode(Array("QQ".utf8)) == [0x41])
        #expect(Self.decode(Array("QR".utf8)) == nil, "non-zero trailing bits")
        #expect(Self.decode(Array("QUI".utf8)) == [0x41, 0x42])
        #expect(Self.decode(Array("QUJ".utf8)) == nil, "non-zero trailing bits")
        #expect(Self.decode(Array("QUJDR".utf8)) == nil, "impossible length")
        #expect(Self.decode(Array("QQ==".utf8)) == nil, "padding is not base64url-without-padding")
    }

    // MARK: Helpers

    static func licence(product: String = "PRO-1Y", client: Refid? = Refid.generate(prefix: "CL-"),
                        status: LicenceStatus = .active, expiresAt: Date? = start + .days(365)) -> Licence {
        Licence(refid: Refid.generate(prefix: "LC-"), product: product, client: client, reseller: nil, status: status,
                durationDays: expiresAt == nil ? nil : 365, metadata: [:], keyHint: "…-KJ5YE",
                createdAt: start - .days(1), activatedAt: status == .pending ? nil : start - .days(1),
                expiresAt: expiresAt, revokedAt: status == .revoked ? start : nil)
    }

    static func tokenAndVerifier(keyID: String) throws -> (String, OfflineLicenceVerifier) {
        let clock = ManualWallClock(now: start)
        let key = try LicenceSigningKey.generate(id: keyID)
        let token = try LicenceSigner(key: key, clock: clock).sign(licence(), validFor: .seconds(86_400))
        return (token, OfflineLicenceVerifier(publicKeys: [key.publicKey], clock: clock))
    }

    /// A token over an arbitrary record, signed with the real key: for content the signer refuses.
    static func signByHand(_ record: [UInt8], with key: LicenceSigningKey) throws -> String {
        var signed = Array("CSL1.".utf8)
        Base64URL.encode(record, into: &signed)
        let signature = try key.privateKey.signature(for: signed)
        signed.append(UInt8(ascii: "."))
        Base64URL.encode(signature, into: &signed)
        return String(decoding: signed, as: UTF8.self)
    }

    static func decode(_ text: [UInt8]) -> [UInt8]? {
        text.withUnsafeBufferPointer { Base64URL.decode($0[...]) }
    }
}

