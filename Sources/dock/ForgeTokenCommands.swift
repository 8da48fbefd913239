import Suite
import ArgumentParser
import Forge
import Foundation
import SuiteCore

extension ForgeCommand {
    struct Keygen: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an Ed25519 signing key for licence tokens: writes the private key file (mode 0600) and prints the public key.")
        @OptionGroup var output: OutputOptions
        @Option(help: "The key id (1–32 of A–Z a–z 0–9 . _ -), e.g. 2026-11.") var id: String
        @Option(help: "Where to write the private key (JSON).") var out: String

        func run() async throws {
            try await runReporting {
                guard !FileManager.default.fileExists(atPath: out) else {
                    throw ForgeError(.signing, message: "Refusing to overwrite \(out): a signing key is already there")
                }
                let key = try LicenceSigningKey.generate(id: id)
                let json = try JSONEncoder().encode(["key_id": key.id, "private_key": key.base64PrivateKey])
                guard FileManager.default.createFile(atPath: out, contents: json, attributes: [.posixPermissions: 0o600]) else {
                    throw ForgeError(.signing, message: "Cannot write the private key to \(out)")
                }
                let publicKey = key.publicKey
                try output.show(publicKey) {
                    print("key id      \(publicKey.id)")
                    print("public key  \(publicKey.base64PublicKey)")
                    print("private key written to \(out) — keep it secret; give verifiers --public-key \(publicKey.id):\(publicKey.base64PublicKey)")
                }
            }
        }
    }

    struct Sign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sign an active licence into a token that verifies offline with the public key alone.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The licence refid.") var refid: Refid
        @Option(help: "The private key file written by `dock forge keygen`.") var keyFile: String
        @Option(help: "Make the token itself expire after N days (so revocations reach offline verifiers).") var validForDays: Int?

        func run() async throws {
            try await withSuite(database) { suite in
                let licences = try suite.licences
                let key = try readSigningKey(keyFile)
                let licence = try await licences.find(refid)
                if let days = validForDays, !(1...Licences.maximumDays).contains(days) {
                    throw ForgeError(.validation, message: "Invalid days: use 1…\(Licences.maximumDays)")
                }
                let token = try LicenceSigner(key: key).sign(licence, validFor: validForDays.map { .seconds($0 * 86_400) })
                try output.show(["licence": licence.refid.rawValue, "token": token]) { print(token) }
            }
        }
    }

    struct VerifyOffline: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify-offline",
            abstract: "Verify a licence token with public keys only (no database); exits 0 only when valid.")
        @OptionGroup var output: OutputOptions
        @Argument(help: "The token (CSL1.…).") var token: String
        @Option(help: "A trusted public key as ID:BASE64 (repeatable, for key rotation).") var publicKey: [String] = []

        func validate() throws {
            if publicKey.isEmpty { throw ValidationError("give at least one --public-key ID:BASE64") }
        }

        func run() async throws {
            var valid = false
            try await runReporting {
                let keys = try publicKey.map { text -> LicencePublicKey in
                    guard let colon = text.firstIndex(of: ":") else {
                        throw ForgeError(.validation, message: "Invalid public key: expected ID:BASE64")
                    }
                    return try LicencePublicKey(id: String(text[..<colon]), base64PublicKey: String(text[text.index(after: colon)...]))
                }
                let result = OfflineLicenceVerifier(publicKeys: keys).verify(token)
                valid = result.isValid
                try output.show(result) {
                    print(result.code.rawValue + (result.claims.map { "  \($0.licence) \($0.product) \($0.client)" } ?? ""))
                }
            }
            if !valid { throw ExitCode.failure }
        }
    }
}

func readSigningKey(_ path: String) throws -> LicenceSigningKey {
    guard let data = FileManager.default.contents(atPath: path),
          let fields = try? JSONDecoder().decode([String: String].self, from: data),
          let id = fields["key_id"], let secret = fields["private_key"]
    else { throw ForgeError(.signing, message: "Cannot read a signing key from \(path)") }
    return try LicenceSigningKey(id: id, base64PrivateKey: secret)
}
