import Forge
import Foundation
import SuiteCore

/// The check an app makes when the server cannot be reached: its signed licence token, verified
/// with Forge's ``OfflineLicenceVerifier`` against the public key set cached from the server.
///
/// A token names its licence (refid, product, client), not the licence key — the key is a secret
/// the server keeps only a digest of — so the token is tied to the key only through `licence`,
/// the refid the app learnt when it was activated.
struct OfflineCheck {
    /// The token file: the bare `CSL1.…` text, or JSON with a `token` field (`dock forge sign --json`,
    /// `POST /v1/licences/{refid}/token`).
    var tokenFile: String?
    /// The public key set file (see ``KeySetFile``).
    var keysFile: String?
    /// The licence refid the token must name; nil accepts the token's licence.
    var licence: String?
    /// Where the time comes from, to judge the licence's expiry and the token's own deadline.
    var clock: any WallClock

    /// The verdict of the token, or a failure when there is nothing usable to decide with; the
    /// failure's message completes "Cannot reach the server, and …".
    func check(key: String) throws(CheckFailure) -> Verdict {
        guard let tokenFile else {
            throw CheckFailure(.undecided, "there is no token to check offline: pass --token FILE and --keys FILE")
        }
        guard let keysFile else {
            throw CheckFailure(.undecided, "there are no public keys to check the token with: pass --keys FILE")
        }
        let token = try Self.readToken(tokenFile)
        let keySet: KeySet
        do { keySet = try KeySetFile(path: keysFile).read() } catch {
            throw CheckFailure(.undecided, "the public keys in \(keysFile) cannot be read: \(error.message)")
        }
        guard !keySet.keys.isEmpty else {
            throw CheckFailure(.undecided, "\(keysFile) holds no public keys")
        }
        guard (try? LicenceKey(parsing: key)) != nil else {
            return Verdict(line: "invalid (offline): malformed key", status: .invalid)
        }

        let outcome = OfflineLicenceVerifier(publicKeys: keySet.keys, clock: clock).verify(token)
        guard outcome.isValid, let claims = outcome.claims else {
            return Verdict(line: "invalid (offline): \(outcome.code)" + (outcome.claims.map { " (licence \($0.licence))" } ?? ""),
                           status: .invalid)
        }
        if let licence, claims.licence.rawValue != licence {
            return Verdict(line: "invalid (offline): the token is for licence \(claims.licence), not \(licence)", status: .invalid)
        }
        var term = claims.expiresAt.map { " until \($0.day)" } ?? ", lifetime"
        if let notAfter = claims.notAfter { term += " (token until \(notAfter.day))" }
        return Verdict(line: "valid (offline): licence \(claims.licence) (\(claims.product))\(term), signed by key \(claims.keyID)",
                       status: .valid)
    }

    /// The token in `path`, bare or inside JSON.
    private static func readToken(_ path: String) throws(CheckFailure) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CheckFailure(.undecided, "the token file \(path) cannot be read")
        }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.hasPrefix("{") else { return text }
        guard let signed = try? JSONDecoder().decode(SignedToken.self, from: data) else {
            throw CheckFailure(.undecided, "the token file \(path) is JSON without a token field")
        }
        return signed.token
    }

    /// The JSON forms of a token: `{"licence": …, "token": "CSL1.…"}` and the token route's, which adds `key_id`.
    private struct SignedToken: Decodable {
        var token: String
    }
}

/// The public key set on disk, as JSON. Reads `{"keys": [{"id": …, "public_key": …}]}` (what
/// `GET /v1/licences/keys` serves and what ``write(_:)`` writes), a bare array of keys, or one
/// key (what `dock forge keygen --json` prints).
struct KeySetFile {
    /// Where the file is.
    var path: String

    /// The keys in the file.
    func read() throws(CheckFailure) -> KeySet {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CheckFailure(.undecided, "no such file")
        }
        let decoder = SuiteJSON.decoder()
        if let keySet = try? decoder.decode(KeySet.self, from: data) { return keySet }
        if let keys = try? decoder.decode([LicencePublicKey].self, from: data) { return KeySet(keys: keys) }
        if let key = try? decoder.decode(LicencePublicKey.self, from: data) { return KeySet(keys: [key]) }
        throw CheckFailure(.undecided, "not a public key set")
    }

    /// Replaces the file with `keySet` in one step, so that a crash never leaves half a file.
    func write(_ keySet: KeySet) throws {
        let json = try SuiteJSON.encoder(pretty: true).encode(keySet) + Data("\n".utf8)
        try json.write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
