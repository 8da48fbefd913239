import Crypto
import Foundation
import SuiteCore

/// The rules metadata must follow before it is stored: a size and depth limit, finite numbers,
/// sensible keys — and no secret-looking keys in the plain field. Secrets belong in the
/// encrypted field (AES-256-GCM, key from configuration), bound to the client's refid.
struct MetadataPolicy: Sendable {
    var maxBytes: Int
    var maxDepth: Int
    var encryptionKey: SymmetricKey?

    init(_ configuration: ClientConfiguration) {
        maxBytes = configuration.metadataMaxBytes
        maxDepth = configuration.metadataMaxDepth
        encryptionKey = configuration.metadataEncryptionKey
    }

    /// Checks plain metadata; returns its JSON text.
    func checkPlain(_ metadata: Metadata) throws -> String {
        let text = try checkShape(metadata, field: "metadata")
        if let path = Self.secretLookingPath(in: metadata) {
            throw ClientError(.invalidMetadata, field: "metadata",
                              message: "Invalid metadata: key \"\(path.prefix(80))\" looks like a secret; store it with secretMetadata (encrypted) instead")
        }
        return text
    }

    /// Checks and encrypts secret metadata; nil when there is none.
    func seal(_ secrets: Metadata, refid: Refid) throws -> [UInt8]? {
        guard !secrets.isEmpty else { return nil }
        let text = try checkShape(secrets, field: "secret_metadata")
        guard let encryptionKey else {
            throw ClientError(.encryption, field: "secret_metadata",
                              message: "Secret metadata needs an encryption key: set client.metadata_encryption_key")
        }
        do {
            let box = try AES.GCM.seal(Data(text.utf8), using: encryptionKey, authenticating: Data(refid.rawValue.utf8))
            guard let combined = box.combined else { throw CryptoKitError.incorrectParameterSize }
            return [UInt8](combined)
        } catch {
            throw ClientError(.encryption, message: "Secret metadata could not be encrypted", detail: String(describing: error))
        }
    }

    /// Decrypts the encrypted field; empty when there is none.
    func open(_ sealed: [UInt8]?, refid: Refid) throws -> Metadata {
        guard let sealed else { return [:] }
        guard let encryptionKey else {
            throw ClientError(.encryption, message: "Secret metadata needs an encryption key: set client.metadata_encryption_key")
        }
        do {
            let box = try AES.GCM.SealedBox(combined: Data(sealed))
            let plain = try AES.GCM.open(box, using: encryptionKey, authenticating: Data(refid.rawValue.utf8))
            guard let metadata = Metadata(jsonText: String(decoding: plain, as: UTF8.self)) else {
                throw CryptoKitError.authenticationFailure
            }
            return metadata
        } catch {
            throw ClientError(.encryption, message: "Secret metadata could not be decrypted with the configured key",
                              detail: String(describing: error))
        }
    }

    private func checkShape(_ metadata: Metadata, field: String) throws -> String {
        let depth = JSONValue.object(metadata).depth
        guard depth <= maxDepth else {
            throw ClientError(.invalidMetadata, field: field,
                              message: "Invalid \(field): nested \(depth) levels deep; the limit is \(maxDepth)")
        }
        if let problem = Self.firstProblem(in: .object(metadata)) {
            throw ClientError(.invalidMetadata, field: field, message: "Invalid \(field): \(problem)")
        }
        let text = metadata.jsonText()
        guard text.utf8.count <= maxBytes else {
            throw ClientError(.invalidMetadata, field: field,
                              message: "Invalid \(field): \(text.utf8.count) bytes of JSON; the limit is \(maxBytes)")
        }
        return text
    }

    private static func firstProblem(in value: JSONValue) -> String? {
        switch value {
        case .double(let number) where !number.isFinite:
            return "numbers must be finite"
        case .object(let fields):
            for (key, child) in fields {
                if key.isEmpty || key.count > 128 { return "keys must be 1–128 characters" }
                if key.containsControlCharacters { return "keys must not contain control characters" }
                if let problem = firstProblem(in: child) { return problem }
            }
        case .array(let items):
            for item in items { if let problem = firstProblem(in: item) { return problem } }
        default:
            break
        }
        return nil
    }

    // MARK: Secret-looking keys

    /// Whole words that name a secret (`card`, `pin`, `token`…), matched against the words of a
    /// key split at punctuation and camelCase.
    private static let secretWords: Set<String> = [
        "password", "passwd", "pwd", "passphrase", "secret", "secrets", "token", "tokens", "pin", "cvv", "cvc",
        "ssn", "iban", "card", "otp", "credential", "credentials", "apikey", "privatekey",
    ]
    /// Word pairs that name a secret (`api key`, `access key`, `card number`…).
    private static let secretPairs: Set<String> = [
        "apikey", "accesskey", "privatekey", "secretkey", "cardnumber", "creditcard", "debitcard", "signingkey", "authkey",
    ]
    /// Substrings that name a secret even inside a longer word (`dbpassword`, `clientsecret`).
    private static let secretFragments = ["password", "passwd", "passphrase", "secret", "apikey", "accesstoken",
                                          "refreshtoken", "privatekey", "creditcard", "cardnumber"]

    /// The dotted path of the first key anywhere in `metadata` that looks like a secret.
    static func secretLookingPath(in metadata: Metadata, prefix: String = "") -> String? {
        for key in metadata.keys.sorted() {
            let path = prefix.isEmpty ? key : prefix + "." + key
            if looksSecret(key) { return path }
            if let found = secretLookingPath(in: metadata[key]!, prefix: path) { return found }
        }
        return nil
    }

    private static func secretLookingPath(in value: JSONValue, prefix: String) -> String? {
        switch value {
        case .object(let fields): return secretLookingPath(in: fields, prefix: prefix)
        case .array(let items):
            for (index, item) in items.enumerated() {
                if let found = secretLookingPath(in: item, prefix: prefix + "[\(index)]") { return found }
            }
            return nil
        default: return nil
        }
    }

    static func looksSecret(_ key: String) -> Bool {
        let words = words(of: key)
        if words.contains(where: secretWords.contains) { return true }
        if zip(words, words.dropFirst()).contains(where: { secretPairs.contains($0 + $1) }) { return true }
        let squashed = words.joined()
        return secretFragments.contains { squashed.contains($0) }
    }

    /// `apiKey` → ["api", "key"]; `card_number` → ["card", "number"]; `X-Auth-Token` → ["x", "auth", "token"].
    static func words(of key: String) -> [String] {
        var words: [String] = []
        var current = ""
        var previousWasLower = false
        for scalar in key.unicodeScalars {
            let isLetterOrDigit = scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)
            if !isLetterOrDigit {
                if !current.isEmpty { words.append(current) }
                current = ""
                previousWasLower = false
                continue
            }
            if scalar.properties.isUppercase && previousWasLower {
                words.append(current)
                current = ""
            }
            current += String(scalar).lowercased()
            previousWasLower = scalar.properties.isLowercase || ("0"..."9").contains(scalar)
        }
        if !current.isEmpty { words.append(current) }
        return words
    }
}
